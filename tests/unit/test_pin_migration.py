"""Live migration of dedicated VMs (docs/hardware.md), pure parts: the target's
CPUs keep the guest's NUMA cells (`allocate_like`), and the definition sent with the
migration is the domain's own with only the host side of its pins rewritten."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vmpool.adapters.hypervisor.domain_xml import build_domain_xml
from vmpool.adapters.hypervisor.pin_migration import repinned_xml
from vmpool.domain.cpu_pinning import allocate_cpus, allocate_like, cell_groups
from vmpool.domain.hardware import NumaCell
from vmpool.domain.model import DomainType
from vmpool.domain.ports import CpuPlacement, DomainSpec

CELLS = (NumaCell(0, frozenset(range(4)), 8192, {}), NumaCell(1, frozenset(range(4, 8)), 8192, {}))


def test_cell_groups_are_the_vcpus_of_each_host_cell_in_cell_order() -> None:
    assert cell_groups((1, 1, 0, 1)) == ((2,), (0, 1, 3))
    assert cell_groups(()) == ()


def test_a_one_cell_guest_gets_one_cell_on_the_target_or_nothing() -> None:
    all_cpus = frozenset(range(8))
    # 2 free in each cell: 3 vCPUs of one guest cell do not fit, though 4 CPUs are free.
    assert allocate_like((0, 0, 0), all_cpus, frozenset({2, 3, 6, 7}), CELLS) is None
    got = allocate_like((1, 1, 1), all_cpus, frozenset({7}), CELLS)
    assert got is not None and (got.pins, got.cells) == ((4, 5, 6), (1, 1, 1))  # the fuller
    # The same as a new VM's allocation whenever that one fits in one cell.
    assert got == allocate_cpus(3, all_cpus, frozenset({7}), CELLS)


def test_a_spanning_guest_gets_a_cell_per_guest_cell_largest_first() -> None:
    all_cpus = frozenset(range(8))
    got = allocate_like((0, 0, 0, 1), all_cpus, frozenset({0}), CELLS)
    # Guest cell {0,1,2} needs 3: cell 0 has 3 free (fuller than cell 1's 4); {3} then cell 1.
    assert got is not None and (got.pins, got.cells) == ((1, 2, 3, 4), (0, 0, 0, 1))
    assert allocate_like((0, 0, 0, 1), all_cpus, frozenset({0, 1, 4, 5}), CELLS) is None
    # The larger guest cell first: {1,2,3} to cell 1 (the only one with 3 free), {0} to 0.
    got = allocate_like((0, 1, 1, 1), all_cpus, frozenset({0, 1, 2}), CELLS)
    assert got is not None and (got.pins, got.cells) == ((3, 4, 5, 6), (0, 1, 1, 1))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=1, max_size=8),
    st.sets(st.integers(0, 15)),
    st.sets(st.integers(0, 15)),
)
def test_allocate_like_keeps_the_guest_cells_and_takes_only_free_dedicated_cpus(
    source_cells: list[int], dedicated: set[int], pinned: set[int]
) -> None:
    cells = tuple(NumaCell(c, frozenset(range(c * 4, c * 4 + 4)), 1024, {}) for c in range(4))
    got = allocate_like(source_cells, frozenset(dedicated), frozenset(pinned), cells)
    if got is None:
        return
    assert len(got.pins) == len(source_cells) == len(set(got.pins))
    assert set(got.pins) <= dedicated - pinned
    assert all(pin // 4 == cell for pin, cell in zip(got.pins, got.cells, strict=True))
    # The same vCPU groups, each in a host cell of its own.
    assert {frozenset(g) for g in cell_groups(got.cells)} == {
        frozenset(g) for g in cell_groups(source_cells)
    }


def _spec(pins: tuple[int, ...], cells: tuple[int, ...], emulator: tuple[int, ...]) -> DomainSpec:
    return DomainSpec(
        vm_id=7, uuid="c0ffee00-0000-4000-8000-000000000007", name="wide", vcpus=len(pins),
        memory_mib=1024, domain_type=DomainType.QEMU, serial_log="/var/log/vmpool/wide.log",
        vcpu_pins=pins, vcpu_cells=cells, emulator_cpus=emulator,
        numa_cells=tuple(sorted(set(cells))), hugepage_kib=2048,
    )  # fmt: skip


def _canonical(xml: str) -> str:
    return ET.canonicalize(xml, strip_text=True)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        # one cell: pins, emulator CPUs and the memory's cell move
        (((4, 5), (1, 1), (0, 1)), ((2, 3), (0, 0), (0, 1, 4, 5))),
        # two guest cells, each to its new host cell
        (((1, 2, 3, 5), (0, 0, 0, 1), (0, 4)), ((0, 1, 2, 4), (0, 0, 0, 1), (3,))),
    ],
)
def test_the_target_definition_is_the_source_one_pinned_to_the_target_cpus(
    source: tuple[tuple[int, ...], ...], target: tuple[tuple[int, ...], ...]
) -> None:
    live = build_domain_xml(_spec(*source))
    moved = repinned_xml(live, CpuPlacement(*target))
    # Exactly what vmpool would build for the VM on the target: nothing else changed.
    assert _canonical(moved) == _canonical(build_domain_xml(_spec(*target)))
    dom = ET.fromstring(moved)
    assert [p.get("cpuset") for p in dom.findall("./cputune/vcpupin")] == [
        str(c) for c in target[0]
    ]


def test_the_guest_numa_cells_stay_and_their_memory_follows_the_new_host_cells() -> None:
    live = build_domain_xml(_spec((1, 2, 5, 6), (0, 0, 1, 1), (0,)))
    moved = ET.fromstring(repinned_xml(live, CpuPlacement((4, 5, 0, 1), (1, 1, 0, 0), (2,))))
    cells = [
        (c.get("id"), c.get("cpus"), c.get("memory")) for c in moved.findall("./cpu/numa/cell")
    ]
    assert cells == [("0", "0-1", "512"), ("1", "2-3", "512")]  # as the guest sees them
    nodes = {n.get("cellid"): n.get("nodeset") for n in moved.findall("./numatune/memnode")}
    assert nodes == {"0": "1", "1": "0"}  # guest cell 0 now on host cell 1
    assert moved.find("./numatune/memory").get("nodeset") == "0-1"  # type: ignore[union-attr]
    assert moved.find("./cputune/emulatorpin").get("cpuset") == "2"  # type: ignore[union-attr]


def test_a_definition_the_target_pins_cannot_keep_is_refused() -> None:
    one_cell = build_domain_xml(_spec((4, 5), (1, 1), (0,)))
    with pytest.raises(ValueError, match="one NUMA cell cannot span"):
        repinned_xml(one_cell, CpuPlacement((3, 4), (0, 1), (0,)))
    two_cells = build_domain_xml(_spec((1, 2, 5, 6), (0, 0, 1, 1), (0,)))
    with pytest.raises(ValueError, match="would span host cells"):  # guest cell 0: vCPUs 0-1
        repinned_xml(two_cells, CpuPlacement((1, 5, 2, 6), (0, 1, 0, 1), (0,)))
    with pytest.raises(ValueError, match="3 pins for a domain of 2 vCPUs"):
        repinned_xml(one_cell, CpuPlacement((1, 2, 3), (0, 0, 0), (0,)))


def test_a_definition_without_pins_gets_them() -> None:
    plain = build_domain_xml(replace(_spec((4, 5), (1, 1), (0,)), vcpu_pins=(), vcpu_cells=(),
                                     emulator_cpus=(), numa_cells=()))  # fmt: skip
    dom = ET.fromstring(repinned_xml(plain, CpuPlacement((2, 3), (0, 0), (0, 1))))
    pins = [(p.get("vcpu"), p.get("cpuset")) for p in dom.findall("./cputune/vcpupin")]
    assert pins == [("0", "2"), ("1", "3")]
    assert dom.find("./cputune/emulatorpin").get("cpuset") == "0-1"  # type: ignore[union-attr]
    memory = dom.find("./numatune/memory")
    assert memory is not None and (memory.get("mode"), memory.get("nodeset")) == ("strict", "0")
