"""Properties of the rebalance planner on random pools: every prefix of a plan is valid and
the score never rises along it."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from vmpool.domain.cluster_state import ClusterState, cluster_to_json, parse_cluster
from vmpool.domain.model import GroupPolicy
from vmpool.domain.rebalance import PlannerConfig, apply_moves, check_move, plan, score

STATES = ["up", "up", "up", "maintenance", "down"]


@st.composite
def pools(draw: st.DrawFn) -> dict[str, Any]:
    n_hosts = draw(st.integers(1, 6))
    hosts = [
        {"name": f"h{i}", "vcpus": draw(st.sampled_from([4, 8, 16])),
         "memory_mib": draw(st.sampled_from([8192, 16384, 32768])), "disk_gib": 500,
         "state": draw(st.sampled_from(STATES))}
        for i in range(n_hosts)
    ]  # fmt: skip
    for h in hosts:
        override = draw(st.sampled_from([None, None, 1.0, 3.0]))
        if override is not None:
            h["cpu_allocation_ratio"] = override
    groups = {
        "ha": {"policy": "anti-affinity", "hard": True},
        "soft": {"policy": "anti-affinity", "hard": False},
        "aff": {"policy": "affinity", "hard": True},
    }
    used = {h["name"]: [0, 0] for h in hosts}
    ha_hosts: set[str] = set()
    aff_host: str | None = None
    vms = []
    for j in range(draw(st.integers(0, 20))):
        host = hosts[draw(st.integers(0, n_hosts - 1))]
        vcpus = draw(st.sampled_from([1, 2, 4]))
        mem = draw(st.sampled_from([512, 1024, 2048, 4096]))
        u = used[host["name"]]
        ratio = host.get("cpu_allocation_ratio", 2.0)
        guaranteed = draw(st.sampled_from([False, False, False, True]))
        claim = vcpus * ratio if guaranteed else vcpus
        if u[0] + claim > host["vcpus"] * ratio or u[1] + mem > host["memory_mib"]:
            continue  # inputs respect capacity, so "capacity holds" is checkable
        group = draw(st.sampled_from([None, None, "ha", "soft", "aff"]))
        if group == "ha":
            if host["name"] in ha_hosts:
                group = None
            else:
                ha_hosts.add(host["name"])
        if group == "aff":
            if aff_host not in (None, host["name"]):
                group = None
            else:
                aff_host = host["name"]
        u[0] += claim
        u[1] += mem
        vm: dict[str, Any] = {"name": f"v{j}", "host": host["name"], "vcpus": vcpus,
                              "memory_mib": mem, "disk_gib": 10,
                              "migratable": draw(st.booleans() | st.just(True))}  # fmt: skip
        if draw(st.booleans()):
            vm["cpu_usage"] = draw(st.floats(0, 1))
        if group:
            vm["group"] = group
        if guaranteed:
            vm["guaranteed"] = True
        vms.append(vm)
    return {"version": 1, "hosts": hosts, "vms": vms, "groups": groups,
            "policy": {"cpu_allocation_ratio": 2.0, "ram_allocation_ratio": 1.0,
                       "strategy": draw(st.sampled_from(["balance", "consolidate"]))}}  # fmt: skip


def check_valid(snap: ClusterState, where: dict[str, str]) -> None:
    hosts = {h.name: h for h in snap.hosts}
    for h in snap.hosts:
        cap = snap.capacity(h)
        cpu_ratio, ram_ratio = snap.ratios(h)
        mine = [v for v in snap.vms if where[v.name] == h.name]
        # A guaranteed VM counts at ratio 1.0: its size times the host's ratio.
        claims = [(cpu_ratio, ram_ratio) if v.guaranteed else (1.0, 1.0) for v in mine]
        assert sum(v.vcpus * c for v, (c, _) in zip(mine, claims, strict=True)) <= cap.vcpus + 1e-6
        assert (
            sum(v.memory_mib * r for v, (_, r) in zip(mine, claims, strict=True))
            <= cap.memory_mib + 1e-6
        )
        assert sum(v.disk_gib for v in mine) <= cap.disk_gib + 1e-6
    for name, spec in snap.groups.items():
        on = [where[v.name] for v in snap.vms if v.group == name]
        if spec.hard and spec.policy is GroupPolicy.ANTI_AFFINITY:
            assert len(on) == len(set(on))
        if spec.hard and spec.policy is GroupPolicy.AFFINITY:
            assert len(set(on)) <= 1
    del hosts


@settings(max_examples=300, deadline=None)
@given(
    pools(),
    st.frozensets(st.sampled_from([f"v{j}" for j in range(20)])),
    st.none() | st.floats(0, 60_000),
)
def test_every_prefix_is_valid_and_score_never_rises(
    data: dict[str, Any], recent: frozenset[str], memory_budget: float | None
) -> None:
    snap = parse_cluster(data)
    config = PlannerConfig(max_moves=15, max_memory_mib=memory_budget)
    p = plan(snap, config, recently_moved=recent)
    state = {h.name: h.state.value for h in snap.hosts}
    vms = {v.name: v for v in snap.vms}
    where = {v.name: v.host for v in snap.vms}
    check_valid(snap, where)
    moved: set[str] = set()
    prev = p.score_before
    assert p.score_before == score(snap).total(p.strategy)
    for m in p.moves:
        assert state[m.target] == "up"
        assert vms[m.vm].migratable and m.vm not in recent and m.vm not in moved
        assert where[m.vm] == m.source != m.target
        where[m.vm] = m.target
        moved.add(m.vm)
        check_valid(snap, where)
        assert m.score_before == prev
        assert m.score_after < m.score_before
        # The executor's re-check at this step's turn agrees with the planner.
        now = apply_moves(
            snap, [(v, h) for v, h in where.items() if h != vms[v].host and v != m.vm]
        )
        assert check_move(now, m.vm, m.target, p.strategy, 1e-12) is None
        prev = m.score_after
    assert len(p.moves) <= 15
    if memory_budget is not None:
        assert p.memory_mib_moved <= memory_budget + 1e-6
    assert abs(p.score_after - prev) < 1e-6


@settings(max_examples=200, deadline=None)
@given(pools())
def test_snapshot_json_round_trips(data: dict[str, Any]) -> None:
    snap = parse_cluster(data)
    assert parse_cluster(cluster_to_json(snap)) == snap
