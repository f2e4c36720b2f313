"""The libvirt adapter against real lab hosts: inventory, lifecycle, error translation."""

from __future__ import annotations

import uuid

import libvirt
import pytest

from tests.integration.conftest import wipe_lab_domains
from vmpool.adapters.hypervisor.libvirt_adapter import LibvirtConnector
from vmpool.domain.model import DomainType
from vmpool.domain.ports import DomainSpec, PowerState
from vmpool.errors import DomainMissing, HostUnreachable, HypervisorOperationInvalid
from vmpool.lab.hosts import LabHost

pytestmark = pytest.mark.lab


@pytest.fixture
def connector(lab: list[LabHost]) -> LibvirtConnector:
    c = LibvirtConnector(connect_timeout_s=5)
    yield c  # type: ignore[misc]
    c.close()
    wipe_lab_domains(lab)


def _spec(name: str) -> DomainSpec:
    return DomainSpec(
        vm_id=1, uuid=str(uuid.uuid4()), name=name, vcpus=1, memory_mib=64,
        domain_type=DomainType.QEMU,
    )  # fmt: skip


def test_inventory_of_each_lab_host_is_its_own(
    connector: LibvirtConnector, lab: list[LabHost]
) -> None:
    invs = [connector.connect(h.uri).inventory() for h in lab]
    assert [i.host_uuid for i in invs] == [h.host_uuid for h in lab]
    assert len({i.hostname for i in invs}) == len(lab)
    for inv in invs:
        assert DomainType.QEMU in inv.domain_types
        assert inv.cpus >= 1 and inv.memory_mib > 0 and inv.arch == "x86_64"


def test_define_start_destroy_undefine(connector: LibvirtConnector, lab: list[LabHost]) -> None:
    hv = connector.connect(lab[0].uri)
    spec = _spec("adapter-1")
    hv.define(spec)
    assert hv.domain(spec.uuid).state == PowerState.STOPPED
    hv.start(spec.uuid)
    info = hv.domain(spec.uuid)
    assert info.state == PowerState.RUNNING and info.name == "adapter-1"
    assert info.vmpool_vm_id == 1
    assert spec.uuid in {d.uuid for d in hv.list_domains()}
    hv.destroy(spec.uuid)
    hv.destroy(spec.uuid)  # destroying a stopped domain is what was asked: no error
    with pytest.raises(HypervisorOperationInvalid):
        hv.shutdown(spec.uuid)
    hv.undefine(spec.uuid)
    hv.undefine(spec.uuid)  # already gone: fine
    with pytest.raises(DomainMissing) as err:
        hv.domain(spec.uuid)
    assert err.value.status == 404


def test_a_domain_vanishing_mid_scan_is_skipped(
    connector: LibvirtConnector, lab: list[LabHost]
) -> None:
    hv = connector.connect(lab[0].uri)
    raw = libvirt.open(lab[0].uri)
    try:
        keep = _spec("scan-keep")
        hv.define(keep)
        transient = raw.createXML(
            f"<domain type='qemu'><name>scan-vanish</name><uuid>{uuid.uuid4()}</uuid>"
            "<memory unit='MiB'>32</memory><os><type arch='x86_64' machine='pc'>hvm</type></os>"
            "</domain>"
        )
        listed = raw.listAllDomains(0)
        transient.destroy()  # a transient domain is gone once destroyed
        infos = hv.describe(listed)
        assert [i.name for i in infos] == ["scan-keep"]
    finally:
        raw.close()


def test_unreachable_hosts_are_temporary_errors() -> None:
    c = LibvirtConnector(connect_timeout_s=5)
    with pytest.raises(HostUnreachable) as err:
        c.connect("qemu+tcp://127.0.0.1:9/system")
    assert err.value.temporary and err.value.status == 503


def test_a_broken_connection_is_reopened(connector: LibvirtConnector, lab: list[LabHost]) -> None:
    hv = connector.connect(lab[0].uri)
    hv._conn.close()
    again = connector.connect(lab[0].uri)
    assert again.inventory().host_uuid == lab[0].host_uuid
