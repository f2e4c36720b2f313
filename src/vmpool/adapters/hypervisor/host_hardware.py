"""A host's hypervisor as its libvirt describes it (docs/hardware.md): its driver, its
machine types, and its features, read from its capabilities and domain capabilities XML.
Pure functions of the XML, so that recorded capabilities of drivers the lab does not run
(Xen, bhyve, Cloud Hypervisor, ...) test them as well as a live host does."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

from vmpool.domain.hardware import HostHardware
from vmpool.domain.host_uri import driver_of
from vmpool.domain.hypervisor_features import host_features


def _parse(text: str | None) -> ET.Element | None:
    if not text:
        return None
    try:
        return ET.fromstring(text)
    except ET.ParseError:
        return None


def guest_arches(caps: ET.Element, arch: str) -> Iterator[ET.Element]:
    """The `<guest><arch>` elements of its capabilities for `arch` (its domain types and
    machine types are listed there, one `<guest>` per OS type)."""
    for guest in caps.findall("guest"):
        guest_arch = guest.find("arch")
        if guest_arch is not None and guest_arch.get("name") == arch:
            yield guest_arch


def domain_types_of(caps: ET.Element, arch: str) -> list[str]:
    """The domain types (kvm, qemu, xen, ...) its capabilities list for `arch`, in order."""
    return [
        d.get("type", "") for g in guest_arches(caps, arch) for d in g.findall("domain")
        if d.get("type")
    ]  # fmt: skip


def domcaps_virttype(caps_xml: str, arch: str) -> str | None:
    """The domain type to ask domain capabilities for: kvm where the host has it, else the
    first its capabilities list for `arch` (qemu, xen, bhyve, ...)."""
    caps = _parse(caps_xml)
    if caps is None:
        return None
    kinds = domain_types_of(caps, arch)
    if "kvm" in kinds:
        return "kvm"
    return kinds[0] if kinds else None


def machines_of(caps: ET.Element, arch: str) -> tuple[str, ...]:
    """Every machine type (and alias) its capabilities list for `arch`, each once, sorted."""
    names: set[str] = set()
    for guest_arch in guest_arches(caps, arch):
        for m in guest_arch.iter("machine"):
            if m.text:
                names.add(m.text.strip())
            if m.get("canonical"):
                names.add(str(m.get("canonical")))
    return tuple(sorted(names))


def live_migration_reported(caps: ET.Element) -> bool | None:
    """Whether its capabilities offer live migration (`<migration_features><live/>`): None
    when they have no `<migration_features>` at all (the driver's row decides)."""
    mf = caps.find("host/migration_features")
    if mf is None:
        return None
    return mf.find("live") is not None


def tpm_emulator_offered(dcaps: ET.Element | None) -> bool:
    """Whether its domain capabilities offer an emulated TPM 2.0: `<tpm supported='yes'>`
    with the `emulator` backend model and, where listed, backend version 2.0."""
    if dcaps is None:
        return False
    tpm = dcaps.find("devices/tpm")
    if tpm is None or tpm.get("supported") != "yes":
        return False

    def values(name: str) -> set[str] | None:
        enum = tpm.find(f"enum[@name='{name}']")
        return None if enum is None else {v.text or "" for v in enum.findall("value")}

    backends = values("backendModel")
    versions = values("backendVersion")  # libvirt 8.x on; older ones do not list it
    return (
        backends is not None and "emulator" in backends and (versions is None or "2.0" in versions)
    )


def hypervisor_hardware(
    uri: str, caps_xml: str, domcaps_xml: str | None, arch: str
) -> HostHardware:
    """Driver, machine types and features of a host, from its capabilities and domain
    capabilities (None: the driver has no domain capabilities, as the test driver)."""
    driver = driver_of(uri)
    caps = _parse(caps_xml)
    dcaps = _parse(domcaps_xml)
    machine = None
    if dcaps is not None:
        text = dcaps.findtext("machine")
        machine = text.strip() if text else None
    return HostHardware(
        driver=driver,
        machine=machine,
        machines=machines_of(caps, arch) if caps is not None else (),
        features=host_features(
            driver,
            live_migration_reported(caps) if caps is not None else None,
            tpm_emulator_offered(dcaps),
        ),
    )


def domcaps_traits(domcaps_xml: str | None, virttype: str | None, hw: HostHardware) -> set[str]:
    """Host features as placement traits: `tpm` (domain capabilities offer a TPM device),
    `sgx` (it has SGX EPC), `kvm` (hardware virtualization)."""
    traits: set[str] = set()
    root = _parse(domcaps_xml) if domcaps_xml else None
    if root is not None and root.find("devices/tpm[@supported='yes']") is not None:
        traits.add("tpm")
    if hw.sgx_epc_mib > 0:
        traits.add("sgx")
    if virttype == "kvm":
        traits.add("kvm")
    return traits
