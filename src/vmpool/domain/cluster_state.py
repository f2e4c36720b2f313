"""The offline cluster state: a JSON document describing hosts, VMs and the pool policy,
parsed and validated from a plain dict (no file I/O here: the caller reads the file).

    {"version": 1,
     "hosts": [{"name": "node-001", "vcpus": 64, "memory_mib": 262144, "disk_gib": 4000,
                "state": "up"}],
     "vms":   [{"name": "vm-00001", "host": "node-001", "vcpus": 4, "memory_mib": 8192,
                "disk_gib": 40, "cpu_usage": 0.35, "migratable": true}],
     "policy": {"cpu_allocation_ratio": 4.0, "ram_allocation_ratio": 1.0,
                "disk_allocation_ratio": 1.0, "strategy": "balance", "max_migrations": 50}}

`parse_cluster` is strict: unknown keys, wrong types, negative sizes, duplicate names, a VM
on an unknown host, an unknown state or strategy all raise `InvalidInput` naming the field.
A host whose VMs exceed its capacity is accepted (it is the planner's job to fix it) and
reported in `ClusterState.overcommitted_hosts` and `warnings`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from vmpool.domain.model import (
    AllocationPolicy,
    GroupPolicy,
    HostOverrides,
    Resources,
    claim,
    host_capacity,
)
from vmpool.errors import InvalidInput

if TYPE_CHECKING:  # pragma: no cover
    from vmpool.domain.rebalance import Plan

SNAPSHOT_VERSION = 1

_E = TypeVar("_E", bound=enum.StrEnum)


class Strategy(enum.StrEnum):
    BALANCE = "balance"
    CONSOLIDATE = "consolidate"


class ClusterHostState(enum.StrEnum):
    UP = "up"
    MAINTENANCE = "maintenance"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class ClusterHost:
    name: str
    vcpus: int
    memory_mib: float
    disk_gib: float = 0.0
    state: ClusterHostState = ClusterHostState.UP
    # Per-host exceptions to the pool's ratios and reservations (optional in the JSON).
    overrides: HostOverrides = field(default_factory=HostOverrides)

    @property
    def is_up(self) -> bool:
        return self.state is ClusterHostState.UP


@dataclass(frozen=True, slots=True)
class ClusterVm:
    name: str
    host: str
    vcpus: int
    memory_mib: float
    disk_gib: float = 0.0
    # Fraction of the VM's vCPUs busy; None (no sample) counts as 1.0 (fully busy).
    cpu_usage: float | None = None
    migratable: bool = True
    group: str | None = None
    # Memory dirtying rate in MiB/s, if measured: raises the cost of migrating the VM.
    dirty_rate: float | None = None
    # Dedicated resources: vCPUs and memory count at ratio 1.0, as in placement.
    guaranteed: bool = False
    # The hosts that can run it (its placement requirements: traits, architecture, domain
    # type, allowed hosts); None: any host.
    hosts: frozenset[str] | None = None

    @property
    def load(self) -> float:
        """Busy vCPUs: vcpus * cpu_usage, a VM with no sample counting as fully busy."""
        return self.vcpus * (1.0 if self.cpu_usage is None else self.cpu_usage)


@dataclass(frozen=True, slots=True)
class GroupSpec:
    name: str
    policy: GroupPolicy
    hard: bool = True


@dataclass(frozen=True, slots=True)
class ClusterPolicy:
    allocation: AllocationPolicy = field(
        default_factory=lambda: AllocationPolicy(reserved_memory_mib=0)
    )
    strategy: Strategy = Strategy.BALANCE
    max_migrations: int = 50
    min_gain: float | None = None
    max_memory_mib: float | None = None  # the memory a plan may copy; None: no such budget


@dataclass(frozen=True, slots=True)
class ClusterState:
    hosts: tuple[ClusterHost, ...]
    vms: tuple[ClusterVm, ...]
    policy: ClusterPolicy = field(default_factory=ClusterPolicy)
    groups: Mapping[str, GroupSpec] = field(default_factory=dict)
    version: int = SNAPSHOT_VERSION
    overcommitted_hosts: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def capacity(self, host: ClusterHost) -> Resources:
        """(physical - reserved) * allocation ratio, as `host_capacity` computes it."""
        return host_capacity(
            Resources(float(host.vcpus), float(host.memory_mib), float(host.disk_gib)),
            self.policy.allocation,
            host.overrides,
        )

    def ratios(self, host: ClusterHost) -> tuple[float, float]:
        """The host's (vCPU, memory) allocation ratios: what a guaranteed VM is scaled by."""
        alloc, o = self.policy.allocation, host.overrides
        cpu = (
            alloc.cpu_allocation_ratio if o.cpu_allocation_ratio is None else o.cpu_allocation_ratio
        )
        ram = (
            alloc.ram_allocation_ratio if o.ram_allocation_ratio is None else o.ram_allocation_ratio
        )
        return cpu, ram

    def cpu_threads(self, host: ClusterHost) -> float:
        """Physical vCPUs available to guests (for measured load): vcpus - reserved."""
        reserved = host.overrides.reserved_vcpus
        if reserved is None:
            reserved = self.policy.allocation.reserved_vcpus
        return max(0.0, float(host.vcpus - reserved))


# --- parsing -------------------------------------------------------------------------------

_TOP_KEYS = {"version", "hosts", "vms", "policy", "groups"}
_HOST_OVERRIDE_KEYS = (
    "cpu_allocation_ratio",
    "ram_allocation_ratio",
    "disk_allocation_ratio",
    "reserved_vcpus",
    "reserved_memory_mib",
)
_HOST_KEYS = {"name", "vcpus", "memory_mib", "disk_gib", "state", *_HOST_OVERRIDE_KEYS}
_VM_KEYS = {
    "name",
    "host",
    "vcpus",
    "memory_mib",
    "disk_gib",
    "cpu_usage",
    "migratable",
    "group",
    "dirty_rate",
    "guaranteed",
    "hosts",
}
_POLICY_KEYS = {
    "cpu_allocation_ratio",
    "ram_allocation_ratio",
    "disk_allocation_ratio",
    "reserved_vcpus",
    "reserved_memory_mib",
    "reserved_disk_gib",
    "strategy",
    "max_migrations",
    "min_gain",
    "max_memory_mib",
}
_GROUP_KEYS = {"policy", "hard"}


def _fail(where: str, message: str) -> InvalidInput:
    return InvalidInput(f"cluster {where}: {message}", field=where)


def _obj(value: Any, where: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, f"expected an object, got {type(value).__name__}")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise _fail(where, f"unknown key(s) {', '.join(unknown)}")
    missing = sorted(required - value.keys())
    if missing:
        raise _fail(where, f"missing key(s) {', '.join(missing)}")
    return value


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "expected a non-empty string")
    return value


def _int(value: Any, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, f"expected an integer, got {value!r}")
    if value < minimum:
        raise _fail(where, f"must be >= {minimum}, got {value}")
    return value


def _num(
    value: Any,
    where: str,
    minimum: float = 0.0,
    maximum: float | None = None,
    *,
    strict: bool = False,
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, f"expected a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise _fail(where, f"expected a finite number, got {value!r}")
    if v < minimum or (strict and v == minimum):
        raise _fail(where, f"must be {'>' if strict else '>='} {minimum:g}, got {value!r}")
    if maximum is not None and v > maximum:
        raise _fail(where, f"must be <= {maximum:g}, got {value!r}")
    return v


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, f"expected true or false, got {value!r}")
    return value


def _enum(kind: type[_E], value: Any, where: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        allowed = "|".join(m.value for m in kind)
        raise _fail(where, f"unknown value {value!r} (expected {allowed})") from None


def _parse_policy(raw: Any) -> ClusterPolicy:
    p = _obj(raw, "policy", _POLICY_KEYS, set())
    alloc = AllocationPolicy(
        cpu_allocation_ratio=_num(
            p.get("cpu_allocation_ratio", 4.0), "policy.cpu_allocation_ratio", strict=True
        ),
        ram_allocation_ratio=_num(
            p.get("ram_allocation_ratio", 1.0), "policy.ram_allocation_ratio", strict=True
        ),
        disk_allocation_ratio=_num(
            p.get("disk_allocation_ratio", 1.0), "policy.disk_allocation_ratio", strict=True
        ),
        reserved_vcpus=_int(p.get("reserved_vcpus", 0), "policy.reserved_vcpus"),
        reserved_memory_mib=_int(p.get("reserved_memory_mib", 0), "policy.reserved_memory_mib"),
        reserved_disk_gib=_int(p.get("reserved_disk_gib", 0), "policy.reserved_disk_gib"),
    )
    min_gain = p.get("min_gain")
    max_memory = p.get("max_memory_mib")
    return ClusterPolicy(
        allocation=alloc,
        strategy=_enum(Strategy, p.get("strategy", "balance"), "policy.strategy"),
        max_migrations=_int(p.get("max_migrations", 50), "policy.max_migrations"),
        min_gain=None if min_gain is None else _num(min_gain, "policy.min_gain"),
        max_memory_mib=None if max_memory is None else _num(max_memory, "policy.max_memory_mib"),
    )


def _parse_overrides(h: dict[str, Any], where: str) -> HostOverrides:
    def ratio(key: str) -> float | None:
        return None if h.get(key) is None else _num(h[key], f"{where}.{key}", strict=True)

    def reserved(key: str) -> int | None:
        return None if h.get(key) is None else _int(h[key], f"{where}.{key}")

    return HostOverrides(
        cpu_allocation_ratio=ratio("cpu_allocation_ratio"),
        ram_allocation_ratio=ratio("ram_allocation_ratio"),
        disk_allocation_ratio=ratio("disk_allocation_ratio"),
        reserved_vcpus=reserved("reserved_vcpus"),
        reserved_memory_mib=reserved("reserved_memory_mib"),
    )


def _parse_groups(raw: Any) -> dict[str, GroupSpec]:
    if not isinstance(raw, dict):
        raise _fail("groups", "expected an object {name: {policy, hard}}")
    out: dict[str, GroupSpec] = {}
    for name, spec in raw.items():
        where = f"groups.{name}"
        _name(name, where)
        g = _obj(spec, where, _GROUP_KEYS, {"policy"})
        out[name] = GroupSpec(
            name=name,
            policy=_enum(GroupPolicy, g["policy"], f"{where}.policy"),
            hard=_bool(g.get("hard", True), f"{where}.hard"),
        )
    return out


def parse_cluster(data: dict[str, Any]) -> ClusterState:
    """Validate a decoded cluster state document and build a `ClusterState`.

    Raises `InvalidInput` with the offending field on any malformed input.
    """
    top = _obj(data, "document", _TOP_KEYS, {"version", "hosts", "vms"})
    version = top["version"]
    if isinstance(version, bool) or version != SNAPSHOT_VERSION:
        raise _fail("version", f"unsupported version {version!r} (expected {SNAPSHOT_VERSION})")
    policy = _parse_policy(top.get("policy", {}))
    groups = _parse_groups(top.get("groups", {}))

    raw_hosts = top["hosts"]
    if not isinstance(raw_hosts, list):
        raise _fail("hosts", "expected a list")
    hosts: list[ClusterHost] = []
    seen_hosts: set[str] = set()
    for i, raw in enumerate(raw_hosts):
        where = f"hosts[{i}]"
        h = _obj(raw, where, _HOST_KEYS, {"name", "vcpus", "memory_mib"})
        name = _name(h["name"], f"{where}.name")
        if name in seen_hosts:
            raise _fail(f"{where}.name", f"duplicate host name {name!r}")
        seen_hosts.add(name)
        hosts.append(
            ClusterHost(
                name=name,
                vcpus=_int(h["vcpus"], f"{where}.vcpus"),
                memory_mib=_num(h["memory_mib"], f"{where}.memory_mib"),
                disk_gib=_num(h.get("disk_gib", 0), f"{where}.disk_gib"),
                state=_enum(ClusterHostState, h.get("state", "up"), f"{where}.state"),
                overrides=_parse_overrides(h, where),
            )
        )

    raw_vms = top["vms"]
    if not isinstance(raw_vms, list):
        raise _fail("vms", "expected a list")
    vms: list[ClusterVm] = []
    seen_vms: set[str] = set()
    for i, raw in enumerate(raw_vms):
        where = f"vms[{i}]"
        v = _obj(raw, where, _VM_KEYS, {"name", "host", "vcpus", "memory_mib"})
        name = _name(v["name"], f"{where}.name")
        if name in seen_vms:
            raise _fail(f"{where}.name", f"duplicate VM name {name!r}")
        seen_vms.add(name)
        host = _name(v["host"], f"{where}.host")
        if host not in seen_hosts:
            raise _fail(f"{where}.host", f"VM {name!r} is on unknown host {host!r}")
        group = v.get("group")
        if group is not None:
            group = _name(group, f"{where}.group")
            if group not in groups:
                raise _fail(f"{where}.group", f"unknown group {group!r} (not in 'groups')")
        usage = v.get("cpu_usage")
        dirty = v.get("dirty_rate")
        runs_on = v.get("hosts")
        if runs_on is not None:
            if not isinstance(runs_on, list):
                raise _fail(f"{where}.hosts", "expected a list of host names")
            runs_on = frozenset(_name(h, f"{where}.hosts") for h in runs_on)
            if unknown := runs_on - seen_hosts:
                raise _fail(f"{where}.hosts", f"unknown hosts {sorted(unknown)}")
        vms.append(
            ClusterVm(
                name=name,
                host=host,
                vcpus=_int(v["vcpus"], f"{where}.vcpus"),
                memory_mib=_num(v["memory_mib"], f"{where}.memory_mib"),
                disk_gib=_num(v.get("disk_gib", 0), f"{where}.disk_gib"),
                cpu_usage=None if usage is None else _num(usage, f"{where}.cpu_usage", 0.0, 1.0),
                migratable=_bool(v.get("migratable", True), f"{where}.migratable"),
                group=group,
                dirty_rate=None if dirty is None else _num(dirty, f"{where}.dirty_rate"),
                guaranteed=_bool(v.get("guaranteed", False), f"{where}.guaranteed"),
                hosts=runs_on,
            )
        )

    return with_report(
        ClusterState(
            hosts=tuple(hosts), vms=tuple(vms), policy=policy, groups=groups, version=version
        )
    )


def _input_report(snap: ClusterState) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Hosts whose VMs exceed their capacity, and hard group rules the input already breaks."""
    used: dict[str, list[float]] = {h.name: [0.0, 0.0, 0.0] for h in snap.hosts}
    ratios = {h.name: snap.ratios(h) for h in snap.hosts}
    members: dict[str, dict[str, int]] = {}
    for vm in snap.vms:
        u = used[vm.host]
        v, m = claim(vm.vcpus, vm.memory_mib, vm.guaranteed, *ratios[vm.host])
        u[0] += v
        u[1] += m
        u[2] += vm.disk_gib
        if vm.group is not None:
            per_host = members.setdefault(vm.group, {})
            per_host[vm.host] = per_host.get(vm.host, 0) + 1
    over: list[str] = []
    warnings: list[str] = []
    for h in snap.hosts:
        cap = snap.capacity(h)
        u = used[h.name]
        short = [
            f"{what} {have:g} > {limit:g}"
            for what, have, limit in (
                ("vcpus", u[0], cap.vcpus),
                ("memory_mib", u[1], cap.memory_mib),
                ("disk_gib", u[2], cap.disk_gib),
            )
            if have > limit + 1e-9
        ]
        if short:
            over.append(h.name)
            warnings.append(f"host {h.name} is over-committed: {', '.join(short)}")
    for name, per_host in sorted(members.items()):
        spec = snap.groups[name]
        if not spec.hard:
            continue
        if spec.policy is GroupPolicy.ANTI_AFFINITY:
            crowded = sorted(h for h, n in per_host.items() if n > 1)
            if crowded:
                warnings.append(
                    f"hard anti-affinity group {name} already has several VMs on "
                    f"{', '.join(crowded)}"
                )
        elif len(per_host) > 1:
            warnings.append(
                f"hard affinity group {name} is split over {', '.join(sorted(per_host))}"
            )
    return tuple(over), tuple(warnings)


# --- output ----------------------------------------------------------------------------------


def cluster_to_json(snap: ClusterState) -> dict[str, Any]:
    """The document `parse_cluster` reads back to an equal cluster state; optional keys are
    written only when they differ from their defaults."""
    hosts: list[dict[str, Any]] = []
    for h in snap.hosts:
        host: dict[str, Any] = {
            "name": h.name,
            "vcpus": h.vcpus,
            "memory_mib": h.memory_mib,
            "disk_gib": h.disk_gib,
            "state": h.state.value,
        }
        for key in _HOST_OVERRIDE_KEYS:
            value = getattr(h.overrides, key)
            if value is not None:
                host[key] = value
        hosts.append(host)
    vms: list[dict[str, Any]] = []
    for v in snap.vms:
        vm: dict[str, Any] = {
            "name": v.name,
            "host": v.host,
            "vcpus": v.vcpus,
            "memory_mib": v.memory_mib,
            "disk_gib": v.disk_gib,
            "migratable": v.migratable,
        }
        if v.cpu_usage is not None:
            vm["cpu_usage"] = v.cpu_usage
        if v.group is not None:
            vm["group"] = v.group
        if v.dirty_rate is not None:
            vm["dirty_rate"] = v.dirty_rate
        if v.guaranteed:
            vm["guaranteed"] = True
        if v.hosts is not None:
            vm["hosts"] = sorted(v.hosts)
        vms.append(vm)
    alloc = snap.policy.allocation
    policy: dict[str, Any] = {
        "cpu_allocation_ratio": alloc.cpu_allocation_ratio,
        "ram_allocation_ratio": alloc.ram_allocation_ratio,
        "disk_allocation_ratio": alloc.disk_allocation_ratio,
        "reserved_vcpus": alloc.reserved_vcpus,
        "reserved_memory_mib": alloc.reserved_memory_mib,
        "reserved_disk_gib": alloc.reserved_disk_gib,
        "strategy": snap.policy.strategy.value,
        "max_migrations": snap.policy.max_migrations,
    }
    if snap.policy.min_gain is not None:
        policy["min_gain"] = snap.policy.min_gain
    if snap.policy.max_memory_mib is not None:
        policy["max_memory_mib"] = snap.policy.max_memory_mib
    doc: dict[str, Any] = {"version": snap.version, "hosts": hosts, "vms": vms, "policy": policy}
    if snap.groups:
        doc["groups"] = {
            g.name: {"policy": g.policy.value, "hard": g.hard} for g in snap.groups.values()
        }
    return doc


def with_report(snap: ClusterState) -> ClusterState:
    """`snap` with `overcommitted_hosts` and `warnings` filled in, as parsing does."""
    over, warnings = _input_report(snap)
    return replace(snap, overcommitted_hosts=over, warnings=warnings)


def plan_to_json(plan: Plan, seconds: float) -> dict[str, Any]:
    """The plan as the CLI prints it: the required keys `moves` ([{vm, from, to}]),
    `score_before`, `score_after`, `seconds`, plus extra keys (strategy, per-move scores,
    score components, memory moved, hosts left empty, warnings)."""
    moves: list[dict[str, Any]] = [
        {
            "vm": m.vm,
            "from": m.source,
            "to": m.target,
            "score_before": m.score_before,
            "score_after": m.score_after,
            "memory_mib": m.memory_mib,
            "disk_gib": m.disk_gib,
            "reason": m.reason,
        }
        for m in plan.moves
    ]
    return {
        "moves": moves,
        "score_before": plan.score_before,
        "score_after": plan.score_after,
        "seconds": seconds,
        "strategy": plan.strategy.value,
        "components_before": plan.components_before.as_dict(),
        "components_after": plan.components_after.as_dict(),
        "memory_mib_moved": plan.memory_mib_moved,
        "disk_gib_moved": plan.disk_gib_moved,
        "empty_hosts": list(plan.empty_hosts),
        "emptied_hosts": list(plan.emptied_hosts),
        "stopped_because": plan.stopped_because,
        "warnings": list(plan.warnings),
    }
