import xml.etree.ElementTree as ET

import pytest

from vmpool.adapters.hypervisor.domain_xml import build_domain_xml, vmpool_vm_id
from vmpool.domain.model import DomainType
from vmpool.domain.ports import BootImage, DomainSpec
from vmpool.errors import InvalidInput


def spec(**kw: object) -> DomainSpec:
    base: dict[str, object] = dict(
        vm_id=7, uuid="0b7c7f7e-1111-4222-8333-444455556666", name="web-1", vcpus=2,
        memory_mib=256, domain_type=DomainType.QEMU,
    )  # fmt: skip
    base.update(kw)
    return DomainSpec(**base)  # type: ignore[arg-type]


def test_domain_xml_has_the_requested_shape() -> None:
    root = ET.fromstring(build_domain_xml(spec()))
    assert root.get("type") == "qemu"
    assert root.findtext("name") == "web-1"
    assert root.findtext("vcpu") == "2"
    assert root.find("memory").get("unit") == "MiB"  # type: ignore[union-attr]
    assert root.find("os/kernel") is None  # no image: firmware only


def test_boot_image_and_metadata_round_trip() -> None:
    boot = BootImage(kernel="/img/vmlinuz", initrd="/img/initrd.img", cmdline="console=ttyS0")
    xml = build_domain_xml(spec(boot=boot, extra_cmdline=("vmpool.dirty_mib=10",)))
    root = ET.fromstring(xml)
    assert root.findtext("os/kernel") == "/img/vmlinuz"
    assert root.findtext("os/cmdline") == "console=ttyS0 vmpool.dirty_mib=10"
    assert vmpool_vm_id(xml) == 7


def test_hostile_values_cannot_change_the_document() -> None:
    # Paths come from the image catalog, but even a hostile one stays one text node.
    boot = BootImage(kernel="/x'/><devices><disk/></devices><a b='", initrd="/i", cmdline="&<>")
    root = ET.fromstring(build_domain_xml(spec(boot=boot)))
    assert root.find("os/kernel").text.startswith("/x'/>")  # type: ignore[union-attr]
    assert root.findall("devices/disk") == []


@pytest.mark.parametrize("name", ["<evil>", "a'b", "x" * 100])
def test_bad_names_never_reach_xml(name: str) -> None:
    with pytest.raises(InvalidInput):
        build_domain_xml(spec(name=name))


def test_foreign_domain_has_no_vm_id() -> None:
    assert vmpool_vm_id("<domain type='kvm'><name>x</name></domain>") is None
    assert vmpool_vm_id("not xml") is None


def test_hot_plug_maxima_shape_vcpu_and_memory() -> None:
    root = ET.fromstring(build_domain_xml(spec(vcpus=1, memory_mib=128, max_vcpus=3,
                                               max_memory_mib=256)))  # fmt: skip
    vcpu = root.find("vcpu")
    assert vcpu is not None and vcpu.text == "3" and vcpu.get("current") == "1"
    assert vcpu.get("placement") == "static"
    assert root.findtext("memory") == "256" and root.findtext("currentMemory") == "128"
    assert root.find("devices/memballoon").get("model") == "virtio"  # type: ignore[union-attr]


def test_without_maxima_the_sizes_are_fixed() -> None:
    root = ET.fromstring(build_domain_xml(spec(vcpus=2, memory_mib=256)))
    vcpu = root.find("vcpu")
    assert vcpu is not None and vcpu.text == "2" and vcpu.get("current") is None
    assert root.findtext("memory") == "256" and root.findtext("currentMemory") == "256"
    # A maximum below the size (never recorded so) cannot shrink the domain.
    root = ET.fromstring(build_domain_xml(spec(vcpus=2, max_vcpus=1, max_memory_mib=64)))
    assert root.findtext("vcpu") == "2" and root.findtext("memory") == "256"
