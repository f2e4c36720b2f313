import libvirt
import pytest

from vmpool.adapters.hypervisor.errors import translate
from vmpool.errors import (
    AlreadyExists,
    DomainMissing,
    HostUnreachable,
    HypervisorFailure,
    HypervisorOperationInvalid,
    InvalidInput,
    VmpoolError,
)


def _err(code: int, domain: int, msg: str = "boom") -> libvirt.libvirtError:
    exc = libvirt.libvirtError(msg)
    exc.err = (code, domain, msg, 2, None, None, None, 0, 0)
    return exc


@pytest.mark.parametrize(
    ("code", "domain", "expected"),
    [
        (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_FROM_QEMU, DomainMissing),
        (libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_QEMU, HypervisorOperationInvalid),
        (libvirt.VIR_ERR_DOM_EXIST, libvirt.VIR_FROM_QEMU, AlreadyExists),
        (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_RPC, HostUnreachable),
        (libvirt.VIR_ERR_RPC, libvirt.VIR_FROM_RPC, HostUnreachable),
        (libvirt.VIR_ERR_INVALID_CONN, libvirt.VIR_FROM_NONE, HostUnreachable),
        # The host answered with its own system error (failed to create a directory).
        (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_NONE, HypervisorFailure),
        (libvirt.VIR_ERR_XML_ERROR, libvirt.VIR_FROM_DOMAIN, InvalidInput),
        (libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_FROM_QEMU, HypervisorFailure),
    ],
)
def test_libvirt_errors_become_vmpool_errors(
    code: int, domain: int, expected: type[VmpoolError]
) -> None:
    got = translate(_err(code, domain), "qemu+tcp://h/system")
    assert type(got) is expected
    assert got.details["uri"] == "qemu+tcp://h/system"


def test_only_unreachable_is_temporary() -> None:
    assert translate(_err(libvirt.VIR_ERR_RPC, libvirt.VIR_FROM_RPC), "u").temporary
    assert not translate(_err(libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_FROM_QEMU), "u").temporary
