"""Huge pages against a host's memory (docs/hardware.md): the memory a host's huge
pages hold is not ordinary memory, and a VM backed by huge pages takes its memory from its
pages only. Pure rules, placement and the planner's view of the same figures."""

from __future__ import annotations

import pytest

from vmpool.domain.cluster_state import ClusterHost, ClusterState, ClusterVm, with_report
from vmpool.domain.cpu_pinning import (
    hugepages_held_mib,
    ordinary_memory_claim_mib,
    ordinary_memory_mib,
)
from vmpool.domain.hardware import CpuPolicy, HardwareRequest, HardwareUse, HostHardware, NumaCell
from vmpool.domain.host import HostState
from vmpool.domain.model import (
    AllocationPolicy,
    PlacementRequirements,
    Resources,
    make_placement_host,
)
from vmpool.domain.placement import capacity, place

# 2 cells: 512 2M pages each (1 GiB per cell) and one 1G page on cell 1: 3 GiB of pages
CELLS = (
    NumaCell(0, frozenset({0, 1}), 8192, {2048: (512, 100)}),
    NumaCell(1, frozenset({2, 3}), 8192, {2048: (512, 512), 1048576: (1, 1)}),
)
POLICY = AllocationPolicy(ram_allocation_ratio=1.5, reserved_memory_mib=512, reserved_vcpus=0)


def host(used_mib: float = 0, cells: tuple[NumaCell, ...] = CELLS, pages_claimed: int = 0):  # type: ignore[no-untyped-def]  # fmt: skip
    return make_placement_host(
        id=1, name="h1", state=HostState.UP, physical=Resources(4, 16384, 100), policy=POLICY,
        shared_use=Resources(0, used_mib, 0), hardware=HostHardware(cells=cells),
        hardware_use=HardwareUse(hugepages_mib={(-1, 2048): pages_claimed}),
    )  # fmt: skip


def vm(memory: int, pages: str | None = None, dedicated: bool = False) -> PlacementRequirements:
    policy = CpuPolicy.DEDICATED if dedicated else CpuPolicy.SHARED
    return PlacementRequirements(
        vcpus=1, memory_mib=memory, hardware=HardwareRequest(cpu_policy=policy, hugepages=pages)
    )


def test_the_memory_huge_pages_hold_is_not_ordinary_memory() -> None:
    assert hugepages_held_mib(CELLS) == 1024 + 1024 + 1024  # total pages, not libvirt's free
    assert hugepages_held_mib(()) == 0
    assert ordinary_memory_mib(16384, CELLS) == 16384 - 3072
    assert ordinary_memory_mib(2048, CELLS) == 0  # never below nothing
    assert ordinary_memory_claim_mib(512, None) == 512
    assert ordinary_memory_claim_mib(512, "2M") == ordinary_memory_claim_mib(1024, "1G") == 0
    # capacity: (physical - huge pages - reserved) * ratio; without pages as before
    assert host().capacity.memory_mib == pytest.approx((16384 - 3072 - 512) * 1.5)
    assert host(cells=()).capacity.memory_mib == pytest.approx((16384 - 512) * 1.5)


def test_a_huge_page_vm_claims_its_pages_not_the_ordinary_memory() -> None:
    h = host()
    assert vm(1024, "2M").claim_on(h).memory_mib == 0
    assert vm(1024, "2M", dedicated=True).claim_on(h) == Resources(0, 0, 0)
    assert vm(1024).claim_on(h).memory_mib == 1024
    assert vm(1024, "2M").ordinary_need() == (1, 0)


def test_placement_keeps_ordinary_vms_out_of_the_huge_pages() -> None:
    cap = (16384 - 3072 - 512) * 1.5  # 19200 MiB of ordinary memory at the ratio
    # fits the physical memory at the ratio, not the memory outside the huge pages
    too_big = place([host()], vm(int(cap) + 1), POLICY)
    assert too_big.host is None and [r.filter for r in too_big.rejections] == ["capacity"]
    assert place([host()], vm(int(cap)), POLICY).host is not None
    # ordinary memory full: a huge-page VM still fits in its pages, an ordinary one does not
    full = host(used_mib=cap)
    assert place([full], vm(1024, "2M"), POLICY).host is not None
    assert place([full], vm(2), POLICY).host is None
    # its pages gone: refused by the hugepages filter, whatever the ordinary memory
    no_pages = host(pages_claimed=2048)
    refused = place([no_pages], vm(256, "2M"), POLICY)
    assert refused.host is None and [r.filter for r in refused.rejections] == ["hugepages"]
    # how many more fit: huge-page VMs are bounded by the pages (the filter) not the memory
    assert capacity([host()], vm(2048)).total == int(cap // 2048)


def test_the_planner_counts_the_same_ordinary_memory() -> None:
    """The planner's view (services/cluster_state.py) gives hosts their ordinary memory and
    huge-page VMs no ordinary memory: its overcommit report agrees with placement."""
    snap = with_report(
        ClusterState(
            hosts=(ClusterHost("h1", 4, ordinary_memory_mib(16384, CELLS)),),
            vms=(
                ClusterVm("hp", "h1", 1, float(ordinary_memory_claim_mib(3072, "2M"))),
                ClusterVm("plain", "h1", 1, 13000.0),
            ),
        )
    )
    assert snap.overcommitted_hosts == ()
    over = with_report(
        ClusterState(
            hosts=(ClusterHost("h1", 4, ordinary_memory_mib(16384, CELLS)),),
            vms=(ClusterVm("plain", "h1", 1, 14000.0),),
        )
    )
    assert over.overcommitted_hosts == ("h1",)
