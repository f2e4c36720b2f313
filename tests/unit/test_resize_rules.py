"""The rules of a resize (domain/resize.py): the maxima at create, the new sizes within
them, and the claim while libvirt is asked (the larger size of each dimension)."""

from __future__ import annotations

import pytest

from vmpool.domain.resize import ResizePlan, Sizes, check_maxima, plan_resize
from vmpool.domain.vm import VM_TRANSITIONS, VmState
from vmpool.errors import InvalidInput

NOW = Sizes(2, 1024)
MAX = Sizes(4, 4096)


def test_maxima_default_and_bounds() -> None:
    check_maxima(2, 1024, 2, 1024)  # equal: fine (no growth)
    check_maxima(2, 1024, 512, 16 * 1024 * 1024)
    for args, field in [
        ((2, 1024, 1, 1024), "max_vcpus"),
        ((2, 1024, 2, 512), "max_memory_mib"),
        ((2, 1024, 513, 1024), "max_vcpus"),
        ((2, 1024, 2, 16 * 1024 * 1024 + 1), "max_memory_mib"),
        ((2, 1024, 0, 1024), "max_vcpus"),
    ]:
        with pytest.raises(InvalidInput) as err:
            check_maxima(*args)
        assert err.value.details["field"] == field


@pytest.mark.parametrize(
    ("vcpus", "memory", "field"),
    [
        (0, None, "vcpus"),
        (-1, None, "vcpus"),
        (5, None, "vcpus"),  # above max_vcpus
        (10**9, None, "vcpus"),
        (None, 4097, "memory_mib"),  # above max_memory_mib
        (None, 15, "memory_mib"),  # below the smallest memory a VM may have
        (None, 0, "memory_mib"),
        (None, None, "vcpus"),  # nothing asked
    ],
)
def test_bad_sizes_are_refused_naming_the_field(
    vcpus: int | None, memory: int | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        plan_resize(NOW, MAX, vcpus, memory)
    assert err.value.details["field"] == field


def test_growth_is_claimed_and_a_shrink_keeps_the_larger_claim() -> None:
    grow = plan_resize(NOW, MAX, 4, 2048)
    assert grow.after == Sizes(4, 2048)
    assert grow.claim_during == Sizes(4, 2048) and grow.growth == Sizes(2, 1024) and grow.grows
    shrink = plan_resize(NOW, MAX, 1, 512)
    assert shrink.claim_during == NOW and shrink.growth == Sizes(0, 0) and not shrink.grows
    mixed = plan_resize(NOW, MAX, 3, 512)  # one grows, the other shrinks
    assert mixed.claim_during == Sizes(3, 1024) and mixed.growth == Sizes(1, 0)
    only_memory = plan_resize(NOW, MAX, None, 4096)
    assert only_memory.after == Sizes(2, 4096) and only_memory.growth == Sizes(0, 3072)
    assert ResizePlan(NOW, NOW).growth == Sizes(0, 0)


def test_a_resize_starts_only_from_running_or_stopped() -> None:
    assert VM_TRANSITIONS["resize"].sources == {VmState.RUNNING, VmState.STOPPED}
    assert VmState.RESIZING.is_transitional
    assert VmState.RESIZING not in VM_TRANSITIONS["begin_migration"].sources
    assert VmState.RESIZING not in VM_TRANSITIONS["delete"].sources
