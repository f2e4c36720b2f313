"""Hypervisors beyond KVM and the vTPM (docs/hardware.md): each host's driver, machine
types and features, read from recorded capabilities XML (the lab's QEMU 7.2 / libvirt 9.0
host; Xen, bhyve and Cloud Hypervisor written after libvirt's own test data), the placement
filter and the 409 the services raise."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.unit.test_domain_xml import spec
from tests.unit.test_placement import POLICY, host
from vmpool.adapters.hypervisor.domain_xml import build_domain_xml, cdrom_bus
from vmpool.adapters.hypervisor.host_hardware import (
    domcaps_virttype,
    hypervisor_hardware,
    tpm_emulator_offered,
)
from vmpool.domain.hardware import HardwareRequest, HostHardware
from vmpool.domain.hypervisor_features import (
    DRIVER_FEATURES,
    HOTPLUG,
    LIVE_MIGRATION,
    SNAPSHOTS,
    TPM_EMULATOR,
    host_features,
    placement_reason,
    require_feature,
)
from vmpool.domain.model import PlacementRequirements
from vmpool.domain.placement import place
from vmpool.errors import Conflict

FIXTURES = Path(__file__).parent / "fixtures" / "hypervisors"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def read(uri: str, caps: str, domcaps: str | None) -> HostHardware:
    caps_xml = fixture(caps)
    return hypervisor_hardware(uri, caps_xml, fixture(domcaps) if domcaps else None, "x86_64")


def test_the_lab_qemu_host_has_every_feature_and_its_machine_types() -> None:
    hw = read("qemu+unix:///system?socket=/x", "qemu-9.0-caps.xml", "qemu-9.0-domcaps.xml")
    assert hw.driver == "qemu"
    assert hw.machine == "pc-i440fx-7.2"  # the domain capabilities' default
    assert {"pc", "q35", "pc-i440fx-7.2", "pc-q35-7.2"} <= set(hw.machines)
    assert hw.features == {LIVE_MIGRATION, SNAPSHOTS, HOTPLUG, TPM_EMULATOR}


def test_a_qemu_host_without_swtpm_offers_no_tpm() -> None:
    # libvirt lists the emulator backend only when it finds swtpm.
    domcaps = fixture("qemu-9.0-domcaps.xml").replace("<value>emulator</value>", "")
    dcaps = ET.fromstring(domcaps)
    assert not tpm_emulator_offered(dcaps)
    hw = hypervisor_hardware("qemu:///system", fixture("qemu-9.0-caps.xml"), domcaps, "x86_64")
    assert TPM_EMULATOR not in hw.features and LIVE_MIGRATION in hw.features
    only_12 = fixture("qemu-9.0-domcaps.xml").replace("<value>2.0</value>", "")
    assert not tpm_emulator_offered(ET.fromstring(only_12))  # a TPM 1.2 only
    unsupported = fixture("qemu-9.0-domcaps.xml").replace(
        "<tpm supported='yes'>", "<tpm supported='no'>"
    )
    assert not tpm_emulator_offered(ET.fromstring(unsupported))


def test_xen_migrates_live_but_takes_no_snapshots_and_has_no_tpm() -> None:
    hw = read("xen+ssh://root@xen1/system", "xen-caps.xml", "xen-domcaps.xml")
    assert hw.driver == "xen"
    assert hw.machine == "xenfv" and set(hw.machines) == {"xenfv", "xenpv"}
    assert hw.features == {LIVE_MIGRATION, HOTPLUG}


def test_bhyve_has_no_machine_type_and_none_of_the_features() -> None:
    hw = read("bhyve:///system", "bhyve-caps.xml", "bhyve-domcaps.xml")
    assert hw.driver == "bhyve" and hw.machine is None and hw.machines == ()
    assert hw.features == frozenset()
    assert domcaps_virttype(fixture("bhyve-caps.xml"), "x86_64") == "bhyve"


def test_cloud_hypervisor_without_domain_capabilities() -> None:
    hw = read("ch:///system", "ch-caps.xml", None)
    assert hw.driver == "ch" and hw.machine is None and hw.features == frozenset()
    assert domcaps_virttype(fixture("ch-caps.xml"), "x86_64") == "kvm"


def test_the_test_driver_as_recorded() -> None:
    hw = read("test:///default", "test-caps.xml", None)  # it has no domain capabilities
    assert hw.driver == "test"
    assert hw.features == {SNAPSHOTS, HOTPLUG}


def test_capabilities_that_deny_live_migration_win_over_the_driver_row() -> None:
    assert LIVE_MIGRATION not in host_features("qemu", False, False)
    assert LIVE_MIGRATION in host_features("qemu", None, False)  # not said: the row decides
    assert host_features("bhyve", True, False) == frozenset()  # reported, not implemented
    assert host_features("unknown-driver", True, True) == {TPM_EMULATOR}


def test_unreadable_xml_gives_the_driver_and_nothing_else() -> None:
    hw = hypervisor_hardware("xen:///system", "<capabilities", "not xml", "x86_64")
    assert hw.driver == "xen" and hw.machine is None and hw.machines == ()
    assert hw.features == DRIVER_FEATURES["xen"]


# --- placement ----------------------------------------------------------------------------

TPM_HOST = HostHardware(driver="qemu", features=frozenset({LIVE_MIGRATION, TPM_EMULATOR}),
                        machine="pc-i440fx-7.2", machines=("pc", "pc-i440fx-7.2"))  # fmt: skip
PLAIN_QEMU = HostHardware(driver="qemu", features=frozenset({LIVE_MIGRATION, SNAPSHOTS}),
                          machine="pc-i440fx-8.2", machines=("pc", "pc-i440fx-8.2"))  # fmt: skip
BHYVE = HostHardware(driver="bhyve")


def request(**hw: object) -> PlacementRequirements:
    return PlacementRequirements(1, 512, hardware=HardwareRequest(**hw))  # type: ignore[arg-type]


def test_a_tpm_vm_goes_only_where_a_tpm_can_be_emulated() -> None:
    hosts = [host("a", hardware=PLAIN_QEMU), host("b", hardware=TPM_HOST),
             host("c", hardware=BHYVE)]  # fmt: skip
    result = place(hosts, request(tpm=True), POLICY)
    assert result.host is not None and result.host.name == "b"
    refused = place([hosts[0], hosts[2]], request(tpm=True), POLICY)
    assert refused.host is None
    text = refused.explanation
    assert "this host's hypervisor does not support a TPM (qemu" in text
    assert "(bhyve" in text


def test_a_vm_keeps_its_machine_type_a_target_must_offer_it() -> None:
    hosts = [host("old", hardware=PLAIN_QEMU), host("new", hardware=TPM_HOST)]
    chosen = place(hosts, request(machine="pc-i440fx-7.2"), POLICY).host
    assert chosen is not None and chosen.name == "new"
    refused = place([hosts[0]], request(machine="pc-i440fx-7.2"), POLICY)
    assert refused.host is None
    assert "offers no machine type pc-i440fx-7.2" in refused.explanation
    # A host whose inventory lists no machine types (not read yet) is not refused for it.
    assert placement_reason(host("x"), request(machine="pc-i440fx-7.2")) is None
    assert placement_reason(hosts[0], request()) is None


# --- the 409 of the services ----------------------------------------------------------------


def test_require_feature_names_the_driver_and_what_is_missing() -> None:
    require_feature(TPM_HOST, LIVE_MIGRATION, "migrate vm web")  # fine
    with pytest.raises(Conflict) as caught:
        require_feature(BHYVE, SNAPSHOTS, "snapshot vm web", host="bsd1")
    err = caught.value
    assert err.status == 409
    assert "this host's hypervisor (bhyve) does not support snapshots" in err.message
    assert err.details == {"feature": SNAPSHOTS, "driver": "bhyve", "host": "bsd1"}
    with pytest.raises(Conflict, match=r"\(xen\) does not support snapshots"):
        require_feature(HostHardware(driver="xen", features=DRIVER_FEATURES["xen"]),
                        SNAPSHOTS, "snapshot")  # fmt: skip


def test_a_host_whose_features_were_never_read_has_its_driver_row() -> None:
    # Hosts inventoried before vmpool read features store none: a QEMU one keeps working.
    require_feature(HostHardware(), LIVE_MIGRATION, "migrate")
    require_feature(HostHardware(), HOTPLUG, "resize")
    with pytest.raises(Conflict):
        require_feature(HostHardware(driver="ch"), LIVE_MIGRATION, "migrate")


# --- the domain XML -------------------------------------------------------------------------


def test_a_tpm_vm_gets_an_emulated_tpm_2_0() -> None:
    root = ET.fromstring(build_domain_xml(spec(tpm=True)))
    tpm = root.find("devices/tpm")
    assert tpm is not None and tpm.get("model") == "tpm-crb"
    backend = tpm.find("backend")
    assert backend is not None
    assert (backend.get("type"), backend.get("version")) == ("emulator", "2.0")
    assert ET.fromstring(build_domain_xml(spec())).find("devices/tpm") is None


def test_the_machine_type_is_the_recorded_one_or_libvirts_default() -> None:
    typ = ET.fromstring(build_domain_xml(spec(machine="pc-q35-7.2"))).find("os/type")
    assert typ is not None and typ.get("machine") == "pc-q35-7.2"
    typ = ET.fromstring(build_domain_xml(spec())).find("os/type")
    assert typ is not None and "machine" not in typ.attrib  # libvirt picks its default


def test_the_seed_cdrom_is_on_sata_for_q35_ide_otherwise() -> None:
    assert cdrom_bus("pc-q35-7.2") == "sata" and cdrom_bus("q35") == "sata"
    assert cdrom_bus("pc-i440fx-7.2") == "ide" and cdrom_bus(None) == "ide"
    root = ET.fromstring(build_domain_xml(spec(machine="q35", seed_path="/v/seed.iso")))
    target = root.find("devices/disk[@device='cdrom']/target")
    assert target is not None and target.get("bus") == "sata"
