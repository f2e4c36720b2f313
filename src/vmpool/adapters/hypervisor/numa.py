"""A host's NUMA cells and huge pages, as libvirt reports them (docs/hardware.md):
`getCapabilities()` host/topology/cells (each cell's CPUs, memory and <pages> totals) and
`getFreePages()` for how many of each huge page size are free now."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence

from vmpool.domain.hardware import HUGEPAGE_SIZES_KIB, NumaCell

_UNIT_KIB = {"kib": 1, "k": 1, "mib": 1024, "m": 1024, "gib": 1024**2, "g": 1024**2}
FreeCounts = Mapping[int, Mapping[int, int]]  # cell -> page KiB -> free pages
FreePages = Callable[[Sequence[int], int, int], FreeCounts]


def _kib(value: str | None, unit: str | None) -> int:
    try:
        return int(float(value or 0) * _UNIT_KIB.get((unit or "KiB").lower(), 1))
    except ValueError:
        return 0


def numa_cells(caps: ET.Element, free_pages: FreePages | None = None) -> tuple[NumaCell, ...]:
    """The host's cells with their CPUs, memory (MiB) and huge pages (size KiB -> (total,
    free)); only sizes above the base page. `free_pages` is libvirt's getFreePages (None, or
    a failing call: free counts as total)."""
    found: list[tuple[int, frozenset[int], int, dict[int, int]]] = []
    for cell in caps.findall("host/topology/cells/cell"):
        try:
            cell_id = int(cell.get("id", ""))
        except ValueError:
            continue
        cpus = frozenset(int(c.get("id", "-1")) for c in cell.findall("cpus/cpu"))
        mem = cell.find("memory")
        memory_mib = _kib(mem.text, mem.get("unit")) // 1024 if mem is not None else 0
        pages: dict[int, int] = {}
        for p in cell.findall("pages"):
            size = _kib(p.get("size"), p.get("unit"))
            if size in HUGEPAGE_SIZES_KIB.values():
                pages[size] = int(p.text or 0)
        found.append((cell_id, frozenset(c for c in cpus if c >= 0), memory_mib, pages))
    free: FreeCounts = {}
    if free_pages is not None and found:
        try:
            free = free_pages(sorted(HUGEPAGE_SIZES_KIB.values()), 0, len(found))
        except Exception:  # informative only: placement counts from the totals
            free = {}
    return tuple(
        NumaCell(
            id=cell_id,
            cpus=cpus,
            memory_mib=memory_mib,
            hugepages={
                size: (total, int(free.get(cell_id, {}).get(size, total)))
                for size, total in sorted(pages.items())
            },
        )
        for cell_id, cpus, memory_mib, pages in found
    )


def numa_traits(cells: Sequence[NumaCell]) -> set[str]:
    """The `hugepages` trait: some huge pages are configured (any size, any cell). (It used
    to come from the domain capabilities' memoryBacking, which says QEMU could use them,
    not that the host has any.)"""
    return {"hugepages"} if any(t for c in cells for t, _ in c.hugepages.values()) else set()
