"""PCI passthrough and SGX (docs/hardware.md), without I/O: the inventory parsed
from recorded libvirt XML (tests/unit/data/passthrough, shaped as libvirt's own test data:
tests/nodedevschemadata/pci_*.xml, tests/domaincapsdata with <sgx>), placement's filters and
explanations, the migration rule, and the domain XML against golden files."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from vmpool.adapters.hypervisor.domain_xml import build_domain_xml
from vmpool.adapters.hypervisor.passthrough import (
    parse_pci_device,
    parse_pci_devices,
    parse_sgx_epc_mib,
)
from vmpool.domain.hardware import (
    DeviceRequest,
    HardwareRequest,
    HardwareUse,
    HostHardware,
    PciDevice,
)
from vmpool.domain.host import HostState
from vmpool.domain.model import (
    AllocationPolicy,
    DomainType,
    PlacementRequirements,
    Resources,
    make_placement_host,
)
from vmpool.domain.passthrough import (
    check_pci_address,
    devices_reason,
    migration_blocker,
    pci_address_parts,
    sgx_reason,
)
from vmpool.domain.placement import place
from vmpool.domain.ports import DomainSpec
from vmpool.errors import InvalidInput

DATA = Path(__file__).parent / "data" / "passthrough"
POLICY = AllocationPolicy(reserved_memory_mib=0)


def _xml(name: str) -> str:
    return (DATA / name).read_text()


# --- inventory ------------------------------------------------------------------------


def test_a_gpu_bound_to_vfio_is_parsed_with_its_group_node_and_driver() -> None:
    d = parse_pci_device(_xml("pci_0000_3b_00_0_a100.xml"))
    assert d == PciDevice(
        address="0000:3b:00.0", vendor_id="0x10de", product_id="0x20b0",
        vendor="NVIDIA Corporation", product="GA100 [A100 SXM4 40GB]", iommu_group=42,
        numa_node=1, driver="vfio-pci",
    )  # fmt: skip


def test_a_gpu_on_its_host_driver_and_an_unknown_numa_node() -> None:
    d = parse_pci_device(_xml("pci_0000_af_00_0_a100_nvidia.xml"))
    assert d is not None
    assert (d.address, d.driver, d.numa_node, d.iommu_group) == ("0000:af:00.0", "nvidia", None, 97)


def test_a_nic_is_a_device_and_a_bridge_or_a_net_device_is_not() -> None:
    nic = parse_pci_device(_xml("pci_0000_42_00_0_nic.xml"))
    assert nic is not None and (nic.address, nic.vendor_id, nic.product_id) == (
        "0000:42:00.0", "0x15b3", "0xa2d6",
    )  # fmt: skip
    assert parse_pci_device(_xml("pci_0000_00_1c_0_bridge.xml")) is None
    # A host bridge (class 0x0600, as this machine's lab hosts list one) has no bridge
    # capability, but is no more assignable.
    assert parse_pci_device(_xml("pci_0000_00_00_0_host_bridge.xml")) is None
    assert parse_pci_device(_xml("net_eth0.xml")) is None


def test_a_listing_is_sorted_by_address_without_bridges_or_duplicates() -> None:
    names = sorted(p.name for p in DATA.glob("*.xml") if not p.name.startswith("domcaps"))
    xmls = [_xml(n) for n in names]
    found = parse_pci_devices(xmls + xmls)
    assert [d.address for d in found] == ["0000:3b:00.0", "0000:42:00.0", "0000:af:00.0"]


@pytest.mark.parametrize(
    "xml",
    [
        "not xml",
        "<device><capability type='pci'><domain>0</domain></capability></device>",
        # out of range, or ids that are not hex
        "<device><capability type='pci'><domain>0</domain><bus>999</bus><slot>0</slot>"
        "<function>0</function><product id='0x1'/><vendor id='0x2'/></capability></device>",
        "<device><capability type='pci'><domain>0</domain><bus>1</bus><slot>0</slot>"
        "<function>0</function><product id='zz'/><vendor id='0x2'/></capability></device>",
        "<device><capability type='pci'><domain>0</domain><bus>1</bus><slot>0</slot>"
        "<function>9</function><product id='0x1'/><vendor id='0x2'/></capability></device>",
    ],
)
def test_broken_node_device_xml_is_left_out(xml: str) -> None:
    assert parse_pci_device(xml) is None


def test_sgx_epc_comes_from_the_domain_capabilities() -> None:
    assert parse_sgx_epc_mib(_xml("domcaps_sgx.xml")) == 512
    assert parse_sgx_epc_mib(_xml("domcaps_no_sgx.xml")) == 0
    assert parse_sgx_epc_mib("") == 0
    # Sections only (no section_size): their sum.
    sections = (
        "<domainCapabilities><features><sgx supported='yes'><sections>"
        "<section node='0' size='65536' unit='KiB'/><section node='1' size='65536' unit='KiB'/>"
        "</sections></sgx></features></domainCapabilities>"
    )
    assert parse_sgx_epc_mib(sections) == 128


def test_pci_addresses_are_checked_and_split_for_the_domain_xml() -> None:
    assert check_pci_address("0000:3B:00.0") == "0000:3b:00.0"
    assert pci_address_parts("0000:3b:1f.7") == ("0x0000", "0x3b", "0x1f", "0x7")
    for bad in ("3b:00.0", "0000:3b:00.8", "0000:3b:20.0", "0000:3b:00.0/../x", "x" * 99):
        with pytest.raises(InvalidInput):
            check_pci_address(bad)


# --- placement ------------------------------------------------------------------------


def _host(name: str, free: dict[str, int] | None = None, epc: int = 0, epc_used: int = 0):  # type: ignore[no-untyped-def]
    return make_placement_host(
        id=abs(hash(name)) % 10_000, name=name, state=HostState.UP,
        physical=Resources(8, 16384, 100), policy=POLICY, shared_use=Resources(0, 0, 0),
        hardware=HostHardware(sgx_epc_mib=epc),
        hardware_use=HardwareUse(sgx_epc_mib=epc_used, free_devices=free or {}),
    )  # fmt: skip


def _req(devices: tuple[DeviceRequest, ...] = (), sgx: int = 0) -> PlacementRequirements:
    return PlacementRequirements(
        vcpus=1, memory_mib=256, hardware=HardwareRequest(devices=devices, sgx_epc_mib=sgx)
    )


def test_devices_filter_needs_enough_free_devices_of_each_alias() -> None:
    one_gpu = (DeviceRequest("gpu:a100", 1),)
    req = _req((DeviceRequest("gpu:a100", 2), DeviceRequest("nic:cx6", 1)))
    assert devices_reason(_host("a", {"gpu:a100": 1}), _req(one_gpu)) is None
    assert devices_reason(_host("a", {"gpu:a100": 1}), req) == "no free gpu:a100 (has 1 of 2)"
    assert devices_reason(_host("b", {"gpu:a100": 2}), req) == "no free nic:cx6 (has 0 of 1)"
    assert devices_reason(_host("c", {"gpu:a100": 2, "nic:cx6": 1}), req) is None
    assert devices_reason(_host("d"), _req()) is None


def test_sgx_filter_counts_what_the_vms_on_the_host_took() -> None:
    assert sgx_reason(_host("a"), _req(sgx=0)) is None
    assert sgx_reason(_host("a"), _req(sgx=64)) == "no SGX (asked 64 MiB of EPC)"
    assert sgx_reason(_host("b", epc=512, epc_used=480), _req(sgx=64)) == (
        "not enough SGX EPC (asked 64 MiB, has 32 of 512 MiB free)"
    )
    assert sgx_reason(_host("c", epc=512, epc_used=448), _req(sgx=64)) is None


def test_placement_chooses_the_host_with_the_devices_or_explains() -> None:
    gpu = (DeviceRequest("gpu:a100", 1),)
    hosts = [_host("plain"), _host("gpu", {"gpu:a100": 1}), _host("taken", {"gpu:a100": 0})]
    assert place(hosts, _req(gpu), POLICY).host.name == "gpu"  # type: ignore[union-attr]
    refused = place([hosts[0], hosts[2]], _req(gpu), POLICY)
    assert refused.host is None
    assert "2 hosts: no free gpu:a100 (has 0 of 1)" in refused.explanation
    sgx = place(hosts, _req(sgx=64), POLICY)
    assert sgx.host is None and "3 hosts: no SGX (asked 64 MiB of EPC)" in sgx.explanation


# --- migration ------------------------------------------------------------------------


def test_passthrough_devices_and_sgx_keep_a_vm_on_its_host() -> None:
    assert migration_blocker("v", (), 0) is None
    why = migration_blocker("v", (DeviceRequest("gpu:a100", 2),), 0)
    assert why is not None and "VM v has passthrough devices (2 gpu:a100)" in why
    why = migration_blocker("v", (), 64)
    assert why is not None and "64 MiB of SGX EPC" in why


# --- domain XML (golden) --------------------------------------------------------------


def _spec(**kw: object) -> DomainSpec:
    base: dict[str, object] = dict(
        vm_id=7, uuid="0b7c7f7e-1111-4222-8333-444455556666", name="gpu-1", vcpus=2,
        memory_mib=256, domain_type=DomainType.KVM,
    )  # fmt: skip
    base.update(kw)
    return DomainSpec(**base)  # type: ignore[arg-type]


def _golden(name: str, xml: str) -> None:
    """The domain XML, pretty-printed, equals the golden file (VMPOOL_UPDATE_GOLDEN=1
    rewrites it; review the diff)."""
    root = ET.fromstring(xml)
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode") + "\n"
    path = DATA / name
    if os.environ.get("VMPOOL_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_golden_domain_with_two_gpus() -> None:
    xml = build_domain_xml(_spec(hostdevs=("0000:3b:00.0", "0000:af:00.0")))
    _golden("golden_domain_hostdevs.xml", xml)
    sources = ET.fromstring(xml).findall("devices/hostdev/source/address")
    assert [s.get("bus") for s in sources] == ["0x3b", "0xaf"]


def test_golden_domain_with_sgx_epc() -> None:
    xml = build_domain_xml(_spec(sgx_epc_mib=64))
    _golden("golden_domain_sgx.xml", xml)
    root = ET.fromstring(xml)
    assert root.findtext("devices/memory[@model='sgx-epc']/target/size") == str(64 * 1024)
    assert root.find("cpu").get("mode") == "host-passthrough"  # type: ignore[union-attr]
    assert root.find("maxMemory") is None  # EPC is not hot-pluggable memory


def test_a_plain_domain_has_neither() -> None:
    root = ET.fromstring(build_domain_xml(_spec()))
    assert root.find("devices/hostdev") is None
    assert root.find("devices/memory") is None and root.find("cpu") is None


def test_a_hostile_address_never_reaches_the_xml() -> None:
    with pytest.raises(InvalidInput):
        build_domain_xml(_spec(hostdevs=("0000:3b:00.0'/><disk/>",)))
