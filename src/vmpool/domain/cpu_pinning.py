"""Dedicated CPUs, huge pages and NUMA (docs/hardware.md): which host CPUs a dedicated VM
gets, which huge pages back its memory, and on which NUMA cells. Pure rules; the services
record the allocation under the same lock as placement's claims.

- A host's operator splits its CPUs as Nova does: `cpu_dedicated_set` (whole CPUs for
  dedicated VMs, one per vCPU) and `cpu_shared_set` (where shared vCPUs float and every
  pinned VM's emulator threads run). Syntax "0-3,^2,8".
- A dedicated VM's vCPUs count against the dedicated set only (Nova's PCPU inventory); the
  host's vCPU capacity (at the pool's ratio) is the CPUs outside the dedicated set.
- The allocation fits one NUMA cell when one has room (the fullest that has room: packing),
  else spans the cells with the most free CPUs; the guest then gets one NUMA cell per host cell.
- Huge pages are claimed by (host cell, page size): per cell when the VM is bound to cells (a
  dedicated VM), else from the host's total (cell -1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from vmpool.domain.hardware import HUGEPAGE_SIZES_KIB, CpuPolicy, NumaCell
from vmpool.errors import InvalidInput, InvalidState

if TYPE_CHECKING:
    from vmpool.domain.model import PlacementHost, PlacementRequirements
    from vmpool.domain.resize import Sizes

MAX_HOST_CPU = 8191  # libvirt's and Linux's CPU numbers stay far below
MAX_CPU_SET_CHARS = 255  # the column's width
UNBOUND_CELL = -1  # huge pages claimed from the host as a whole (a VM not bound to cells)

_ITEM = re.compile(r"^(\^)?(\d{1,4})(?:-(\d{1,4}))?$")


@lru_cache(maxsize=1024)
def parse_cpu_set(text: str, field: str = "cpu set") -> frozenset[int]:
    """Nova's (and libvirt's) CPU list: "2-7,^4,9" (ranges, exclusions). A 422 naming
    `field` when malformed or empty."""
    if len(text) > MAX_CPU_SET_CHARS:
        raise InvalidInput(f"{field} is longer than {MAX_CPU_SET_CHARS} characters", field=field)
    included: set[int] = set()
    excluded: set[int] = set()
    for raw in text.split(","):
        item = raw.strip()
        m = _ITEM.match(item)
        if m is None:
            raise InvalidInput(
                f"{field}: {item!r} is not a CPU number, a range N-M or an exclusion ^N",
                field=field,
            )
        low = int(m.group(2))
        high = int(m.group(3)) if m.group(3) is not None else low
        if high < low:
            raise InvalidInput(f"{field}: range {item} goes backwards", field=field)
        if high > MAX_HOST_CPU:
            raise InvalidInput(f"{field}: CPU {high} is above {MAX_HOST_CPU}", field=field)
        (excluded if m.group(1) else included).update(range(low, high + 1))
    cpus = frozenset(included - excluded)
    if not cpus:
        raise InvalidInput(f"{field} names no CPU", field=field)
    return cpus


def format_cpu_set(cpus: Iterable[int]) -> str:
    """The shortest list form: {0,1,2,5} -> "0-2,5" (libvirt's cpuset syntax too)."""
    out: list[str] = []
    run: list[int] = []
    for cpu in sorted(set(cpus)):
        if run and cpu == run[-1] + 1:
            run.append(cpu)
            continue
        if run:
            out.append(_run(run))
        run = [cpu]
    if run:
        out.append(_run(run))
    return ",".join(out)


def _run(run: list[int]) -> str:
    return str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}"


@dataclass(frozen=True, slots=True)
class HostCpuSets:
    """A host's CPUs as its operator split them. `dedicated` empty: no dedicated VM fits."""

    dedicated: frozenset[int] = frozenset()
    shared: frozenset[int] = frozenset()


NO_SPLIT = HostCpuSets()


def host_cpu_sets(dedicated: str | None, shared: str | None, host_cpus: int) -> HostCpuSets:
    """The split as stored (checked when set): no dedicated set, every CPU shared; no shared
    set, the CPUs outside the dedicated set. Unreadable stored text counts as unset."""
    every = frozenset(range(host_cpus))
    try:
        ded = parse_cpu_set(dedicated, "cpu_dedicated_set") if dedicated else frozenset()
        sha = parse_cpu_set(shared, "cpu_shared_set") if shared else every - ded
    except InvalidInput:
        return HostCpuSets(shared=every)
    return HostCpuSets(dedicated=ded & every, shared=sha & every)


def check_host_cpu_sets(
    dedicated: str | None, shared: str | None, host_cpus: int, pinned: Iterable[int] = ()
) -> HostCpuSets:
    """An operator's split, checked: each set within the host's CPUs (0..cpus-1), the two
    disjoint (422 naming the field); and no CPU a dedicated VM holds (`pinned`) leaves the
    dedicated set (409)."""
    ded = parse_cpu_set(dedicated, "cpu_dedicated_set") if dedicated else frozenset()
    sha = parse_cpu_set(shared, "cpu_shared_set") if shared else None
    for name, cpus in (("cpu_dedicated_set", ded), ("cpu_shared_set", sha or frozenset())):
        outside = sorted(c for c in cpus if c >= host_cpus)
        if outside:
            raise InvalidInput(
                f"{name}: CPU {format_cpu_set(outside)} is not on this host "
                f"(it has CPUs 0-{host_cpus - 1})",
                field=name,
            )
    if sha is not None and ded & sha:
        both = format_cpu_set(ded & sha)
        raise InvalidInput(
            f"cpu_dedicated_set and cpu_shared_set overlap on CPU {both}", field="cpu_shared_set"
        )
    leaving = frozenset(pinned) - ded
    if leaving:
        raise InvalidState(
            f"CPU {format_cpu_set(leaving)} is pinned to a dedicated VM: it stays in "
            "cpu_dedicated_set until that VM is moved or deleted",
            field="cpu_dedicated_set",
        )
    every = frozenset(range(host_cpus))
    return HostCpuSets(dedicated=ded, shared=sha if sha is not None else every - ded)


@dataclass(frozen=True, slots=True)
class CpuAllocation:
    """The host CPU of each vCPU, in vCPU order, and each one's host NUMA cell."""

    pins: tuple[int, ...]
    cells: tuple[int, ...]

    @property
    def numa_cells(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.cells)))

    @property
    def spans(self) -> bool:
        return len(self.numa_cells) > 1


def _cell_of(cells: Sequence[NumaCell]) -> dict[int, int]:
    return {cpu: c.id for c in cells for cpu in c.cpus}


def allocate_cpus(
    vcpus: int,
    dedicated: frozenset[int],
    pinned: frozenset[int],
    cells: Sequence[NumaCell] = (),
) -> CpuAllocation | None:
    """Which free dedicated CPUs a VM of `vcpus` gets (None: not enough). Within one NUMA
    cell when one has room (the one with the fewest free CPUs that fits, to keep whole cells
    free for larger VMs); else across the cells with the most free CPUs, fewest cells first.
    CPUs of no known cell count as cell 0. Lowest CPU numbers first, so it is deterministic."""
    free = sorted(dedicated - pinned)
    if vcpus < 1 or len(free) < vcpus:
        return None
    cell_of = _cell_of(cells)
    by_cell: dict[int, list[int]] = {}
    for cpu in free:
        by_cell.setdefault(cell_of.get(cpu, 0), []).append(cpu)
    fitting = [c for c, cpus in by_cell.items() if len(cpus) >= vcpus]
    if fitting:
        cell = min(fitting, key=lambda c: (len(by_cell[c]), c))
        chosen = by_cell[cell][:vcpus]
        return CpuAllocation(tuple(chosen), (cell,) * vcpus)
    pins: list[int] = []
    owners: list[int] = []
    for cell in sorted(by_cell, key=lambda c: (-len(by_cell[c]), c)):
        take = by_cell[cell][: vcpus - len(pins)]
        pins.extend(take)
        owners.extend([cell] * len(take))
        if len(pins) == vcpus:
            break
    order = sorted(range(vcpus), key=lambda i: (owners[i], pins[i]))  # vCPUs grouped by cell
    return CpuAllocation(tuple(pins[i] for i in order), tuple(owners[i] for i in order))


@dataclass(frozen=True, slots=True)
class GuestCell:
    """A guest NUMA cell: its vCPUs, its memory, the host cell it is bound to."""

    id: int
    host_cell: int
    vcpus: tuple[int, ...]
    memory_mib: int


def guest_cells(
    vcpu_cells: Sequence[int], memory_mib: int, page_kib: int = 4
) -> tuple[GuestCell, ...]:
    """One guest cell per host cell the vCPUs are on, memory shared in proportion to vCPUs,
    each part a whole number of pages (the first cells round down, the last takes the rest)."""
    hosts = sorted(set(vcpu_cells))
    page_mib = max(1, page_kib // 1024)
    out: list[GuestCell] = []
    left = memory_mib
    for i, host_cell in enumerate(hosts):
        mine = tuple(v for v, c in enumerate(vcpu_cells) if c == host_cell)
        if i == len(hosts) - 1:
            part = left
        else:
            part = memory_mib * len(mine) // len(vcpu_cells) // page_mib * page_mib
        out.append(GuestCell(i, host_cell, mine, part))
        left -= part
    return tuple(out)


def hugepage_claims(
    memory_mib: int, page_kib: int, vcpu_cells: Sequence[int] = ()
) -> dict[tuple[int, int], int]:
    """The huge pages a VM holds, MiB by (host cell, page KiB): per cell when its vCPUs are
    bound to cells, else from the host as a whole (`UNBOUND_CELL`)."""
    if not vcpu_cells:
        return {(UNBOUND_CELL, page_kib): memory_mib}
    cells = guest_cells(vcpu_cells, memory_mib, page_kib)
    return {(g.host_cell, page_kib): g.memory_mib for g in cells}


def check_hugepage_memory(memory_mib: int, hugepages: str | None) -> None:
    """A VM backed by huge pages has a whole number of them (422 otherwise)."""
    if hugepages is None:
        return
    page_mib = HUGEPAGE_SIZES_KIB[hugepages] // 1024
    if memory_mib % page_mib:
        raise InvalidInput(
            f"memory_mib {memory_mib} is not a whole number of {hugepages} huge pages "
            f"({page_mib} MiB each)",
            field="memory_mib",
        )


def check_fixed_size(
    dedicated: bool, hugepages: str | None, grows_cpus: bool, grows_memory: bool
) -> None:
    """Dedicated vCPUs are pinned one to one and huge pages are taken whole at boot: such a
    VM is made at its size, without room to grow live (422)."""
    if dedicated and grows_cpus:
        raise InvalidInput(
            "a dedicated VM cannot have max_vcpus above vcpus (its vCPUs are pinned)",
            field="max_vcpus",
        )
    if hugepages is not None and grows_memory:
        raise InvalidInput(
            "a VM backed by huge pages cannot have max_memory_mib above memory_mib",
            field="max_memory_mib",
        )


def host_allocation(
    host: PlacementHost, vcpus: int, moving_cells: Sequence[int] = ()
) -> CpuAllocation | None:
    """What `allocate_cpus` gives a dedicated VM on this placement host; for a VM moving
    live (`moving_cells`: its vCPUs' cells on the source), `allocate_like` keeps its guest
    NUMA cells."""
    if moving_cells:
        return allocate_like(
            moving_cells, host.cpu_sets.dedicated, host.hardware_use.pinned_cpus,
            host.hardware.cells,
        )  # fmt: skip
    return allocate_cpus(
        vcpus, host.cpu_sets.dedicated, host.hardware_use.pinned_cpus, host.hardware.cells
    )


def dedicated_reason(host: PlacementHost, req: PlacementRequirements) -> str | None:
    """Why `host` cannot give the VM its dedicated CPUs (None: it can, or none are asked)."""
    if req.hardware.cpu_policy is not CpuPolicy.DEDICATED:
        return None
    dedicated = host.cpu_sets.dedicated
    if not dedicated:
        return "no dedicated CPUs (cpu_dedicated_set is not set)"
    free = len(dedicated - host.hardware_use.pinned_cpus)
    if free < req.vcpus:
        return f"{req.vcpus} dedicated CPUs needed, {free} of {len(dedicated)} free"
    return moving_reason(host, req)


def _pages_mib(cells: Sequence[NumaCell], kib: int) -> dict[int, int]:
    return {c.id: c.hugepages.get(kib, (0, 0))[0] * kib // 1024 for c in cells}


def hugepages_free(
    cells: Sequence[NumaCell], claimed: Mapping[tuple[int, int], int], kib: int
) -> tuple[int, dict[int, int]]:
    """MiB of huge pages of `kib` not claimed: on the host, and per cell (a cell's own free
    figure ignores what unbound VMs hold, which only the host's total can count)."""
    total = _pages_mib(cells, kib)
    per_cell = {c: t - claimed.get((c, kib), 0) for c, t in total.items()}
    used = sum(n for (_, k), n in claimed.items() if k == kib)
    return sum(total.values()) - used, per_cell


def hugepages_reason(host: PlacementHost, req: PlacementRequirements) -> str | None:
    """Why `host` cannot back the VM's memory with the huge pages it asks (None: it can)."""
    size = req.hardware.hugepages
    if size is None:
        return None
    kib = HUGEPAGE_SIZES_KIB[size]
    cells = host.hardware.cells
    if not any(c.hugepages.get(kib, (0, 0))[0] for c in cells):
        return f"no {size} huge pages"
    host_free, cell_free = hugepages_free(cells, host.hardware_use.hugepages_mib, kib)
    if host_free < req.memory_mib:
        return f"{req.memory_mib} MiB of {size} huge pages needed, {max(0, host_free)} MiB free"
    if req.hardware.cpu_policy is CpuPolicy.DEDICATED:
        alloc = host_allocation(host, req.vcpus, req.hardware.moving_cells)
        if alloc is None:
            return None  # the dedicated_cpus filter says why
        for (cell, _), mib in hugepage_claims(req.memory_mib, kib, alloc.cells).items():
            if cell_free.get(cell, 0) < mib:
                return (
                    f"{mib} MiB of {size} huge pages needed on NUMA cell {cell}, "
                    f"{max(0, cell_free.get(cell, 0))} MiB free"
                )
    return None


def check_resizable(
    name: str, cpu_policy: str, hugepages: str | None, before: Sizes, after: Sizes
) -> None:
    """Hot-plug (PATCH /v1/vms/{id}) of a dedicated VM's vCPUs or a huge-page VM's memory:
    refused (409) with the reason; the other size may still change."""
    if cpu_policy == CpuPolicy.DEDICATED.value and after.vcpus != before.vcpus:
        raise InvalidState(
            f"VM {name} has dedicated CPUs, pinned one to one at create: its vCPUs cannot "
            "change live (make a new VM of the size wanted)",
            field="vcpus",
        )
    if hugepages is not None and after.memory_mib != before.memory_mib:
        raise InvalidState(
            f"VM {name}'s memory is backed by {hugepages} huge pages taken whole at boot: it "
            "cannot change live",
            field="memory_mib",
        )


# --- Huge pages against the host's memory (docs/hardware.md) ----------------------
# Memory the kernel holds as huge pages is not ordinary memory: only VMs backed by huge pages
# can use it. So a host's ordinary memory capacity leaves out what its huge pages take (every
# size, every cell: total pages x size, as its inventory reports them), and a VM backed by huge
# pages takes its memory from its pages (hugepages_reason, hugepage_claims), not from the
# ordinary memory. Nova leaves the first half to the operator (reserved_host_memory_mb must
# cover the pages); here it follows from the inventory.


def hugepages_held_mib(cells: Sequence[NumaCell]) -> int:
    """MiB a host's huge pages take, all sizes and cells (total pages x size)."""
    return sum(total * kib // 1024 for c in cells for kib, (total, _free) in c.hugepages.items())


def ordinary_memory_mib(physical_mib: float, cells: Sequence[NumaCell]) -> float:
    """A host's memory that ordinary VMs can have: its physical memory less its huge pages."""
    return max(0.0, physical_mib - hugepages_held_mib(cells))


def ordinary_memory_claim_mib(memory_mib: int, hugepages: str | None) -> int:
    """What a VM takes from its host's ordinary memory: all its memory, or nothing when huge
    pages back it (its pages are claimed instead)."""
    return 0 if hugepages is not None else memory_mib


# --- live migration of a dedicated VM (docs/hardware.md) ---------------------


def cell_groups(vcpu_cells: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """A pinned VM's guest NUMA cells as its vCPUs: one group per host cell its vCPUs are on,
    in host cell order (the same grouping `guest_cells` gives its XML)."""
    return tuple(
        tuple(v for v, c in enumerate(vcpu_cells) if c == cell) for cell in sorted(set(vcpu_cells))
    )


def allocate_like(
    vcpu_cells: Sequence[int],
    dedicated: frozenset[int],
    pinned: frozenset[int],
    cells: Sequence[NumaCell] = (),
) -> CpuAllocation | None:
    """The target's CPUs for a dedicated VM moving live (None: this host cannot). Its guest
    sees the same NUMA cells after the move (a running guest's topology cannot change, and
    libvirt refuses a destination definition that changes it): each guest cell (the vCPUs
    of one source cell, `cell_groups`) gets a host cell of its own with room for all its
    vCPUs. Largest guest cell first, each in the fullest host cell that fits (packing, as
    `allocate_cpus`); lowest CPU numbers first."""
    groups = cell_groups(vcpu_cells)
    if not groups:
        return None
    cell_of = _cell_of(cells)
    by_cell: dict[int, list[int]] = {}
    for cpu in sorted(dedicated - pinned):
        by_cell.setdefault(cell_of.get(cpu, 0), []).append(cpu)
    pins: dict[int, tuple[int, int]] = {}
    used: set[int] = set()
    for group in sorted(groups, key=lambda g: (-len(g), g)):
        fitting = [c for c, cpus in by_cell.items() if c not in used and len(cpus) >= len(group)]
        if not fitting:
            return None
        cell = min(fitting, key=lambda c: (len(by_cell[c]), c))
        used.add(cell)
        for vcpu, cpu in zip(group, by_cell[cell], strict=False):
            pins[vcpu] = (cpu, cell)
    order = range(len(vcpu_cells))
    return CpuAllocation(tuple(pins[v][0] for v in order), tuple(pins[v][1] for v in order))


def moving_reason(host: PlacementHost, req: PlacementRequirements) -> str | None:
    """Why `host` cannot take a dedicated VM moving live with its guest NUMA cells."""
    moving = req.hardware.moving_cells
    if not moving or host_allocation(host, req.vcpus, moving) is not None:
        return None
    sizes = "+".join(str(len(g)) for g in cell_groups(moving))
    many = len(cell_groups(moving)) > 1
    return f"its guest NUMA cells need {sizes} dedicated CPUs free in " + (
        "as many different NUMA cells" if many else "one NUMA cell"
    )
