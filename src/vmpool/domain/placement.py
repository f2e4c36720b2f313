"""Placement: a pure function of (the pool's hosts, request) -> a host, or a refusal that
says, filter by filter, how many hosts were removed and why.

The same filters serve `place` (one VM) and `capacity` (how many more fit), so the
capacity endpoint never promises what placement would refuse. Written as one pass
over the hosts with plain float arithmetic: at 1,000 hosts a placement takes about
a millisecond (see docs/performance.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from vmpool.domain.hardware import HARDWARE_FILTER_NAMES, hardware_filters
from vmpool.domain.host import HostState
from vmpool.domain.model import (
    AllocationPolicy,
    GroupPolicy,
    PlacementHost,
    PlacementRequirements,
    PlacementStrategy,
    claim,
    group_admits,
)
from vmpool.errors import NoCapacity

# The filters, in the order a refusal lists them.
FILTER_ORDER = (
    "requested_hosts",
    "excluded_hosts",
    "host_state",
    "architecture",
    "domain_type",
    "traits",
    "networks",
    "affinity",
    "anti_affinity",
    *HARDWARE_FILTER_NAMES,
    "capacity",
)
HARDWARE_FILTERS = hardware_filters()


@dataclass(frozen=True, slots=True)
class Rejection:
    """One filter's verdict: which hosts it removed, and why."""

    filter: str
    hosts: tuple[str, ...]
    reason: str

    def describe(self) -> str:
        n = len(self.hosts)
        return f"{n} host{'s' if n != 1 else ''}: {self.reason}"


@dataclass(frozen=True, slots=True)
class PlacementResult:
    host: PlacementHost | None
    rejections: tuple[Rejection, ...]
    candidates: int

    @property
    def explanation(self) -> str:
        if not self.rejections and self.candidates == 0:
            return "the pool has no hosts"
        return "; ".join(r.describe() for r in self.rejections)


def _filter_reason(host: PlacementHost, req: PlacementRequirements) -> str | None:
    """The first filter (other than capacity) that removes `host`, or None."""
    if req.allowed_hosts is not None and host.name not in req.allowed_hosts:
        return "requested_hosts"
    if host.name in req.excluded_hosts:
        return "excluded_hosts"
    if host.state is not HostState.UP:
        return "host_state"
    if req.arch is not None and host.arch != req.arch:
        return "architecture"
    if req.domain_type is not None and req.domain_type not in host.domain_types:
        return "domain_type"
    if req.required_traits and not req.required_traits <= host.traits:
        return "traits"
    if req.networks and not req.networks <= host.networks:
        return "networks"
    group = req.group
    if group is not None and group.hard:
        here = len(group.members_on.get(host.name, ()))
        others = sum(len(names) for names in group.members_on.values())
        if not group_admits(group.policy, here, others):
            return "anti_affinity" if group.policy is GroupPolicy.ANTI_AFFINITY else "affinity"
    if req.hardware.special:
        for name, check in HARDWARE_FILTERS:
            if check(host, req) is not None:
                return name
    return None


def meets_requirements(host: PlacementHost, req: PlacementRequirements) -> bool:
    """Whether `host` can run the VM at all, whatever its state, load or group: the allowed
    hosts, architecture, domain type, traits and networks (what the rebalance planner must
    keep)."""
    return (
        (req.allowed_hosts is None or host.name in req.allowed_hosts)
        and (req.arch is None or host.arch == req.arch)
        and (req.domain_type is None or req.domain_type in host.domain_types)
        and req.required_traits <= host.traits
        and req.networks <= host.networks
    )


def _needs_full_filter(req: PlacementRequirements) -> bool:
    return bool(
        req.allowed_hosts is not None
        or req.excluded_hosts
        or req.arch is not None
        or req.domain_type is not None
        or req.required_traits
        or req.networks
        or (req.group is not None and req.group.hard)
        or req.hardware.special
    )


def _soft_penalty(host: PlacementHost, req: PlacementRequirements) -> float:
    group = req.group
    if group is None or group.hard:
        return 0.0
    members_here = len(group.members_on.get(host.name, ()))
    return float(members_here if group.policy is GroupPolicy.ANTI_AFFINITY else -members_here)


def place(
    hosts: Sequence[PlacementHost], request: PlacementRequirements, policy: AllocationPolicy
) -> PlacementResult:
    """Choose a host for `request`, or explain why none can take it.

    Ranking: soft group rules first, then the strategy (spread: least loaded after
    placement; pack: the fullest that still fits; balanced: vCPU and memory use
    closest to even), then the host name, so that equal pools place the same way.
    """
    removed: dict[str, list[PlacementHost]] = {}
    best: PlacementHost | None = None
    best_key: tuple[float, float, str] | None = None
    strategy = policy.strategy
    full_filter = _needs_full_filter(request)
    soft_rule = request.group is not None and not request.group.hard
    # A dedicated VM's vCPUs are counted by the dedicated_cpus filter, a huge-page VM's memory
    # by the hugepages filter, not here (no double count).
    need_v, need_m = request.ordinary_need()
    need_d = float(request.disk_gib)
    guaranteed = request.guaranteed
    up = HostState.UP
    for host in hosts:
        # The common request filters on state and capacity only: keep that path lean,
        # it runs once per host per placement.
        if full_filter:
            reason = _filter_reason(host, request)
        else:
            reason = None if host.state is up else "host_state"
        if reason is not None:
            removed.setdefault(reason, []).append(host)
            continue
        nv, nm = claim(need_v, need_m, guaranteed, host.cpu_ratio, host.ram_ratio)
        cap, used = host.capacity, host.used
        after_v = used.vcpus + nv
        after_m = used.memory_mib + nm
        if after_v > cap.vcpus or after_m > cap.memory_mib or used.disk_gib + need_d > cap.disk_gib:
            removed.setdefault("capacity", []).append(host)
            continue
        cpu = after_v / cap.vcpus if cap.vcpus else 1.0
        mem = after_m / cap.memory_mib if cap.memory_mib else 1.0
        high = cpu if cpu > mem else mem
        if strategy is PlacementStrategy.SPREAD:
            score = high
        elif strategy is PlacementStrategy.PACK:
            score = -high
        else:
            score = abs(cpu - mem) + 1e-3 * high
        key = (_soft_penalty(host, request) if soft_rule else 0.0, score, host.name)
        if best_key is None or key < best_key:
            best, best_key = host, key
    return PlacementResult(best, _rejections(removed, request), len(hosts))


@dataclass(frozen=True, slots=True)
class HostRoom:
    host: str
    count: int


@dataclass(frozen=True, slots=True)
class CapacityReport:
    """How many more VMs of one size fit: per host and in total (Ganeti's hspace)."""

    per_host: tuple[HostRoom, ...]
    total: int
    rejections: tuple[Rejection, ...]


def capacity(hosts: Sequence[PlacementHost], request: PlacementRequirements) -> CapacityReport:
    removed: dict[str, list[PlacementHost]] = {}
    rooms: list[HostRoom] = []
    for host in hosts:
        reason = _filter_reason(host, request)
        if reason is not None:
            removed.setdefault(reason, []).append(host)
            continue
        need = request.claim_on(host)
        free = host.free
        counts = [
            math.floor(f / n + 1e-9)
            for f, n in (
                (free.vcpus, need.vcpus),
                (free.memory_mib, need.memory_mib),
                (free.disk_gib, need.disk_gib),
            )
            if n > 0
        ]
        count = max(0, min(counts)) if counts else 0
        group = request.group
        if group is not None and group.hard and group.policy is GroupPolicy.ANTI_AFFINITY:
            count = min(count, 1)
        if count == 0:
            removed.setdefault("capacity", []).append(host)
        rooms.append(HostRoom(host.name, count))
    total = sum(r.count for r in rooms)
    if (
        request.group is not None
        and request.group.hard
        and request.group.policy is GroupPolicy.AFFINITY
    ):
        total = max((r.count for r in rooms), default=0)  # all on one host
    return CapacityReport(tuple(rooms), total, _rejections(removed, request))


def _rejections(
    removed: dict[str, list[PlacementHost]], req: PlacementRequirements
) -> tuple[Rejection, ...]:
    out: list[Rejection] = []
    for name in FILTER_ORDER:
        hosts = removed.get(name)
        if not hosts:
            continue
        if name == "host_state":
            by_state: dict[str, list[PlacementHost]] = {}
            for h in hosts:
                by_state.setdefault(h.state.value, []).append(h)
            for state in sorted(by_state):
                label = "in maintenance" if state == HostState.MAINTENANCE.value else state
                out.append(Rejection(name, tuple(h.name for h in by_state[state]), label))
            continue
        out.append(Rejection(name, tuple(h.name for h in hosts), _reason(name, hosts, req)))
    return tuple(out)


def _reason(name: str, hosts: list[PlacementHost], req: PlacementRequirements) -> str:
    if name == "requested_hosts":
        return "not among the requested hosts"
    if name == "excluded_hosts":
        return "excluded by the request"
    if name == "architecture":
        return f"architecture is not {req.arch}"
    if name == "domain_type":
        assert req.domain_type is not None
        return f"cannot run {req.domain_type.value} domains"
    if name == "traits":
        missing = sorted(set().union(*(req.required_traits - h.traits for h in hosts)))
        return f"lack trait {', '.join(missing)}"
    if name == "networks":
        missing = sorted(set().union(*(req.networks - h.networks for h in hosts)))
        return f"lack network {', '.join(missing)}"
    if name in ("affinity", "anti_affinity"):
        assert req.group is not None
        members = sorted({m for h in hosts for m in req.group.members_on.get(h.name, ())})
        if name == "affinity":
            where = ", ".join(sorted(req.group.members_on))
            return f"affinity with group {req.group.name} (its VMs run on {where})"
        shown = ", ".join(members[:3]) + (", ..." if len(members) > 3 else "")
        return f"anti-affinity with vm {shown}"
    for hw_name, check in HARDWARE_FILTERS:
        if hw_name == name:
            # Each host's own reason, the distinct ones in order (e.g. "no free gpu:a100").
            reasons = dict.fromkeys(r for h in hosts if (r := check(h, req)) is not None)
            return "; ".join(reasons) or name
    return _capacity_reason(hosts, req)


def _capacity_reason(hosts: list[PlacementHost], req: PlacementRequirements) -> str:
    parts: list[str] = []
    needs = [(h, req.claim_on(h), h.free) for h in hosts]
    if any(f.memory_mib < n.memory_mib for _, n, f in needs):
        best = max(f.memory_mib for _, _, f in needs)
        parts.append(f"not enough memory (need {req.memory_mib} MiB, best has {best:g} MiB free)")
    if any(f.vcpus < n.vcpus for _, n, f in needs) and any(n.vcpus for _, n, _ in needs):
        best = max(f.vcpus for _, _, f in needs)
        parts.append(f"not enough vCPUs (need {req.vcpus}, best has {best:g} free)")
    if any(f.disk_gib < n.disk_gib for _, n, f in needs):
        best = max(f.disk_gib for _, _, f in needs)
        parts.append(f"not enough disk (need {req.disk_gib} GiB, best has {best:g} GiB free)")
    return " / ".join(parts) or "no room for another VM of this size"


def place_or_refuse(
    hosts: Sequence[PlacementHost], request: PlacementRequirements, policy: AllocationPolicy
) -> PlacementHost:
    """The chosen host, or a 409 that carries placement's explanation."""
    result = place(hosts, request, policy)
    if result.host is None:
        raise NoCapacity(
            f"no host can take this VM: {result.explanation}",
            rejections=[
                {"filter": r.filter, "hosts": len(r.hosts), "reason": r.reason}
                for r in result.rejections
            ],
        )
    return result.host


def check_shared_room(capacity_gib: int | None, used_gib: int, asked_gib: int) -> None:
    """Shared storage is one file system for the whole pool: what its disks take must fit in
    it. Unknown capacity (no host has measured it yet) lets the disk through."""
    if capacity_gib is None or asked_gib <= 0:
        return
    free = capacity_gib - used_gib
    if asked_gib > free:
        reason = f"shared storage has {max(free, 0)} GiB free of {capacity_gib}, {asked_gib} asked"
        raise NoCapacity(
            f"no room for this disk: {reason}",
            rejections=[{"filter": "shared_disk", "hosts": 0, "reason": reason}],
        )
