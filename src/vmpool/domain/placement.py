"""Placement: a pure function of (pool snapshot, request) -> a host, or a refusal
that says, filter by filter, which hosts were removed and why."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vmpool.domain.model import (
    AllocationPolicy,
    HostSnapshot,
    HostState,
    PlacementStrategy,
    Resources,
    VmRequest,
    host_capacity,
)


@dataclass(frozen=True, slots=True)
class Rejection:
    """One filter's verdict: how many hosts it removed, and why."""

    filter: str
    hosts: tuple[str, ...]
    reason: str

    def describe(self) -> str:
        n = len(self.hosts)
        return f"{n} host{'s' if n != 1 else ''}: {self.reason}"


@dataclass(frozen=True, slots=True)
class PlacementResult:
    host: HostSnapshot | None
    rejections: tuple[Rejection, ...]
    candidates: int

    @property
    def explanation(self) -> str:
        if not self.rejections and self.candidates == 0:
            return "the pool has no hosts"
        return "; ".join(r.describe() for r in self.rejections)


HostFilter = Callable[[HostSnapshot], bool]


def free_resources(host: HostSnapshot, policy: AllocationPolicy) -> Resources:
    return host_capacity(host.physical, policy, host.overrides) - host.used


def _fractions_after(
    host: HostSnapshot, policy: AllocationPolicy, request: Resources
) -> tuple[float, float]:
    cap = host_capacity(host.physical, policy, host.overrides)
    cpu = (host.used.vcpus + request.vcpus) / cap.vcpus if cap.vcpus else 1.0
    mem = (host.used.memory_mib + request.memory_mib) / cap.memory_mib if cap.memory_mib else 1.0
    return cpu, mem


def _rank_key(
    strategy: PlacementStrategy, policy: AllocationPolicy, request: Resources
) -> Callable[[HostSnapshot], tuple[float, str]]:
    def key(host: HostSnapshot) -> tuple[float, str]:
        cpu, mem = _fractions_after(host, policy, request)
        if strategy is PlacementStrategy.SPREAD:
            score = max(cpu, mem)  # least loaded after placement first
        elif strategy is PlacementStrategy.PACK:
            score = -max(cpu, mem)  # fullest host that still fits first
        else:  # BALANCED: keep vCPU and memory use even on the host
            score = abs(cpu - mem) + max(cpu, mem) * 1e-3
        # The name breaks ties, so that equal pools always place the same way.
        return score, host.name

    return key


def place(
    hosts: Sequence[HostSnapshot], request: VmRequest, policy: AllocationPolicy
) -> PlacementResult:
    """Choose a host for `request`, or explain why none can take it."""
    need = request.resources
    rejections: list[Rejection] = []
    remaining = list(hosts)

    def apply(name: str, keep: HostFilter, reason: Callable[[list[HostSnapshot]], str]) -> None:
        nonlocal remaining
        kept: list[HostSnapshot] = []
        removed: list[HostSnapshot] = []
        for h in remaining:
            (kept if keep(h) else removed).append(h)
        if removed:
            rejections.append(Rejection(name, tuple(h.name for h in removed), reason(removed)))
        remaining = kept

    if request.allowed_hosts is not None:
        allowed = request.allowed_hosts
        apply(
            "requested_hosts",
            lambda h: h.name in allowed,
            lambda _: "not among the requested hosts",
        )
    if request.excluded_hosts:
        excluded = request.excluded_hosts
        apply(
            "excluded_hosts", lambda h: h.name not in excluded, lambda _: "excluded by the request"
        )
    apply("host_state", lambda h: h.state is HostState.UP, _state_reason)
    if request.arch is not None:
        arch = request.arch
        apply("architecture", lambda h: h.arch == arch, lambda _: f"architecture is not {arch}")
    if request.domain_type is not None:
        dt = request.domain_type
        apply(
            "domain_type",
            lambda h: dt in h.domain_types,
            lambda _: f"cannot run {dt.value} domains",
        )
    if request.required_traits:
        traits = request.required_traits
        apply(
            "traits",
            lambda h: traits <= h.traits,
            lambda _: f"lacks required traits {', '.join(sorted(traits))}",
        )
    apply(
        "capacity",
        lambda h: need.fits_in(free_resources(h, policy)),
        lambda removed: _capacity_reason(removed, need, policy),
    )

    if not remaining:
        return PlacementResult(None, tuple(rejections), len(hosts))
    best = min(remaining, key=_rank_key(policy.strategy, policy, need))
    return PlacementResult(best, tuple(rejections), len(hosts))


def _state_reason(removed: list[HostSnapshot]) -> str:
    states = sorted({h.state.value for h in removed})
    return "not up (" + ", ".join(states) + ")"


def _capacity_reason(removed: list[HostSnapshot], need: Resources, policy: AllocationPolicy) -> str:
    frees = [free_resources(h, policy) for h in removed]
    parts: list[str] = []
    if any(f.memory_mib < need.memory_mib for f in frees):
        best = max(f.memory_mib for f in frees)
        parts.append(
            f"not enough memory (need {need.memory_mib:g} MiB, best has {best:g} MiB free)"
        )
    if any(f.vcpus < need.vcpus for f in frees):
        best = max(f.vcpus for f in frees)
        parts.append(f"not enough vCPUs (need {need.vcpus:g}, best has {best:g} free)")
    if any(f.disk_gib < need.disk_gib for f in frees):
        best = max(f.disk_gib for f in frees)
        parts.append(f"not enough disk (need {need.disk_gib:g} GiB, best has {best:g} GiB free)")
    return " / ".join(parts) or "not enough capacity"
