"""Hot-plug and resize of a VM's vCPUs and memory: the rules, without I/O.

A VM has current sizes (`vcpus`, `memory_mib`: what its host's claim and its project's quota
count) and maxima set at create (`max_vcpus`, `max_memory_mib`: the domain's `<vcpu>` and
`<memory>`). A resize moves the current sizes within 1..max. While libvirt is asked, the
VM's claim is the larger of the old and the new size of each dimension: growth is claimed
before the hypervisor is asked (and given back if it fails), a shrink frees its capacity
only once libvirt confirmed it (docs/lifecycle.md, "Hot-plug and resize").
"""

from __future__ import annotations

from dataclasses import dataclass

from vmpool.domain import limits
from vmpool.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Sizes:
    vcpus: int
    memory_mib: int


def check_maxima(vcpus: int, memory_mib: int, max_vcpus: int, max_memory_mib: int) -> None:
    """At create: the maxima are within the limits and at least the initial sizes."""
    limits.VCPUS.check(max_vcpus, "max_vcpus")
    limits.MEMORY_MIB.check(max_memory_mib, "max_memory_mib")
    if max_vcpus < vcpus:
        raise InvalidInput(
            f"max_vcpus ({max_vcpus}) must be at least vcpus ({vcpus})", field="max_vcpus"
        )
    if max_memory_mib < memory_mib:
        raise InvalidInput(
            f"max_memory_mib ({max_memory_mib}) must be at least memory_mib ({memory_mib})",
            field="max_memory_mib",
        )


@dataclass(frozen=True, slots=True)
class ResizePlan:
    before: Sizes
    after: Sizes

    @property
    def claim_during(self) -> Sizes:
        """What the VM claims while libvirt is asked: the larger size of each dimension."""
        return Sizes(
            max(self.before.vcpus, self.after.vcpus),
            max(self.before.memory_mib, self.after.memory_mib),
        )

    @property
    def growth(self) -> Sizes:
        """What the resize claims on top of the VM's claim (0 where it shrinks or stays)."""
        during = self.claim_during
        return Sizes(during.vcpus - self.before.vcpus, during.memory_mib - self.before.memory_mib)

    @property
    def grows(self) -> bool:
        return self.growth != Sizes(0, 0)


def plan_resize(
    current: Sizes, maximum: Sizes, vcpus: int | None, memory_mib: int | None
) -> ResizePlan:
    """The resize to `vcpus` and/or `memory_mib` (None: unchanged), or InvalidInput (422)
    naming the field: at least one given, each within its limit and the VM's maximum."""
    if vcpus is None and memory_mib is None:
        raise InvalidInput("give vcpus and/or memory_mib", field="vcpus")
    if vcpus is not None:
        limits.VCPUS.check(vcpus, "vcpus")
        if vcpus > maximum.vcpus:
            raise InvalidInput(
                f"vcpus {vcpus} is above the VM's max_vcpus ({maximum.vcpus}): it grows within "
                "the maximum set at create",
                field="vcpus",
                max_vcpus=maximum.vcpus,
            )
    if memory_mib is not None:
        limits.MEMORY_MIB.check(memory_mib, "memory_mib")
        if memory_mib > maximum.memory_mib:
            raise InvalidInput(
                f"memory_mib {memory_mib} is above the VM's max_memory_mib "
                f"({maximum.memory_mib}): it grows within the maximum set at create",
                field="memory_mib",
                max_memory_mib=maximum.memory_mib,
            )
    after = Sizes(
        vcpus if vcpus is not None else current.vcpus,
        memory_mib if memory_mib is not None else current.memory_mib,
    )
    return ResizePlan(before=current, after=after)
