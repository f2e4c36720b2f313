"""The rebalance planner: a pure function of a cluster state to an ordered list of
single-VM live migrations, each valid when applied in order, with the pool score before and
after each move (see docs/rebalance.md).

Pool score, lower is better (Ganeti-style): the sum of the population standard deviations,
over the hosts that are `up`, of three per-host fractions - vCPU allocation / capacity,
memory allocation / capacity and measured CPU load (busy vCPUs / physical vCPUs) - plus
1.0 for every VM still on a `maintenance`/`down` host and 1.0 for every soft group
violation. `consolidate` replaces the three deviations with the number of non-empty up
hosts plus a packing term in [0, 1): 1 - mean(cpu_alloc^2 + mem_alloc^2) / 2.

The search is a greedy hill climber over single-VM moves (as Ganeti's hbal), pruned to the
VMs of the most loaded hosts per metric and the least loaded targets per metric, with an
O(1) score delta per candidate from per-metric sums and sums of squares.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from vmpool.domain.cluster_state import (
    ClusterState,
    ClusterVm,
    Strategy,
    plan_to_json,
)
from vmpool.domain.model import GroupPolicy, claim, group_admits
from vmpool.errors import InvalidInput

__all__ = [
    "DEFAULT_MIN_GAIN",
    "CoolDown",
    "HostFigures",
    "Hysteresis",
    "Move",
    "Plan",
    "PlannerConfig",
    "ScoreComponents",
    "Strategy",
    "apply_moves",
    "check_move",
    "host_figures",
    "hot_hosts",
    "plan",
    "plan_to_json",
    "score",
]

DEFAULT_MIN_GAIN = 1e-4
EVACUATION_WEIGHT = 1.0  # per VM left on a maintenance/down host
SOFT_GROUP_WEIGHT = 1.0  # per soft group violation
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class PlannerConfig:
    """Planner knobs. `None` means "take the cluster policy's value": strategy from
    policy.strategy, max_moves from policy.max_migrations, min_gain from policy.min_gain
    (else DEFAULT_MIN_GAIN). `strategy` may be given as a Strategy or its string value.

    Two budgets, either or both; the plan stops at whichever is reached first:
    - `max_moves`, a number of migrations: each step takes the move that gains the most;
      among moves within `near_tie` of the best gain, the one that copies the least memory.
    - `max_memory_mib`, the memory the plan may copy (the sum of the moved VMs' memory):
      each step takes the move with the most gain per share of the budgets left it uses,
      gain / max(1 / moves left, MiB / memory left): gain per MiB when moves are plenty.
    A VM whose memory is dirtied about as fast as the link carries it (dirty rate at 95% of
    `migration_bandwidth_mib_s` or more) may never converge: it moves only when no other
    move gains enough. Memory a move copies counts pre-copy retransmission:
    memory / (1 - dirty rate / bandwidth).
    """

    strategy: Strategy | str | None = None
    max_moves: int | None = None
    min_gain: float | None = None
    max_memory_mib: float | None = None
    near_tie: float = 0.1
    migration_bandwidth_mib_s: float = 1250.0
    # Search width: every (VM, up host) pair is tried at each step while there are at most
    # `full_search_pairs` of them; beyond, the sources are the VMs of the `source_hosts`
    # most loaded hosts per metric and the targets the `target_hosts` least loaded.
    full_search_pairs: int = 10_000
    source_hosts: int = 4
    target_hosts: int = 6


@dataclass(frozen=True, slots=True)
class ScoreComponents:
    cpu_alloc: float  # std dev of vCPU allocation / capacity over up hosts
    mem_alloc: float  # std dev of memory allocation / capacity over up hosts
    cpu_load: float  # std dev of busy vCPUs / physical vCPUs over up hosts
    evacuation: float  # VMs on maintenance/down hosts
    soft_groups: float  # soft anti-affinity / affinity violations
    hosts_used: float  # up hosts running at least one VM
    packing: float  # 1 - mean(cpu_alloc^2 + mem_alloc^2) / 2 over up hosts

    def total(self, strategy: Strategy | str = Strategy.BALANCE) -> float:
        penalty = EVACUATION_WEIGHT * self.evacuation + SOFT_GROUP_WEIGHT * self.soft_groups
        if Strategy(strategy) is Strategy.CONSOLIDATE:
            return self.hosts_used + self.packing + penalty
        return self.cpu_alloc + self.mem_alloc + self.cpu_load + penalty

    def as_dict(self) -> dict[str, float]:
        return {
            "cpu_alloc": self.cpu_alloc,
            "mem_alloc": self.mem_alloc,
            "cpu_load": self.cpu_load,
            "evacuation": self.evacuation,
            "soft_groups": self.soft_groups,
            "hosts_used": self.hosts_used,
            "packing": self.packing,
        }


@dataclass(frozen=True, slots=True)
class Move:
    vm: str
    source: str
    target: str
    score_before: float
    score_after: float
    memory_mib: float
    reason: str  # evacuate | soft-group | balance | consolidate
    disk_gib: float = 0.0  # local disks the move copies (the VM's local boot and data disks)


@dataclass(frozen=True, slots=True)
class Plan:
    strategy: Strategy
    moves: tuple[Move, ...]
    score_before: float
    score_after: float
    components_before: ScoreComponents
    components_after: ScoreComponents
    empty_hosts: tuple[str, ...]  # up hosts with no VM after the plan: power-down candidates
    emptied_hosts: tuple[str, ...]  # of those, the ones this plan empties
    stopped_because: str
    warnings: tuple[str, ...] = ()

    @property
    def memory_mib_moved(self) -> float:
        return sum(m.memory_mib for m in self.moves)

    @property
    def disk_gib_moved(self) -> float:
        """What the plan's moves copy of local disks, at most (only what the VMs wrote over
        their base images crosses: the copies are incremental)."""
        return sum(m.disk_gib for m in self.moves)


# --- the incremental state ------------------------------------------------------------------


# A host offering less than this (vCPUs, MiB, threads) has no room to speak of: its fractions
# count as 0 rather than overflow (a ratio of 1e-300 would give infinite fractions).
_MIN_CAPACITY = 1e-3


def _inverse(capacity: float) -> float:
    return 1.0 / capacity if capacity >= _MIN_CAPACITY else 0.0


class _State:
    """Per-host allocations and the per-metric sums / sums of squares over up hosts."""

    def __init__(self, snap: ClusterState, recently_moved: frozenset[str]) -> None:
        hosts = snap.hosts
        self.host_names = [h.name for h in hosts]
        index = {h.name: i for i, h in enumerate(hosts)}
        self.up = [h.is_up for h in hosts]
        caps = [snap.capacity(h) for h in hosts]
        self.cap_v = [c.vcpus for c in caps]
        self.cap_m = [c.memory_mib for c in caps]
        self.cap_d = [c.disk_gib for c in caps]
        self.inv = [
            [_inverse(c.vcpus) for c in caps],
            [_inverse(c.memory_mib) for c in caps],
            [_inverse(snap.cpu_threads(h)) for h in hosts],
        ]
        nh = len(hosts)
        self.av = [0.0] * nh
        self.am = [0.0] * nh
        self.ad = [0.0] * nh
        self.al = [0.0] * nh
        self.vms = snap.vms
        self.vm_host = [index[vm.host] for vm in snap.vms]
        self.host_vms: list[set[int]] = [set() for _ in hosts]
        group_names = sorted(snap.groups)
        gindex = {g: i for i, g in enumerate(group_names)}
        self.group_policy = [snap.groups[g].policy for g in group_names]
        self.group_hard = [snap.groups[g].hard for g in group_names]
        self.group_size = [0] * len(group_names)
        self.gcount: list[dict[int, int]] = [{} for _ in group_names]
        self.vm_group = [gindex[vm.group] if vm.group is not None else -1 for vm in snap.vms]
        self.movable = [vm.migratable and vm.name not in recently_moved for vm in snap.vms]
        # The hosts each VM's placement requirements allow (None: any).
        self.runs_on: list[frozenset[int] | None] = [
            None if vm.hosts is None else frozenset(index[h] for h in vm.hosts) for vm in snap.vms
        ]
        # A guaranteed VM claims its vCPUs and memory times the host's ratios (as placement).
        self.guar = [vm.guaranteed for vm in snap.vms]
        host_ratios = [snap.ratios(h) for h in hosts]
        self.rv = [r[0] for r in host_ratios]
        self.rm = [r[1] for r in host_ratios]
        for i, vm in enumerate(snap.vms):
            h = self.vm_host[i]
            cv, cm = self.claim(i, h)
            self.av[h] += cv
            self.am[h] += cm
            self.ad[h] += vm.disk_gib
            self.al[h] += vm.load
            self.host_vms[h].add(i)
            g = self.vm_group[i]
            if g >= 0:
                self.group_size[g] += 1
                self.gcount[g][h] = self.gcount[g].get(h, 0) + 1
        self.f = [
            [a * inv for a, inv in zip(self.av, self.inv[0], strict=True)],
            [a * inv for a, inv in zip(self.am, self.inv[1], strict=True)],
            [a * inv for a, inv in zip(self.al, self.inv[2], strict=True)],
        ]
        self.up_idx = [h for h in range(nh) if self.up[h]]
        self.n_up = len(self.up_idx)
        self.s1 = [math.fsum(fk[h] for h in self.up_idx) for fk in self.f]
        self.s2 = [math.fsum(fk[h] * fk[h] for h in self.up_idx) for fk in self.f]
        self.evac = sum(1 for h in self.vm_host if not self.up[h])
        self.soft = sum(self._group_penalty(g) for g in range(len(group_names)))
        self.used_hosts = sum(1 for h in self.up_idx if self.host_vms[h])
        self._deviations: float | None = None

    def claim(self, i: int, h: int) -> tuple[float, float]:
        """(vCPUs, memory) VM i takes from host h's capacity."""
        vm = self.vms[i]
        return claim(vm.vcpus, vm.memory_mib, self.guar[i], self.rv[h], self.rm[h])

    def _group_penalty(self, g: int) -> int:
        if self.group_hard[g]:
            return 0
        counts = self.gcount[g]
        if self.group_policy[g] is GroupPolicy.ANTI_AFFINITY:
            return sum(c - 1 for c in counts.values() if c > 1)
        return max(0, sum(1 for c in counts.values() if c > 0) - 1)

    # -- score ----------------------------------------------------------------------------

    def _std(self, s1: float, s2: float) -> float:
        n = self.n_up
        if n == 0:
            return 0.0
        mean = s1 / n
        return math.sqrt(max(0.0, s2 / n - mean * mean))

    def components(self) -> ScoreComponents:
        n = self.n_up
        # Recompute sums exactly (fsum) so that drift from incremental updates never shows.
        s1 = [math.fsum(fk[h] for h in self.up_idx) for fk in self.f]
        s2 = [math.fsum(fk[h] * fk[h] for h in self.up_idx) for fk in self.f]
        return ScoreComponents(
            cpu_alloc=self._std(s1[0], s2[0]),
            mem_alloc=self._std(s1[1], s2[1]),
            cpu_load=self._std(s1[2], s2[2]),
            evacuation=float(self.evac),
            soft_groups=float(self.soft),
            hosts_used=float(self.used_hosts),
            packing=(1.0 - (s2[0] + s2[1]) / (2 * n)) if n else 0.0,
        )

    def score(self, strategy: Strategy) -> float:
        penalty = EVACUATION_WEIGHT * self.evac + SOFT_GROUP_WEIGHT * self.soft
        if strategy is Strategy.CONSOLIDATE:
            n = self.n_up
            packing = (1.0 - (self.s2[0] + self.s2[1]) / (2 * n)) if n else 0.0
            return self.used_hosts + packing + penalty
        return (
            self._std(self.s1[0], self.s2[0])
            + self._std(self.s1[1], self.s2[1])
            + self._std(self.s1[2], self.s2[2])
            + penalty
        )

    # -- rules ----------------------------------------------------------------------------

    def fits(self, i: int, t: int) -> bool:
        vm = self.vms[i]
        cv, cm = self.claim(i, t)
        return (
            self.av[t] + cv <= self.cap_v[t] + _EPS
            and self.am[t] + cm <= self.cap_m[t] + _EPS
            and self.ad[t] + vm.disk_gib <= self.cap_d[t] + _EPS
        )

    def allowed(self, i: int, t: int) -> bool:
        """Every hard rule for moving VM i onto host t (capacity aside)."""
        s = self.vm_host[i]
        if t == s or not self.up[t] or not self.movable[i]:
            return False
        runs_on = self.runs_on[i]
        if runs_on is not None and t not in runs_on:
            return False
        g = self.vm_group[i]
        if g >= 0 and self.group_hard[g]:
            here = self.gcount[g].get(t, 0)
            return group_admits(self.group_policy[g], here, self.group_size[g] - 1)
        return True

    def group_delta(self, i: int, t: int) -> int:
        g = self.vm_group[i]
        if g < 0 or self.group_hard[g]:
            return 0
        counts = self.gcount[g]
        cs, ct = counts.get(self.vm_host[i], 0), counts.get(t, 0)
        if self.group_policy[g] is GroupPolicy.ANTI_AFFINITY:
            return (-1 if cs > 1 else 0) + (1 if ct >= 1 else 0)
        return (-1 if cs == 1 else 0) + (1 if ct == 0 else 0)

    def in_soft_violation(self, i: int) -> bool:
        g = self.vm_group[i]
        if g < 0 or self.group_hard[g]:
            return False
        counts = self.gcount[g]
        if self.group_policy[g] is GroupPolicy.ANTI_AFFINITY:
            return counts.get(self.vm_host[i], 0) > 1
        return sum(1 for c in counts.values() if c > 0) > 1

    def delta(self, i: int, t: int, strategy: Strategy) -> float:
        """New score minus current score if VM i moved to host t; O(1)."""
        s = self.vm_host[i]
        vm = self.vms[i]
        n = self.n_up
        extra = SOFT_GROUP_WEIGHT * self.group_delta(i, t)
        if not self.up[s]:
            extra -= EVACUATION_WEIGHT
        if self.guar[i]:
            (vs, ms), (vt, mt) = self.claim(i, s), self.claim(i, t)
        else:
            vs = vt = float(vm.vcpus)
            ms = mt = vm.memory_mib
        if strategy is Strategy.CONSOLIDATE:
            if self.up[s] and len(self.host_vms[s]) == 1:
                extra -= 1.0
            if not self.host_vms[t]:
                extra += 1.0
            d2 = 0.0
            for k, xs, xt in ((0, vs, vt), (1, ms, mt)):
                fk, inv = self.f[k], self.inv[k]
                if self.up[s]:
                    fa = fk[s]
                    na = fa - xs * inv[s]
                    d2 += na * na - fa * fa
                fb = fk[t]
                nb = fb + xt * inv[t]
                d2 += nb * nb - fb * fb
            return extra - d2 / (2 * n)
        new = self._deviations_with(self._without(i, vs, ms), t, vt, mt, vm.load)
        return new - self.deviations() + extra

    def _without(self, i: int, vs: float, ms: float) -> list[tuple[float, float]]:
        """Per metric, the sums (s1, s2) over up hosts once VM i left its host."""
        s = self.vm_host[i]
        up_s = self.up[s]
        out: list[tuple[float, float]] = []
        for k, xs in ((0, vs), (1, ms), (2, self.vms[i].load)):
            s1, s2 = self.s1[k], self.s2[k]
            if up_s:
                fa = self.f[k][s]
                na = fa - xs * self.inv[k][s]
                s1 += na - fa
                s2 += na * na - fa * fa
            out.append((s1, s2))
        return out

    def _deviations_with(
        self, base: list[tuple[float, float]], t: int, vt: float, mt: float, load: float
    ) -> float:
        """The sum of the three deviations once a VM claiming (vt, mt, load) joined host t,
        from the sums `_without` gave: the hot path of the search."""
        new = 0.0
        inv_n = 1.0 / self.n_up
        f, inv = self.f, self.inv
        for k, xt in ((0, vt), (1, mt), (2, load)):
            s1, s2 = base[k]
            fb = f[k][t]
            nb = fb + xt * inv[k][t]
            s1 += nb - fb
            s2 += nb * nb - fb * fb
            mean = s1 * inv_n
            var = s2 * inv_n - mean * mean
            if var > 0.0:
                new += math.sqrt(var)
        return new

    def balance_gains(self, i: int, targets: list[int]) -> list[tuple[float, int]]:
        """-delta(i, t, BALANCE) for every target t that is allowed and fits, with the
        source's part computed once for all targets."""
        s = self.vm_host[i]
        vm = self.vms[i]
        guaranteed = self.guar[i]
        vs, ms = self.claim(i, s)
        load = vm.load
        disk = vm.disk_gib
        base = self._without(i, vs, ms)
        now = self.deviations()
        evac = -EVACUATION_WEIGHT if not self.up[s] else 0.0
        grouped = self.vm_group[i] >= 0
        av, am, ad = self.av, self.am, self.ad
        cap_v, cap_m, cap_d = self.cap_v, self.cap_m, self.cap_d
        out: list[tuple[float, int]] = []
        for t in targets:
            if not self.allowed(i, t):
                continue
            vt, mt = self.claim(i, t) if guaranteed else (vs, ms)
            if (
                av[t] + vt > cap_v[t] + _EPS
                or am[t] + mt > cap_m[t] + _EPS
                or ad[t] + disk > cap_d[t] + _EPS
            ):
                continue
            extra = SOFT_GROUP_WEIGHT * self.group_delta(i, t) if grouped else 0.0
            extra += evac
            new = self._deviations_with(base, t, vt, mt, load)
            out.append((-(new - now + extra), t))
        return out

    def deviations(self) -> float:
        """The sum of the three deviations now (cached until the next move)."""
        if self._deviations is None:
            self._deviations = sum(self._std(self.s1[k], self.s2[k]) for k in range(3))
        return self._deviations

    # -- applying -------------------------------------------------------------------------

    def apply(self, i: int, t: int) -> None:
        self._deviations = None
        s = self.vm_host[i]
        vm = self.vms[i]
        self.soft += self.group_delta(i, t)
        if not self.up[s]:
            self.evac -= 1
        if self.up[s] and len(self.host_vms[s]) == 1:
            self.used_hosts -= 1
        if not self.host_vms[t]:
            self.used_hosts += 1
        (vs, ms), (vt, mt) = self.claim(i, s), self.claim(i, t)
        for k, xs, xt in ((0, vs, vt), (1, ms, mt), (2, vm.load, vm.load)):
            fk, inv = self.f[k], self.inv[k]
            for h, x in ((s, -xs), (t, xt)):
                old = fk[h]
                new = old + x * inv[h]
                fk[h] = new
                if self.up[h]:
                    self.s1[k] += new - old
                    self.s2[k] += new * new - old * old
        self.av[s] -= vs
        self.am[s] -= ms
        self.ad[s] -= vm.disk_gib
        self.al[s] -= vm.load
        self.av[t] += vt
        self.am[t] += mt
        self.ad[t] += vm.disk_gib
        self.al[t] += vm.load
        self.host_vms[s].discard(i)
        self.host_vms[t].add(i)
        self.vm_host[i] = t
        g = self.vm_group[i]
        if g >= 0:
            counts = self.gcount[g]
            counts[s] -= 1
            if counts[s] == 0:
                del counts[s]
            counts[t] = counts.get(t, 0) + 1


# --- the planner ----------------------------------------------------------------------------


def _effective_mib(vm: ClusterVm, bandwidth: float) -> float:
    """MiB a pre-copy migration sends: memory / (1 - dirty/bandwidth); a VM dirtying memory
    about as fast as the link carries it may never converge, so it is costed at 20x."""
    if not vm.dirty_rate or bandwidth <= 0:
        return vm.memory_mib
    ratio = vm.dirty_rate / bandwidth
    return vm.memory_mib * (20.0 if ratio >= 0.95 else 1.0 / (1.0 - ratio))


def _last_resort(vm: ClusterVm, bandwidth: float) -> bool:
    return vm.dirty_rate is not None and bandwidth > 0 and vm.dirty_rate / bandwidth >= 0.95


@dataclass(slots=True)
class _Search:
    state: _State
    strategy: Strategy
    min_gain: float
    max_moves: int
    config: PlannerConfig
    cost_mib: list[float]  # memory a move of each VM copies (with retransmission)
    last_resort: list[bool]
    memory_left: float | None = None  # of the memory budget, when there is one
    moved: set[int] = field(default_factory=set)
    moves: list[Move] = field(default_factory=list)
    current: float = 0.0

    def can_move(self, i: int) -> bool:
        return self.state.movable[i] and i not in self.moved

    def budget_left(self) -> bool:
        return len(self.moves) < self.max_moves and (
            self.memory_left is None or self.memory_left > _EPS
        )

    def budget_spent(self) -> str:
        return (
            "max_moves reached" if len(self.moves) >= self.max_moves else "max_memory_mib reached"
        )

    def affordable(self, i: int) -> bool:
        return self.memory_left is None or self.state.vms[i].memory_mib <= self.memory_left + _EPS

    def record(self, i: int, t: int, reason: str) -> None:
        st = self.state
        s = st.vm_host[i]
        st.apply(i, t)
        after = st.score(self.strategy)
        vm = st.vms[i]
        self.moves.append(
            Move(vm.name, st.host_names[s], st.host_names[t], self.current, after,
                 vm.memory_mib, reason, vm.disk_gib)
        )  # fmt: skip
        self.moved.add(i)
        self.current = after
        if self.memory_left is not None:
            self.memory_left -= vm.memory_mib

    def scan(self, candidates: Iterable[int], targets: list[int]) -> list[tuple[float, int, int]]:
        """Every allowed move of a candidate onto a target gaining >= min_gain, with its
        gain; a VM dirtying memory at link speed only when no other VM can move."""
        st = self.state
        strategy = self.strategy
        found: list[tuple[float, int, int]] = []
        min_gain = self.min_gain
        for i in candidates:
            if not self.affordable(i):
                continue
            if strategy is Strategy.BALANCE:
                found += ((g, i, t) for g, t in st.balance_gains(i, targets) if g >= min_gain)
                continue
            for t in targets:
                if not st.allowed(i, t) or not st.fits(i, t):
                    continue
                gain = -st.delta(i, t, strategy)
                if gain >= min_gain:
                    found.append((gain, i, t))
        return [f for f in found if not self.last_resort[f[1]]] or found

    def choose(self, found: list[tuple[float, int, int]]) -> tuple[float, int, int]:
        cost = self.cost_mib
        if self.memory_left is not None:
            # Gain per share of what is left of the budgets a move uses: one of the moves
            # left, and its MiB of the memory left, whichever share is the larger. With only
            # a memory budget that is gain per MiB; with both, a VM small enough for the
            # memory left per move is ranked by its gain alone.
            per_move = 1.0 / max(1, self.max_moves - len(self.moves))
            per_mib = 1.0 / max(self.memory_left, 1.0)

            def rank(f: tuple[float, int, int]) -> tuple[float, int, int]:
                return f[0] / max(per_move, cost[f[1]] * per_mib), -f[1], -f[2]

            return max(found, key=rank)
        best = max(f[0] for f in found)
        near = [f for f in found if f[0] >= best * (1.0 - self.config.near_tie)]
        return min(near, key=lambda f: (cost[f[1]], -f[0], f[1], f[2]))

    def best_move(
        self, candidates: Iterable[int], targets: list[int]
    ) -> tuple[float, int, int] | None:
        """The move to take among those gaining >= min_gain (see PlannerConfig)."""
        found = self.scan(candidates, targets)
        return self.choose(found) if found else None

    def priority_vms(self) -> list[int]:
        """VMs that should move whatever the balance: on non-up hosts, or in soft violation."""
        st = self.state
        out = [
            i
            for h in range(len(st.host_names))
            if not st.up[h]
            for i in sorted(st.host_vms[h])
            if self.can_move(i)
        ]
        out += [
            i
            for i in range(len(st.vms))
            if st.vm_group[i] >= 0
            and st.up[st.vm_host[i]]
            and self.can_move(i)
            and st.in_soft_violation(i)
        ]
        return out

    def repair(self, targets: list[int]) -> bool:
        """One move of a priority VM (evacuation, soft group repair), if one gains enough:
        pruned targets first, then every up host."""
        st = self.state
        prio = self.priority_vms()
        if not prio:
            return False
        found = self.best_move(prio, targets)
        if found is None:
            found = self.best_move(prio[:64], st.up_idx)
        if found is None:
            return False
        _, i, t = found
        reason = "evacuate" if not st.up[st.vm_host[i]] else "soft-group"
        self.record(i, t, reason)
        return True


def _balance(search: _Search) -> str:
    st = search.state
    while search.budget_left():
        if search.repair(st.up_idx if _full_search(search) else _pruned_targets(search)):
            continue
        candidates, targets = _balance_candidates(search)
        found = search.scan(candidates, targets)
        if not found and len(st.up_idx) > len(targets):
            # Widen once: every up host as a target for the same sources.
            found = search.scan(candidates, st.up_idx)
        if not found:
            if search.memory_left is not None:
                return "no move within the memory budget improves the score by min_gain"
            return "no move improves the score by min_gain"
        _, i, t = search.choose(found)
        search.record(i, t, "balance")
    return search.budget_spent()


def _balance_candidates(search: _Search) -> tuple[list[int], list[int]]:
    """The VMs that may move and the hosts they may go to at this step (PlannerConfig)."""
    st = search.state
    up = st.up_idx
    if _full_search(search):
        return [i for h in up for i in sorted(st.host_vms[h]) if search.can_move(i)], up
    sources: set[int] = set()
    for fk in st.f:
        sources.update(heapq.nlargest(max(1, search.config.source_hosts), up, key=fk.__getitem__))
    candidates = [i for s in sorted(sources) for i in sorted(st.host_vms[s]) if search.can_move(i)]
    return candidates, _pruned_targets(search)


def _full_search(search: _Search) -> bool:
    st = search.state
    return len(st.up_idx) * len(st.vms) <= search.config.full_search_pairs


def _pruned_targets(search: _Search) -> list[int]:
    st = search.state
    k = max(1, search.config.target_hosts)
    targets: set[int] = set()
    for fk in st.f:
        targets.update(heapq.nsmallest(k, st.up_idx, key=fk.__getitem__))
    return sorted(targets)


def _consolidate(search: _Search) -> str:
    st = search.state
    # 1. Evacuate maintenance/down hosts and repair soft groups, onto the fullest hosts.
    while search.budget_left():
        fullest = heapq.nlargest(
            24, (h for h in st.up_idx if st.host_vms[h]), key=lambda h: st.f[0][h] + st.f[1][h]
        )
        if not search.repair(sorted(fullest)):
            break
    # 2. Empty the least loaded up hosts, one at a time, onto fuller non-empty hosts.
    tried: set[int] = set()
    while search.budget_left():
        donors = sorted(
            (h for h in st.up_idx if st.host_vms[h] and h not in tried),
            key=lambda h: (len(st.host_vms[h]), st.f[0][h] + st.f[1][h], h),
        )
        progress = False
        for donor in donors:
            tried.add(donor)
            vms = sorted(st.host_vms[donor], key=lambda i: (-st.vms[i].memory_mib, i))
            if len(vms) > search.max_moves - len(search.moves):
                continue
            if search.memory_left is not None and (
                sum(st.vms[i].memory_mib for i in vms) > search.memory_left + _EPS
            ):
                continue
            if not all(search.can_move(i) for i in vms):
                continue
            plan = _empty_host(search, donor, vms)
            if plan is None:
                continue
            start = search.current
            for i, t in plan:
                search.record(i, t, "consolidate")
            if start - search.current < search.min_gain:  # pragma: no cover - defensive
                break
            progress = True
            break
        if not progress:
            return "no further host can be emptied"
    return (
        "max_moves reached" if len(search.moves) >= search.max_moves else "max_memory_mib reached"
    )


def _empty_host(search: _Search, donor: int, vms: list[int]) -> list[tuple[int, int]] | None:
    """Best-fit every VM of `donor` onto other non-empty up hosts, each move lowering the
    score; return the moves, or None (leaving the state untouched) if one VM cannot go."""
    st = search.state
    done: list[tuple[int, int, int]] = []
    ok = True
    for i in vms:
        best_t = -1
        best_fill = -1.0
        for t in st.up_idx:
            if t == donor or not st.host_vms[t] or not st.allowed(i, t) or not st.fits(i, t):
                continue
            if st.group_delta(i, t) > 0:
                continue
            fill = max(st.f[0][t], st.f[1][t])
            if fill > best_fill and st.delta(i, t, Strategy.CONSOLIDATE) < 0:
                best_t, best_fill = t, fill
        if best_t < 0:
            ok = False
            break
        done.append((i, donor, best_t))
        st.apply(i, best_t)
    # Roll back: the caller replays the moves through `record` to get per-move scores.
    for i, s, _ in reversed(done):
        st.apply(i, s)
    return [(i, t) for i, _, t in done] if ok else None


def plan(
    cluster: ClusterState,
    config: PlannerConfig = PlannerConfig(),
    recently_moved: frozenset[str] = frozenset(),
) -> Plan:
    """Plan at most max_moves live migrations improving the pool score.

    Every move keeps every hard rule at the moment it is applied (capacity with allocation
    ratios, up targets only, migratable VMs only, VMs in `recently_moved` untouched, hard
    anti-affinity/affinity), gains at least `min_gain`, and no VM moves twice in one plan.
    """
    try:
        strategy = Strategy(config.strategy or cluster.policy.strategy)
    except ValueError:
        raise InvalidInput(
            f"unknown strategy {config.strategy!r} (expected balance|consolidate)"
        ) from None
    max_moves = cluster.policy.max_migrations if config.max_moves is None else config.max_moves
    if config.min_gain is not None:
        min_gain = config.min_gain
    elif cluster.policy.min_gain is not None:
        min_gain = cluster.policy.min_gain
    else:
        min_gain = DEFAULT_MIN_GAIN
    min_gain = max(min_gain, 1e-12)
    st = _State(cluster, recently_moved)
    bandwidth = config.migration_bandwidth_mib_s
    max_memory = (
        cluster.policy.max_memory_mib if config.max_memory_mib is None else config.max_memory_mib
    )
    before = st.components()
    search = _Search(
        st,
        strategy,
        min_gain,
        max(0, max_moves),
        config,
        cost_mib=[_effective_mib(vm, bandwidth) for vm in cluster.vms],
        last_resort=[_last_resort(vm, bandwidth) for vm in cluster.vms],
        memory_left=None if max_memory is None else max(0.0, max_memory),
    )
    search.current = before.total(strategy)
    if st.n_up == 0:
        stopped = "no host is up"
    elif strategy is Strategy.CONSOLIDATE:
        stopped = _consolidate(search)
    else:
        stopped = _balance(search)
    after = st.components()
    empty = tuple(st.host_names[h] for h in st.up_idx if not st.host_vms[h])
    empty_before = {h.name for h in cluster.hosts if h.is_up} - {vm.host for vm in cluster.vms}
    return Plan(
        strategy=strategy,
        moves=tuple(search.moves),
        score_before=before.total(strategy),
        score_after=after.total(strategy),
        components_before=before,
        components_after=after,
        empty_hosts=empty,
        emptied_hosts=tuple(h for h in empty if h not in empty_before),
        stopped_because=stopped,
        warnings=cluster.warnings,
    )


def check_move(
    cluster: ClusterState, vm: str, target: str, strategy: Strategy | str, min_gain: float
) -> str | None:
    """Why moving `vm` onto `target` in this cluster is not a valid move that gains at
    least `min_gain`; None when it is. Re-checks a stored plan's next step."""
    st = _State(cluster, frozenset())
    vm_index = {v.name: i for i, v in enumerate(cluster.vms)}
    host_index = {h: i for i, h in enumerate(st.host_names)}
    if vm not in vm_index:
        return f"VM {vm} is no longer in the pool"
    if target not in host_index:
        return f"host {target} is no longer in the pool"
    i, t = vm_index[vm], host_index[target]
    if st.vm_host[i] == t:
        return f"VM {vm} already runs on {target}"
    if not st.up[t]:
        return f"host {target} is not up"
    if not st.movable[i]:
        return f"VM {vm} cannot be live-migrated now"
    if not st.allowed(i, t):
        return f"moving VM {vm} to {target} would break a hard placement-group rule"
    if not st.fits(i, t):
        return f"VM {vm} no longer fits on {target}"
    gain = -st.delta(i, t, Strategy(strategy))
    if gain < min_gain:
        return f"the move would gain {gain:.4g}, less than the minimum gain {min_gain:.4g}"
    return None


@dataclass(frozen=True, slots=True)
class HostFigures:
    """One host's share of the pool score: the fractions whose spread is scored."""

    name: str
    up: bool
    vms: int
    cpu_alloc: float  # vCPU allocation / capacity
    mem_alloc: float  # memory allocation / capacity
    cpu_load: float  # busy vCPUs / physical vCPUs


def host_figures(cluster: ClusterState) -> list[HostFigures]:
    st = _State(cluster, frozenset())
    return [
        HostFigures(
            name=name,
            up=st.up[h],
            vms=len(st.host_vms[h]),
            cpu_alloc=st.f[0][h],
            mem_alloc=st.f[1][h],
            cpu_load=st.f[2][h],
        )
        for h, name in enumerate(st.host_names)
    ]


def score(cluster: ClusterState) -> ScoreComponents:
    """The score components of a cluster; `.total(strategy)` gives the pool score."""
    return _State(cluster, frozenset()).components()


def apply_moves(cluster: ClusterState, moves: Iterable[Move | tuple[str, str]]) -> ClusterState:
    """The cluster with VMs relocated as `moves` say ((vm, target) pairs or Moves); no rule
    is checked here."""
    where: dict[str, str] = {}
    for m in moves:
        if isinstance(m, Move):
            where[m.vm] = m.target
        else:
            where[m[0]] = m[1]
    vms = tuple(replace(vm, host=where[vm.name]) if vm.name in where else vm for vm in cluster.vms)
    return replace(cluster, vms=vms)


def hot_hosts(cluster: ClusterState, margin: float = 0.2) -> frozenset[str]:
    """Up hosts whose measured CPU load fraction exceeds the pool mean by more than
    `margin`: what `Hysteresis` watches."""
    st = _State(cluster, frozenset())
    if not st.n_up:
        return frozenset()
    mean = st.s1[2] / st.n_up
    return frozenset(st.host_names[h] for h in st.up_idx if st.f[2][h] > mean + margin)


# --- multi-cycle guards ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hysteresis:
    """Act on an imbalance only once it has persisted `cycles` consecutive cycles.

    Keys are whatever the caller watches (host names from `hot_hosts`, or "pool" for the
    pool score over a threshold). Immutable: `observe` returns the next state.
    """

    cycles: int = 3
    streaks: Mapping[str, int] = field(default_factory=dict)

    def observe(self, over: Iterable[str]) -> Hysteresis:
        now = set(over)
        return Hysteresis(self.cycles, {k: self.streaks.get(k, 0) + 1 for k in sorted(now)})

    @property
    def persistent(self) -> frozenset[str]:
        return frozenset(k for k, n in self.streaks.items() if n >= self.cycles)

    @property
    def triggered(self) -> bool:
        return bool(self.persistent)


@dataclass(frozen=True, slots=True)
class CoolDown:
    """VMs moved within the last `cycles` cycles, to pass to `plan` as `recently_moved`."""

    cycles: int = 5
    last_moved: Mapping[str, int] = field(default_factory=dict)

    def record(self, vms: Iterable[str], cycle: int) -> CoolDown:
        merged = dict(self.last_moved)
        merged.update({vm: cycle for vm in vms})
        return CoolDown(self.cycles, {v: c for v, c in merged.items() if cycle - c < self.cycles})

    def blocked(self, cycle: int) -> frozenset[str]:
        return frozenset(v for v, c in self.last_moved.items() if cycle - c < self.cycles)
