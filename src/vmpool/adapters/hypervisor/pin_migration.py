"""A dedicated VM's definition for its migration target (docs/hardware.md).

The domain's own XML (live, or persistent) with only the host side of its CPUs rewritten:
each `<vcpupin>` to the target's CPU, `<emulatorpin>` to the target's shared CPUs,
`<numatune>` (memory, and each guest cell's `<memnode>`) to the target's NUMA cells. What the
guest sees (its vCPUs, its `<cpu><numa>` cells, devices, memory) is left as it is: libvirt
refuses a destination definition that changes the guest's ABI, and the target's CPUs were
allocated to give each guest NUMA cell a host cell of its own (cpu_pinning.allocate_like).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from vmpool.domain.cpu_pinning import format_cpu_set, parse_cpu_set
from vmpool.domain.ports import CpuPlacement

ET.register_namespace("qemu", "http://libvirt.org/schemas/domain/qemu/1.0")
ET.register_namespace("vmpool", "https://vmpool.dev/xmlns/vm/1")


def _child(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    el = parent.find(tag)
    if el is None:
        el = ET.SubElement(parent, tag)
    for k, v in attrs.items():
        el.set(k, v)
    return el


def guest_cell_hosts(dom: ET.Element, vcpu_cells: tuple[int, ...]) -> dict[str, int]:
    """Each guest NUMA cell (`<cpu><numa><cell id>`) and the host cell of its vCPUs. A
    ValueError when a guest cell's vCPUs are on several host cells, or the guest has one
    cell and its vCPUs are not on one host cell: the guest's topology cannot change live."""
    out: dict[str, int] = {}
    for cell in dom.findall("./cpu/numa/cell"):
        vcpus = parse_cpu_set(cell.get("cpus", ""), "guest cell cpus")
        hosts = {vcpu_cells[v] for v in vcpus if v < len(vcpu_cells)}
        if len(hosts) != 1:
            raise ValueError(f"guest NUMA cell {cell.get('id')} would span host cells {hosts}")
        out[cell.get("id", "0")] = hosts.pop()
    if not out and len(set(vcpu_cells)) > 1:
        raise ValueError("a guest with one NUMA cell cannot span host cells")
    return out


def repinned_xml(xml: str, cpus: CpuPlacement) -> str:
    """The domain XML `xml` with its pins, emulator CPUs and memory cells moved to `cpus`."""
    dom = ET.fromstring(xml)
    vcpu_el = dom.find("vcpu")
    vcpus = int(vcpu_el.text or "0") if vcpu_el is not None else 0
    if vcpus != len(cpus.vcpu_pins) or len(cpus.vcpu_cells) != len(cpus.vcpu_pins):
        raise ValueError(f"{len(cpus.vcpu_pins)} pins for a domain of {vcpus} vCPUs")
    memnodes = guest_cell_hosts(dom, cpus.vcpu_cells)
    cputune = _child(dom, "cputune")
    pins = {p.get("vcpu"): p for p in cputune.findall("vcpupin")}
    for vcpu, cpu in enumerate(cpus.vcpu_pins):
        pin = pins.get(str(vcpu))
        if pin is None:
            pin = ET.SubElement(cputune, "vcpupin", vcpu=str(vcpu))
        pin.set("cpuset", str(int(cpu)))
    if cpus.emulator_cpus:
        _child(cputune, "emulatorpin", cpuset=format_cpu_set(cpus.emulator_cpus))
    numatune = _child(dom, "numatune")
    memory = _child(numatune, "memory", nodeset=format_cpu_set(cpus.vcpu_cells))
    if memory.get("mode") is None:
        memory.set("mode", "strict")
    nodes = {n.get("cellid"): n for n in numatune.findall("memnode")}
    if len(memnodes) > 1:
        for cell_id, host_cell in memnodes.items():
            node = nodes.get(cell_id)
            if node is None:
                node = ET.SubElement(numatune, "memnode", cellid=cell_id, mode="strict")
            node.set("nodeset", str(host_cell))
    return ET.tostring(dom, encoding="unicode")
