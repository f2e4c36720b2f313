"""Translation of libvirtError into vmpool errors, in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import libvirt

from vmpool.errors import (
    AlreadyExists,
    DomainMissing,
    HostUnreachable,
    HypervisorFailure,
    HypervisorOperationInvalid,
    InvalidInput,
    VmpoolError,
)

T = TypeVar("T")

_MISSING = {libvirt.VIR_ERR_NO_DOMAIN}
_INVALID = {libvirt.VIR_ERR_OPERATION_INVALID}
_EXISTS = {libvirt.VIR_ERR_DOM_EXIST}
_UNREACHABLE_CODES = {
    libvirt.VIR_ERR_NO_CONNECT,
    libvirt.VIR_ERR_INVALID_CONN,
    libvirt.VIR_ERR_RPC,
    libvirt.VIR_ERR_AUTH_FAILED,
    libvirt.VIR_ERR_AUTH_UNAVAILABLE,
}
_UNREACHABLE_DOMAINS = {libvirt.VIR_FROM_RPC, libvirt.VIR_FROM_REMOTE}
_BAD_INPUT = {
    libvirt.VIR_ERR_XML_ERROR,
    libvirt.VIR_ERR_INVALID_ARG,
    libvirt.VIR_ERR_CONFIG_UNSUPPORTED,
}


def translate(exc: libvirt.libvirtError, uri: str) -> VmpoolError:
    code = exc.get_error_code()
    domain = exc.get_error_domain()
    message = exc.get_error_message() or str(exc)
    if code in _MISSING:
        return DomainMissing(f"no such domain on {uri}", uri=uri, libvirt_message=message)
    if code in _INVALID:
        return HypervisorOperationInvalid(message, uri=uri)
    if code in _EXISTS or (
        code == libvirt.VIR_ERR_OPERATION_FAILED and "already exists" in message
    ):
        return AlreadyExists(message, uri=uri)
    if code in _UNREACHABLE_CODES or domain in _UNREACHABLE_DOMAINS:
        return HostUnreachable(f"host {uri} cannot be reached: {message}", uri=uri)
    # A system error of the connection itself comes from the RPC layer (covered above).
    # One relayed from the host (VIR_FROM_NONE, e.g. "failed to create directory") means
    # the host answered: it failed, it is not unreachable.
    if code in _BAD_INPUT:
        return InvalidInput(message, uri=uri)
    return HypervisorFailure(message, uri=uri, libvirt_code=code)


@contextmanager
def translated(uri: str, on_unreachable: Callable[[], None] | None = None) -> Iterator[None]:
    try:
        yield
    except libvirt.libvirtError as exc:
        err = translate(exc, uri)
        if isinstance(err, HostUnreachable) and on_unreachable is not None:
            on_unreachable()
        raise err from exc
