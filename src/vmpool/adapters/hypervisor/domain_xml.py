"""Domain XML, built with ElementTree so that no value can change the document's shape."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from vmpool.domain.cpu_pinning import format_cpu_set, guest_cells
from vmpool.domain.disk import BOOT_TARGET, SEED_TARGET
from vmpool.domain.names import validate_name
from vmpool.domain.network import check_mac, validate_bridge
from vmpool.domain.passthrough import pci_address_parts
from vmpool.domain.ports import DomainSpec, NetworkSpec, NicSpec

VMPOOL_XMLNS = "https://vmpool.dev/xmlns/vm/1"
_METADATA_TAG = f"{{{VMPOOL_XMLNS}}}vm"
ET.register_namespace("vmpool", VMPOOL_XMLNS)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def build_domain_xml(spec: DomainSpec) -> str:
    validate_name(spec.name, "vm name")
    dom = ET.Element("domain", type=spec.domain_type.value)
    _sub(dom, "name", spec.name)
    _sub(dom, "uuid", spec.uuid)
    meta = _sub(dom, "metadata")
    _sub(meta, _METADATA_TAG, id=str(spec.vm_id))
    # Hot-plug: the domain is made with its maxima, and runs with its current sizes; the
    # memory between them is held back by the balloon (docs/lifecycle.md).
    max_memory = max(spec.max_memory_mib or 0, spec.memory_mib)
    max_vcpus = max(spec.max_vcpus or 0, spec.vcpus)
    _sub(dom, "memory", str(max_memory), unit="MiB")
    _sub(dom, "currentMemory", str(spec.memory_mib), unit="MiB")
    if max_vcpus > spec.vcpus:
        # libvirt makes vCPUs 1..max-1 hot-pluggable (its <vcpus> list) from `current`.
        _sub(dom, "vcpu", str(max_vcpus), placement="static", current=str(spec.vcpus))
    else:
        _sub(dom, "vcpu", str(spec.vcpus), placement="static")

    cpu_and_memory_tuning(dom, spec)

    os_el = _sub(dom, "os")
    # The machine type recorded at create (from its host's domain capabilities); none:
    # libvirt picks its default for the arch.
    machine = {"machine": spec.machine} if spec.machine else {}
    _sub(os_el, "type", "hvm", arch=spec.arch, **machine)
    if spec.boot is not None:
        _sub(os_el, "kernel", spec.boot.kernel)
        _sub(os_el, "initrd", spec.boot.initrd)
        cmdline = " ".join([spec.boot.cmdline, *spec.extra_cmdline]).strip()
        _sub(os_el, "cmdline", cmdline)
    elif spec.disk_path is not None:
        _sub(os_el, "boot", dev="hd")  # the firmware boots the disk (an image's overlay)
    features = _sub(dom, "features")
    _sub(features, "acpi")
    _sub(features, "apic")
    _sub(dom, "on_poweroff", "destroy")
    # A guest that reboots stays a running VM: vmpool's state follows the domain.
    _sub(dom, "on_reboot", "restart")
    _sub(dom, "on_crash", "destroy")

    devices = _sub(dom, "devices")
    if spec.disk_path is not None:
        disk = _sub(devices, "disk", type="file", device="disk")
        _sub(disk, "driver", name="qemu", type="qcow2", cache="none")
        _sub(disk, "source", file=spec.disk_path)
        _sub(disk, "target", dev=BOOT_TARGET, bus="virtio")
        _sub(disk, "serial", BOOT_TARGET)
    if spec.seed_path is not None:
        cdrom = _sub(devices, "disk", type="file", device="cdrom")
        _sub(cdrom, "driver", name="qemu", type="raw")
        _sub(cdrom, "source", file=spec.seed_path)
        _sub(cdrom, "target", dev=SEED_TARGET, bus=cdrom_bus(spec.machine))
        _sub(cdrom, "readonly")
    if spec.serial_log is not None:
        serial = _sub(devices, "serial", type="file")
        _sub(serial, "source", path=spec.serial_log, append="on")
        _sub(serial, "target", port="0")
        console = _sub(devices, "console", type="file")
        _sub(console, "source", path=spec.serial_log, append="on")
        _sub(console, "target", type="serial", port="0")
    for nic in spec.nics:
        devices.append(nic_element(nic))
    _add_passthrough(dom, devices, spec)
    if spec.tpm:
        devices.append(tpm_element())
    _sub(devices, "memballoon", model="virtio")
    return ET.tostring(dom, encoding="unicode")


def hostdev_element(address: str) -> ET.Element:
    """`<hostdev>` of a host PCI device (0000:3b:00.0), managed: libvirt detaches it from
    its host driver and binds it to vfio-pci when the domain starts, and gives it back
    after (docs/hardware.md)."""
    domain, bus, slot, function = pci_address_parts(address)
    el = ET.Element("hostdev", mode="subsystem", type="pci", managed="yes")
    source = _sub(el, "source")
    _sub(source, "address", domain=domain, bus=bus, slot=slot, function=function)
    return el


def sgx_epc_element(epc_mib: int) -> ET.Element:
    """The SGX EPC memory device (libvirt 8.10+): not hot-pluggable memory, so no
    <maxMemory> is needed beside it."""
    el = ET.Element("memory", model="sgx-epc")
    target = _sub(el, "target")
    _sub(target, "size", str(epc_mib * 1024), unit="KiB")
    return el


def _add_passthrough(dom: ET.Element, devices: ET.Element, spec: DomainSpec) -> None:
    """The VM's assigned PCI devices and its SGX EPC. A guest sees SGX only through its
    CPUID: an SGX VM's CPU is the host's (host-passthrough), unless its definition names
    a CPU already."""
    for address in spec.hostdevs:
        devices.append(hostdev_element(address))
    if spec.sgx_epc_mib > 0:
        devices.append(sgx_epc_element(spec.sgx_epc_mib))
        cpu = dom.find("cpu")
        if cpu is None:
            cpu = ET.Element("cpu")
            dom.insert(list(dom).index(dom.find("features")) + 1, cpu)  # type: ignore[arg-type]
        if cpu.get("mode") is None and cpu.find("model") is None:
            cpu.set("mode", "host-passthrough")
            cpu.set("check", "none")


def cpu_and_memory_tuning(dom: ET.Element, spec: DomainSpec) -> None:
    """Dedicated CPUs, huge pages and NUMA (docs/hardware.md): each vCPU pinned to its
    host CPU, the emulator threads to the shared CPUs, the memory from huge pages and from
    the host cells of its CPUs (strict), and a guest NUMA cell per host cell it spans."""
    if spec.vcpu_pins:
        cputune = _sub(dom, "cputune")
        for vcpu, cpu in enumerate(spec.vcpu_pins):
            _sub(cputune, "vcpupin", vcpu=str(vcpu), cpuset=str(int(cpu)))
        if spec.emulator_cpus:
            _sub(cputune, "emulatorpin", cpuset=format_cpu_set(spec.emulator_cpus))
    if spec.hugepage_kib is not None:
        backing = _sub(dom, "memoryBacking")
        pages = _sub(backing, "hugepages")
        _sub(pages, "page", size=str(int(spec.hugepage_kib)), unit="KiB")
    cells = (
        guest_cells(spec.vcpu_cells, spec.memory_mib, spec.hugepage_kib or 4)
        if spec.vcpu_cells
        else ()
    )
    if spec.numa_cells:
        numatune = _sub(dom, "numatune")
        _sub(numatune, "memory", mode="strict", nodeset=format_cpu_set(spec.numa_cells))
        if len(cells) > 1:
            for cell in cells:
                _sub(numatune, "memnode", cellid=str(cell.id), mode="strict",
                     nodeset=str(cell.host_cell))  # fmt: skip
    if len(cells) > 1:
        numa = _sub(_sub(dom, "cpu"), "numa")
        for cell in cells:
            _sub(numa, "cell", id=str(cell.id), cpus=format_cpu_set(cell.vcpus),
                 memory=str(cell.memory_mib), unit="MiB")  # fmt: skip


def cdrom_bus(machine: str | None) -> str:
    """The bus of the seed CD-ROM: IDE is built into i440fx (`pc`, libvirt's default), a q35
    machine has none (its CD-ROMs go on the AHCI controller: sata)."""
    return "sata" if machine is not None and "q35" in machine else "ide"


def tpm_element() -> ET.Element:
    """An emulated TPM 2.0 (swtpm, started by libvirt with the domain; its state is kept by
    the host and migrated in QEMU's migration stream: docs/hardware.md)."""
    el = ET.Element("tpm", model="tpm-crb")
    _sub(el, "backend", type="emulator", version="2.0")
    return el


def nic_element(nic: NicSpec) -> ET.Element:
    """`<interface>`: type bridge (a Linux bridge by name) or network (a libvirt network).
    The tap device's name is left to libvirt (vnetN), so that a migration's target picks a
    free one of its own."""
    check_mac(nic.mac)
    if nic.bridge is not None:
        el = ET.Element("interface", type="bridge")
        _sub(el, "mac", address=nic.mac)
        _sub(el, "source", bridge=validate_bridge(nic.bridge))
    else:
        assert nic.network is not None
        validate_name(nic.network.removeprefix("vmpool-"), "network name")
        el = ET.Element("interface", type="network")
        _sub(el, "mac", address=nic.mac)
        _sub(el, "source", network=nic.network)
    _sub(el, "model", type=nic.model)
    return el


def nic_xml(nic: NicSpec) -> str:
    return ET.tostring(nic_element(nic), encoding="unicode")


def has_nic(domain_xml: str, mac: str) -> bool:
    root = ET.fromstring(domain_xml)
    return any(m.get("address") == mac for m in root.findall("devices/interface/mac"))


def build_network_xml(spec: NetworkSpec) -> str:
    """A libvirt network of vmpool: isolated (no `<forward>`) or routed, on its own bridge,
    with the gateway addresses on the bridge, and no DHCP or DNS (vmpool hands out the
    addresses; no dnsmasq is started)."""
    net = ET.Element("network")
    _sub(net, "name", spec.name)
    if spec.routed:
        _sub(net, "forward", mode="route")
    _sub(net, "bridge", name=validate_bridge(spec.bridge), stp="on", delay="0")
    _sub(net, "dns", enable="no")
    if spec.ipv4_gateway is not None and spec.ipv4_prefix is not None:
        _sub(net, "ip", address=spec.ipv4_gateway, prefix=str(spec.ipv4_prefix))
    if spec.ipv6_gateway is not None and spec.ipv6_prefix is not None:
        _sub(net, "ip", family="ipv6", address=spec.ipv6_gateway, prefix=str(spec.ipv6_prefix))
    return ET.tostring(net, encoding="unicode")


def vmpool_vm_id(domain_xml: str) -> int | None:
    """The vmpool VM id stored in a domain's metadata, or None for a foreign domain."""
    try:
        root = ET.fromstring(domain_xml)
    except ET.ParseError:
        return None
    el = root.find(f"metadata/{_METADATA_TAG}")
    if el is None:
        return None
    try:
        return int(el.get("id", ""))
    except ValueError:
        return None


_UNIT_KIB = {"b": 1 / 1024, "bytes": 1 / 1024, "k": 1, "kib": 1, "m": 1024, "mib": 1024,
             "g": 1024**2, "gib": 1024**3}  # fmt: skip


def snapshot_sizes(snapshot_xml: str) -> tuple[int, int] | None:
    """The vCPUs and memory (MiB) of the domain a snapshot recorded (its `<domain>`: what a
    revert gives the VM back), or None if the XML does not say."""
    try:
        dom = ET.fromstring(snapshot_xml).find("domain")
    except ET.ParseError:
        return None
    if dom is None:
        return None
    vcpu, memory = dom.find("vcpu"), dom.find("currentMemory")
    if memory is None:
        memory = dom.find("memory")
    if vcpu is None or memory is None or not vcpu.text or not memory.text:
        return None
    try:
        vcpus = int(vcpu.get("current") or vcpu.text)
        kib = float(memory.text) * _UNIT_KIB[memory.get("unit", "KiB").lower()]
    except (ValueError, KeyError):
        return None
    return vcpus, int(kib // 1024)
