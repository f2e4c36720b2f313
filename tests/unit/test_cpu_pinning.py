"""Dedicated CPUs, huge pages and NUMA (domain/cpu_pinning.py, the XML of domain_xml.py and
the capabilities parsing of adapters/hypervisor/numa.py): pure, no I/O."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vmpool.adapters.hypervisor.domain_xml import build_domain_xml
from vmpool.adapters.hypervisor.numa import numa_cells, numa_traits
from vmpool.domain.cpu_pinning import (
    UNBOUND_CELL,
    HostCpuSets,
    allocate_cpus,
    check_fixed_size,
    check_host_cpu_sets,
    check_hugepage_memory,
    check_resizable,
    dedicated_reason,
    format_cpu_set,
    guest_cells,
    hugepage_claims,
    hugepages_reason,
    parse_cpu_set,
)
from vmpool.domain.hardware import CpuPolicy, HardwareRequest, HardwareUse, HostHardware, NumaCell
from vmpool.domain.host import HostState
from vmpool.domain.model import (
    AllocationPolicy,
    DomainType,
    PlacementRequirements,
    Resources,
    make_placement_host,
)
from vmpool.domain.placement import place
from vmpool.domain.ports import DomainSpec
from vmpool.domain.resize import Sizes
from vmpool.errors import InvalidInput, InvalidState

TWO_CELLS = (
    NumaCell(0, frozenset({0, 1, 2, 3}), 8192, {2048: (512, 512)}),
    NumaCell(1, frozenset({4, 5, 6, 7}), 8192, {2048: (512, 512)}),
)


# --- CPU sets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cpus"),
    [("2-7,^4", {2, 3, 5, 6, 7}), ("0", {0}), ("1,3, 5-6", {1, 3, 5, 6}), ("0-3,^1-2", {0, 3})],
)
def test_nova_cpu_sets_parse(text: str, cpus: set[int]) -> None:
    assert parse_cpu_set(text) == frozenset(cpus)
    assert parse_cpu_set(format_cpu_set(cpus)) == frozenset(cpus)


@pytest.mark.parametrize("text", ["", "a", "1-", "3-1", "^2", "1,,2", "99999", "1-2-3", "0;rm"])
def test_bad_cpu_sets_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_cpu_set(text, "cpu_dedicated_set")
    assert e.value.details["field"] == "cpu_dedicated_set"


def test_host_split_is_within_its_cpus_disjoint_and_keeps_pinned_cpus() -> None:
    assert check_host_cpu_sets("1", None, 2) == HostCpuSets(frozenset({1}), frozenset({0}))
    with pytest.raises(InvalidInput, match="CPU 2-3 is not on this host"):
        check_host_cpu_sets("1-3", None, 2)
    with pytest.raises(InvalidInput, match="overlap on CPU 1"):
        check_host_cpu_sets("1", "0-1", 2)
    with pytest.raises(InvalidState, match="CPU 1 is pinned to a dedicated VM"):
        check_host_cpu_sets("2-3", "0-1", 4, pinned={1})
    check_host_cpu_sets("1-3", "0", 4, pinned={1})  # it stays: fine


# --- allocation -----------------------------------------------------------------------------


def test_allocation_fits_one_cell_and_packs_the_fuller_one() -> None:
    dedicated = frozenset(range(8))
    a = allocate_cpus(2, dedicated, frozenset({0, 1}), TWO_CELLS)  # cell 0 has 2 free, cell 1 4
    assert a is not None and a.pins == (2, 3) and a.numa_cells == (0,) and not a.spans
    b = allocate_cpus(3, dedicated, frozenset({0, 1}), TWO_CELLS)
    assert b is not None and b.pins == (4, 5, 6) and b.numa_cells == (1,)


def test_allocation_spans_cells_only_when_none_has_room() -> None:
    a = allocate_cpus(5, frozenset(range(8)), frozenset({0}), TWO_CELLS)
    assert a is not None and a.spans and a.numa_cells == (0, 1)
    assert a.pins == (1, 4, 5, 6, 7)  # vCPUs grouped by cell: the guest cells are contiguous
    assert a.cells == (0, 1, 1, 1, 1)
    assert allocate_cpus(8, frozenset(range(8)), frozenset({0}), TWO_CELLS) is None


@settings(max_examples=300, deadline=None)
@given(
    vcpus=st.integers(1, 10),
    dedicated=st.frozensets(st.integers(0, 9)),
    pinned=st.frozensets(st.integers(0, 9)),
)
def test_allocation_properties(
    vcpus: int, dedicated: frozenset[int], pinned: frozenset[int]
) -> None:
    cells = (
        NumaCell(0, frozenset(range(5)), 1024),
        NumaCell(1, frozenset(range(5, 10)), 1024),
    )
    a = allocate_cpus(vcpus, dedicated, pinned, cells)
    free = dedicated - pinned
    if len(free) < vcpus:
        assert a is None
        return
    assert a is not None
    assert len(a.pins) == vcpus == len(set(a.pins))  # one CPU per vCPU, never twice
    assert set(a.pins) <= free  # only free dedicated CPUs
    assert all((p < 5) == (c == 0) for p, c in zip(a.pins, a.cells, strict=True))
    one_cell_fits = any(len(free & c.cpus) >= vcpus for c in cells)
    assert a.spans is not one_cell_fits  # spans exactly when no single cell can hold it
    assert list(a.cells) == sorted(a.cells)


@settings(max_examples=200, deadline=None)
@given(
    cells=st.lists(st.integers(0, 3), min_size=1, max_size=8).map(sorted),
    pages=st.integers(1, 512),
    kib=st.sampled_from([4, 2048]),
)
def test_guest_cells_share_the_memory_in_whole_pages(
    cells: list[int], pages: int, kib: int
) -> None:
    memory = pages * max(1, kib // 1024) * len(set(cells))
    g = guest_cells(cells, memory, kib)
    assert sum(c.memory_mib for c in g) == memory
    assert sorted(v for c in g for v in c.vcpus) == list(range(len(cells)))
    assert all(c.memory_mib % max(1, kib // 1024) == 0 for c in g)
    assert [c.host_cell for c in g] == sorted(set(cells))


# --- placement ------------------------------------------------------------------------------


def host(name: str = "h1", dedicated: str | None = "4-7", pinned: frozenset[int] = frozenset(),
         pages: dict[tuple[int, int], int] | None = None, cells: tuple[NumaCell, ...] = TWO_CELLS):  # type: ignore[no-untyped-def]  # fmt: skip
    sets = check_host_cpu_sets(dedicated, None, 8)
    return make_placement_host(
        id=1, name=name, state=HostState.UP,
        physical=Resources(8 - len(sets.dedicated), 16384, 100),
        policy=AllocationPolicy(reserved_memory_mib=0, reserved_vcpus=0),
        hardware=HostHardware(cells=cells),
        hardware_use=HardwareUse(pinned_cpus=pinned, hugepages_mib=pages or {}),
        cpu_sets=sets,
    )  # fmt: skip


def dedicated(vcpus: int = 2, memory: int = 256, pages: str | None = None) -> PlacementRequirements:
    return PlacementRequirements(
        vcpus=vcpus, memory_mib=memory,
        hardware=HardwareRequest(cpu_policy=CpuPolicy.DEDICATED, hugepages=pages),
    )  # fmt: skip


def test_dedicated_filter_reasons() -> None:
    assert dedicated_reason(host(), dedicated(4)) is None
    assert dedicated_reason(host(dedicated=None), dedicated()) == (
        "no dedicated CPUs (cpu_dedicated_set is not set)"
    )
    assert dedicated_reason(host(pinned=frozenset({4, 5, 6})), dedicated(2)) == (
        "2 dedicated CPUs needed, 1 of 4 free"
    )
    shared = PlacementRequirements(vcpus=64, memory_mib=256)
    assert dedicated_reason(host(dedicated=None), shared) is None


def test_placement_refuses_with_the_filter_reason_and_does_not_double_count() -> None:
    policy = AllocationPolicy(reserved_memory_mib=0, reserved_vcpus=0, cpu_allocation_ratio=1.0)
    r = place([host(pinned=frozenset({4, 5, 6, 7}))], dedicated(1), policy)
    assert r.host is None
    assert any("1 dedicated CPUs needed, 0 of 4 free" in x.reason for x in r.rejections)
    # 4 dedicated CPUs: a 4-vCPU dedicated VM fits although the shared capacity is 4 vCPUs
    # already fully used by shared VMs (separate inventories, as Nova's PCPU and VCPU).
    full = make_placement_host(
        id=1, name="h1", state=HostState.UP, physical=Resources(4, 16384, 100), policy=policy,
        shared_use=Resources(4, 0, 0), hardware=HostHardware(cells=TWO_CELLS),
        cpu_sets=check_host_cpu_sets("4-7", None, 8),
    )  # fmt: skip
    assert place([full], dedicated(4), policy).host is not None
    assert place([full], PlacementRequirements(vcpus=1, memory_mib=256), policy).host is None


def test_hugepages_reasons_per_host_and_per_cell() -> None:
    shared_2m = PlacementRequirements(
        vcpus=1, memory_mib=512, hardware=HardwareRequest(hugepages="2M")
    )
    assert hugepages_reason(host(), shared_2m) is None
    assert hugepages_reason(host(cells=(NumaCell(0, frozenset(range(8)), 9),)), shared_2m) == (
        "no 2M huge pages"
    )
    used = {(0, 2048): 1000, (UNBOUND_CELL, 2048): 1000}  # of 2 x 1024 MiB
    assert hugepages_reason(host(pages=used), shared_2m) == (
        "512 MiB of 2M huge pages needed, 48 MiB free"
    )
    # Dedicated: bound to the cell of its CPUs (4-7: cell 1), which must have the pages.
    assert hugepages_reason(host(pages={(1, 2048): 900}), dedicated(2, 256, "2M")) == (
        "256 MiB of 2M huge pages needed on NUMA cell 1, 124 MiB free"
    )
    assert hugepages_reason(host(pages={(0, 2048): 900}), dedicated(2, 256, "2M")) is None
    assert hugepage_claims(256, 2048, (1, 1)) == {(1, 2048): 256}
    assert hugepage_claims(256, 2048) == {(UNBOUND_CELL, 2048): 256}


def test_fixed_sizes_and_live_resize_refusals() -> None:
    check_hugepage_memory(256, "2M")
    with pytest.raises(InvalidInput, match="whole number of 1G huge pages"):
        check_hugepage_memory(1536, "1G")
    with pytest.raises(InvalidInput, match="max_vcpus"):
        check_fixed_size(True, None, True, False)
    with pytest.raises(InvalidInput, match="max_memory_mib"):
        check_fixed_size(False, "2M", False, True)
    with pytest.raises(InvalidState, match="vCPUs cannot change live"):
        check_resizable("a", "dedicated", None, Sizes(2, 256), Sizes(3, 256))
    with pytest.raises(InvalidState, match="cannot change live"):
        check_resizable("a", "shared", "2M", Sizes(2, 256), Sizes(2, 512))
    check_resizable("a", "dedicated", None, Sizes(2, 256), Sizes(2, 512))  # memory may change


# --- domain XML -----------------------------------------------------------------------------


def spec(**kw: object) -> DomainSpec:
    base: dict[str, object] = dict(
        vm_id=7, uuid="0b7c7f7e-1111-4222-8333-444455556666", name="pinned", vcpus=2,
        memory_mib=256, domain_type=DomainType.QEMU,
    )  # fmt: skip
    base.update(kw)
    return DomainSpec(**base)  # type: ignore[arg-type]


def test_plain_domain_has_no_tuning() -> None:
    root = ET.fromstring(build_domain_xml(spec()))
    for tag in ("cputune", "memoryBacking", "numatune", "cpu"):
        assert root.find(tag) is None


def test_pinned_huge_page_domain_in_one_cell() -> None:
    xml = build_domain_xml(
        spec(
            vcpu_pins=(5, 4),
            vcpu_cells=(1, 1),
            emulator_cpus=(0, 1, 2, 3),
            hugepage_kib=2048,
            numa_cells=(1,),
        )
    )
    root = ET.fromstring(xml)
    pins = [(p.get("vcpu"), p.get("cpuset")) for p in root.findall("cputune/vcpupin")]
    assert pins == [("0", "5"), ("1", "4")]
    assert root.find("cputune/emulatorpin").get("cpuset") == "0-3"  # type: ignore[union-attr]
    page = root.find("memoryBacking/hugepages/page")
    assert page is not None and (page.get("size"), page.get("unit")) == ("2048", "KiB")
    mem = root.find("numatune/memory")
    assert mem is not None and (mem.get("mode"), mem.get("nodeset")) == ("strict", "1")
    assert root.find("cpu/numa") is None  # one cell: no guest NUMA topology


def test_spanning_domain_gets_a_guest_numa_cell_per_host_cell() -> None:
    root = ET.fromstring(
        build_domain_xml(
            spec(
                vcpus=3,
                memory_mib=384,
                vcpu_pins=(3, 4, 5),
                vcpu_cells=(0, 1, 1),
                numa_cells=(0, 1),
                hugepage_kib=2048,
            )
        )
    )
    cells = [(c.get("id"), c.get("cpus"), c.get("memory")) for c in root.findall("cpu/numa/cell")]
    assert cells == [("0", "0", "128"), ("1", "1-2", "256")]
    memnodes = [(m.get("cellid"), m.get("nodeset")) for m in root.findall("numatune/memnode")]
    assert memnodes == [("0", "0"), ("1", "1")]
    assert root.find("numatune/memory").get("nodeset") == "0-1"  # type: ignore[union-attr]


# --- libvirt capabilities -------------------------------------------------------------------

CAPS = """<capabilities><host><topology><cells num='2'>
<cell id='0'><memory unit='KiB'>8388608</memory>
 <pages unit='KiB' size='4'>1000</pages><pages unit='KiB' size='2048'>64</pages>
 <pages unit='KiB' size='1048576'>0</pages>
 <cpus num='2'><cpu id='0'/><cpu id='1'/></cpus></cell>
<cell id='1'><memory unit='KiB'>4194304</memory><pages unit='KiB' size='2048'>0</pages>
 <cpus num='2'><cpu id='2'/><cpu id='3'/></cpus></cell>
</cells></topology></host></capabilities>"""


def test_cells_and_huge_pages_from_capabilities() -> None:
    def free(sizes: object, start: int, count: int) -> dict[int, dict[int, int]]:
        assert (start, count) == (0, 2)
        return {0: {2048: 60, 1048576: 0}, 1: {2048: 0}}

    cells = numa_cells(ET.fromstring(CAPS), free)
    assert [(c.id, sorted(c.cpus), c.memory_mib) for c in cells] == [
        (0, [0, 1], 8192),
        (1, [2, 3], 4096),
    ]
    assert cells[0].hugepages == {2048: (64, 60), 1048576: (0, 0)}  # no 4 KiB base pages
    assert numa_traits(cells) == {"hugepages"}
    none = numa_cells(ET.fromstring(CAPS.replace(">64<", ">0<")))
    assert numa_traits(none) == set()  # the trait means "has huge pages", not "could use"
    assert numa_cells(ET.fromstring("<capabilities/>")) == ()
