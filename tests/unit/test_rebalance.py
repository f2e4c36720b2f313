"""The rebalance planner and the offline snapshot format."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from vmpool.domain.cluster_state import (
    ClusterState,
    cluster_to_json,
    parse_cluster,
    plan_to_json,
)
from vmpool.domain.rebalance import (
    CoolDown,
    Hysteresis,
    PlannerConfig,
    Strategy,
    apply_moves,
    check_move,
    host_figures,
    hot_hosts,
    plan,
    score,
)
from vmpool.errors import InvalidInput


def doc(
    hosts: list[tuple[str, str]] | None = None,
    vms: list[dict[str, Any]] | None = None,
    **policy: Any,
) -> dict[str, Any]:
    hosts = hosts or [("h1", "up"), ("h2", "up"), ("h3", "up")]
    return {
        "version": 1,
        "hosts": [
            {"name": n, "vcpus": 16, "memory_mib": 65536, "disk_gib": 1000, "state": s}
            for n, s in hosts
        ],
        "vms": vms or [],
        "policy": {"cpu_allocation_ratio": 4.0, "ram_allocation_ratio": 1.0, **policy},
    }


def vm(name: str, host: str, vcpus: int = 2, mem: int = 4096, **kw: Any) -> dict[str, Any]:
    return {"name": name, "host": host, "vcpus": vcpus, "memory_mib": mem, "disk_gib": 10, **kw}


def piled(n: int = 8, **kw: Any) -> dict[str, Any]:
    return doc(vms=[vm(f"v{i}", "h1", cpu_usage=0.5, **kw) for i in range(n)])


# --- parse_cluster ---------------------------------------------------------------------


def test_parse_the_documented_example() -> None:
    snap = parse_cluster(
        {
            "version": 1,
            "hosts": [
                {"name": "node-001", "vcpus": 64, "memory_mib": 262144, "disk_gib": 4000,
                 "state": "up"}
            ],
            "vms": [
                {"name": "vm-00001", "host": "node-001", "vcpus": 4, "memory_mib": 8192,
                 "disk_gib": 40, "cpu_usage": 0.35, "migratable": True}
            ],
            "policy": {"cpu_allocation_ratio": 4.0, "ram_allocation_ratio": 1.0,
                       "disk_allocation_ratio": 1.0, "strategy": "balance",
                       "max_migrations": 50},
        }
    )  # fmt: skip
    assert snap.hosts[0].name == "node-001"
    assert snap.capacity(snap.hosts[0]).vcpus == 256
    assert snap.vms[0].load == pytest.approx(1.4)
    assert snap.policy.max_migrations == 50
    assert snap.overcommitted_hosts == ()


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: d.update(version=2), "version"),
        (lambda d: d["vms"][0].update(host="nope"), "unknown host"),
        (lambda d: d["hosts"].append(dict(d["hosts"][0])), "duplicate host"),
        (lambda d: d["vms"].append(dict(d["vms"][0])), "duplicate VM"),
        (lambda d: d["vms"][0].update(vcpus=-1), "vcpus"),
        (lambda d: d["hosts"][0].update(memory_mib=-5), "memory_mib"),
        (lambda d: d["hosts"][0].update(state="sleeping"), "state"),
        (lambda d: d["policy"].update(strategy="shuffle"), "strategy"),
        (lambda d: d["vms"][0].update(cpu_usage=1.5), "cpu_usage"),
        (lambda d: d["vms"][0].update(migratable="yes"), "migratable"),
        (lambda d: d["vms"][0].update(colour="red"), "unknown key"),
        (lambda d: d["vms"][0].update(group="g"), "unknown group"),
        (lambda d: d.pop("hosts"), "missing"),
        (lambda d: d["policy"].update(cpu_allocation_ratio=0), "cpu_allocation_ratio"),
    ],
)
def test_parse_rejects_bad_input(mutate: Any, needle: str) -> None:
    d = copy.deepcopy(doc(vms=[vm("v1", "h1")]))
    mutate(d)
    with pytest.raises(InvalidInput, match=needle):
        parse_cluster(d)


def test_parse_rejects_non_object() -> None:
    with pytest.raises(InvalidInput):
        parse_cluster([])  # type: ignore[arg-type]


def test_overcommitted_input_is_accepted_and_reported() -> None:
    snap = parse_cluster(doc(vms=[vm(f"v{i}", "h1", vcpus=32) for i in range(3)]))
    assert snap.overcommitted_hosts == ("h1",)
    assert "over-committed" in snap.warnings[0]


# --- the score --------------------------------------------------------------------------


def test_score_components_and_even_pool_is_zero() -> None:
    even = parse_cluster(doc(vms=[vm(f"v{i}", f"h{i + 1}", cpu_usage=0.5) for i in range(3)]))
    assert score(even).total() == pytest.approx(0.0)
    skew = score(parse_cluster(piled(3)))
    assert skew.cpu_alloc > 0 and skew.mem_alloc > 0 and skew.cpu_load > 0
    assert skew.total() == pytest.approx(skew.cpu_alloc + skew.mem_alloc + skew.cpu_load)


def test_missing_cpu_usage_counts_as_fully_busy() -> None:
    snap = parse_cluster(doc(vms=[vm("v1", "h1")]))
    assert snap.vms[0].load == 2.0


# --- balance ----------------------------------------------------------------------------


def test_balance_spreads_a_piled_host_and_lowers_the_score() -> None:
    snap = parse_cluster(piled(9))
    p = plan(snap)
    assert p.strategy is Strategy.BALANCE
    assert p.moves and p.score_after < p.score_before
    after = apply_moves(snap, p.moves)
    per_host = {h.name: sum(1 for v in after.vms if v.host == h.name) for h in after.hosts}
    assert per_host == {"h1": 3, "h2": 3, "h3": 3}
    for a, b in zip(p.moves, p.moves[1:], strict=False):
        assert b.score_before == a.score_after
        assert a.score_after <= a.score_before


def test_max_moves_and_snapshot_policy_override() -> None:
    snap = parse_cluster(piled(9))  # policy has no max_migrations: default 50
    assert len(plan(snap, PlannerConfig(max_moves=2)).moves) == 2
    limited = parse_cluster(doc(vms=piled(9)["vms"], max_migrations=1))
    assert len(plan(limited).moves) == 1
    assert len(plan(limited, PlannerConfig(max_moves=3)).moves) == 3
    assert plan(limited, PlannerConfig(max_moves=0)).moves == ()


def test_unmovable_and_recently_moved_vms_are_planned_around() -> None:
    vms = [vm(f"v{i}", "h1", cpu_usage=0.5, migratable=i % 2 == 0) for i in range(8)]
    snap = parse_cluster(doc(vms=vms))
    p = plan(snap, recently_moved=frozenset({"v0"}))
    moved = {m.vm for m in p.moves}
    assert moved and not moved & {"v0", "v1", "v3", "v5", "v7"}


def test_nothing_moves_onto_maintenance_or_down_and_they_are_evacuated() -> None:
    hosts = [("h1", "maintenance"), ("h2", "up"), ("h3", "down"), ("h4", "up")]
    vms = [vm(f"v{i}", "h1") for i in range(3)] + [vm("w", "h2", vcpus=8, mem=16384)]
    p = plan(parse_cluster(doc(hosts=hosts, vms=vms)))
    assert {m.target for m in p.moves} <= {"h2", "h4"}
    assert {m.vm for m in p.moves if m.reason == "evacuate"} == {"v0", "v1", "v2"}
    assert p.components_after.evacuation == 0


def test_capacity_is_never_exceeded() -> None:
    # h2 can take exactly one more 32-GiB VM; h3 none.
    vms = [vm("a", "h1", mem=32768), vm("b", "h1", mem=32768), vm("c", "h2", mem=16384),
           vm("d", "h3", mem=65536)]  # fmt: skip
    p = plan(parse_cluster(doc(vms=vms)))
    assert [(m.vm, m.target) for m in p.moves] in ([("a", "h2")], [("b", "h2")])


def test_hard_anti_affinity_kept_and_soft_repaired() -> None:
    d = doc(vms=[vm("a1", "h1", group="hard"), vm("a2", "h2", group="hard"),
                 vm("s1", "h3", group="soft"), vm("s2", "h3", group="soft"),
                 *[vm(f"x{i}", "h1") for i in range(4)]])  # fmt: skip
    d["groups"] = {"hard": {"policy": "anti-affinity", "hard": True},
                   "soft": {"policy": "anti-affinity", "hard": False}}  # fmt: skip
    snap = parse_cluster(d)
    p = plan(snap)
    after = apply_moves(snap, p.moves)
    where = {v.name: v.host for v in after.vms}
    assert where["a1"] != where["a2"]
    assert where["s1"] != where["s2"]
    assert p.components_after.soft_groups == 0


def test_with_equal_gains_the_cheaper_move_is_chosen() -> None:
    # Same CPU picture; memory differs only by who is dirty: the clean VM moves.
    vms = [vm("dirty", "h1", vcpus=8, mem=4096, cpu_usage=1.0, dirty_rate=1200.0),
           vm("clean", "h1", vcpus=8, mem=4096, cpu_usage=1.0)]  # fmt: skip
    p = plan(parse_cluster(doc(hosts=[("h1", "up"), ("h2", "up")], vms=vms)))
    assert p.moves[0].vm == "clean"


def _budget_cluster() -> ClusterState:
    # "big" moves CPU and memory balance the most; "lean" moves almost as much CPU balance
    # while copying 1/32 of the memory.
    vms = [vm("big", "h1", vcpus=8, mem=32768, cpu_usage=0.5),
           vm("lean", "h1", vcpus=8, mem=1024, cpu_usage=0.5),
           vm("rest", "h1", vcpus=8, mem=8192, cpu_usage=0.5)]  # fmt: skip
    return parse_cluster(doc(hosts=[("h1", "up"), ("h2", "up")], vms=vms))


def test_a_move_budget_ranks_by_gain_a_memory_budget_by_gain_per_mib() -> None:
    snap = _budget_cluster()
    by_gain = plan(snap, PlannerConfig(max_moves=1, near_tie=0.0))
    assert [m.vm for m in by_gain.moves] == ["big"]
    by_cost = plan(snap, PlannerConfig(max_memory_mib=40_000))  # and the default 50 moves
    assert by_cost.moves[0].vm == "lean"
    gain = {p.moves[0].vm: p.moves[0].score_before - p.moves[0].score_after
            for p in (by_gain, by_cost)}  # fmt: skip
    assert gain["big"] > gain["lean"]  # the cases really differ
    assert gain["lean"] / 1024 > gain["big"] / 32768


def test_with_both_budgets_a_vm_that_fits_the_memory_left_per_move_is_ranked_by_gain() -> None:
    # One move and memory enough for the big VM: the move budget is what runs out, so the
    # move that gains the most is the one to spend it on.
    snap = _budget_cluster()
    assert [m.vm for m in plan(snap, PlannerConfig(max_moves=1, max_memory_mib=40_000)).moves] == [
        "big"
    ]
    # Memory for the lean VM only: it is the move that fits.
    assert [m.vm for m in plan(snap, PlannerConfig(max_moves=1, max_memory_mib=2048)).moves] == [
        "lean"
    ]


def test_the_memory_budget_is_respected_and_ends_the_plan() -> None:
    snap = parse_cluster(doc(vms=[vm(f"v{i}", "h1", mem=4096, cpu_usage=0.5) for i in range(8)]))
    p = plan(snap, PlannerConfig(max_moves=50, max_memory_mib=10_000))
    assert 0 < p.memory_mib_moved <= 10_000
    assert len(p.moves) == 2
    assert p.stopped_because.startswith(("max_memory_mib reached", "no move within"))
    assert plan(snap, PlannerConfig(max_memory_mib=0)).moves == ()
    # Both budgets: whichever is reached first.
    assert len(plan(snap, PlannerConfig(max_moves=1, max_memory_mib=10_000)).moves) == 1


def test_a_vm_dirtying_memory_at_link_speed_is_a_last_resort() -> None:
    vms = [vm("hot", "h1", vcpus=4, mem=4096, cpu_usage=1.0, dirty_rate=1240.0),
           vm("calm", "h1", vcpus=4, mem=4096, cpu_usage=0.5),
           vm("pinned", "h1", vcpus=8, mem=4096, cpu_usage=1.0, migratable=False)]  # fmt: skip
    snap = parse_cluster(doc(hosts=[("h1", "up"), ("h2", "up")], vms=vms))
    assert plan(snap).moves[0].vm == "calm"
    # ... although moving "hot" gains more: on a link fast enough for it, it goes first.
    fast = PlannerConfig(migration_bandwidth_mib_s=1e6, near_tie=0.0)
    assert plan(snap, fast).moves[0].vm == "hot"
    alone = [vm("hot", "h1", vcpus=8, mem=4096, cpu_usage=1.0, dirty_rate=1240.0),
             vm("pinned", "h1", vcpus=4, mem=4096, migratable=False)]  # fmt: skip
    p = plan(parse_cluster(doc(hosts=[("h1", "up"), ("h2", "up")], vms=alone)))
    assert [m.vm for m in p.moves] == ["hot"]  # still moved when nothing else can


def test_the_memory_budget_travels_in_the_snapshot() -> None:
    data = doc(vms=[vm("a", "h1")], max_memory_mib=2048)
    snap = parse_cluster(data)
    assert snap.policy.max_memory_mib == 2048
    assert parse_cluster(cluster_to_json(snap)) == snap
    assert plan(snap).memory_mib_moved == 0  # "a" (4096 MiB) does not fit the budget


# --- consolidate ------------------------------------------------------------------------


def test_consolidate_empties_hosts_and_reports_them() -> None:
    vms = [vm(f"v{i}", f"h{i % 3 + 1}") for i in range(6)]
    snap = parse_cluster(doc(vms=vms))
    p = plan(snap, PlannerConfig(strategy="consolidate"))
    assert len(p.emptied_hosts) == 2 and p.empty_hosts == p.emptied_hosts
    assert p.components_after.hosts_used == 1
    assert all(m.score_after < m.score_before for m in p.moves)


def test_consolidate_respects_unmovable_vms() -> None:
    vms = [vm("pinned", "h2", migratable=False), vm("a", "h1"), vm("b", "h3")]
    p = plan(parse_cluster(doc(vms=vms)), PlannerConfig(strategy=Strategy.CONSOLIDATE))
    assert "h2" not in p.emptied_hosts
    assert all(m.vm != "pinned" for m in p.moves)
    assert len(p.emptied_hosts) == 2


# --- JSON output ------------------------------------------------------------------------


def test_plan_to_json_shape() -> None:
    p = plan(parse_cluster(piled(4)))
    out = plan_to_json(p, 0.25)
    assert {"moves", "score_before", "score_after", "seconds"} <= out.keys()
    assert out["seconds"] == 0.25
    assert out["moves"][0].keys() >= {"vm", "from", "to"}
    assert out["moves"][0]["from"] == "h1"


# --- hysteresis and cool-down over many cycles ------------------------------------------


def _oscillating(cycle: int, where: dict[str, str]) -> ClusterState:
    """Two groups of VMs whose CPU use flips each cycle: what looked hot is idle next."""
    vms = []
    for name, host in sorted(where.items()):
        busy = (name.startswith("p")) == (cycle % 2 == 0)
        vms.append(vm(name, host, vcpus=4, cpu_usage=0.95 if busy else 0.05))
    return parse_cluster(doc(vms=vms))


def _simulate(cycles: int, hysteresis: int, cooldown: int) -> list[tuple[int, str, str, str]]:
    where = {f"p{i}": "h1" for i in range(4)} | {f"q{i}": "h2" for i in range(4)}
    guard = Hysteresis(cycles=hysteresis)
    cool = CoolDown(cycles=cooldown)
    history: list[tuple[int, str, str, str]] = []
    for cycle in range(cycles):
        snap = _oscillating(cycle, where)
        guard = guard.observe(hot_hosts(snap, margin=0.1))
        if not guard.triggered:
            continue
        p = plan(snap, PlannerConfig(max_moves=2), recently_moved=cool.blocked(cycle))
        for m in p.moves:
            history.append((cycle, m.vm, m.source, m.target))
            where[m.vm] = m.target
        cool = cool.record((m.vm for m in p.moves), cycle)
    return history


def _back_and_forth(history: list[tuple[int, str, str, str]]) -> int:
    last: dict[str, tuple[str, str]] = {}
    count = 0
    for _, name, src, dst in history:
        if name in last and last[name] == (dst, src):
            count += 1
        last[name] = (src, dst)
    return count


def test_oscillating_load_without_guards_ping_pongs() -> None:
    assert _back_and_forth(_simulate(40, hysteresis=1, cooldown=0)) > 0


def test_hysteresis_and_cooldown_stop_ping_pong() -> None:
    history = _simulate(40, hysteresis=3, cooldown=5)
    assert history == []
    # Cool-down alone (planner run every cycle) still never moves a VM back within the window.
    history = _simulate(40, hysteresis=1, cooldown=10)
    seen: dict[str, int] = {}
    for cycle, name, _, _ in history:
        assert name not in seen or cycle - seen[name] >= 10
        seen[name] = cycle


def test_hysteresis_needs_consecutive_cycles() -> None:
    h = Hysteresis(cycles=3)
    for over in (["a"], ["a"], [], ["a"], ["a"]):
        h = h.observe(over)
        assert not h.triggered
    h = h.observe(["a", "b"])
    assert h.persistent == frozenset({"a"})


def test_unknown_strategy_from_the_cli_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="strategy"):
        plan(parse_cluster(piled(2)), PlannerConfig(strategy="shuffle"))


# --- per-host overrides, guaranteed VMs, the executor's re-check --------------------------


def test_host_overrides_and_guaranteed_vms_count_like_placement() -> None:
    d = doc(vms=[vm("g", "h1", vcpus=4, guaranteed=True), vm("s", "h1", vcpus=4)])
    d["hosts"][1]["cpu_allocation_ratio"] = 1.0  # h2 takes 16 vCPUs, not 64
    d["hosts"][2]["reserved_vcpus"] = 8
    snap = parse_cluster(d)
    _, h2, h3 = snap.hosts
    assert snap.capacity(h2).vcpus == 16 and snap.capacity(h3).vcpus == (16 - 8) * 4
    assert snap.cpu_threads(h3) == 8
    figures = {f.name: f for f in host_figures(snap)}
    # The guaranteed VM claims 4 x 4.0 on h1: 16 + 4 of 64.
    assert figures["h1"].cpu_alloc == pytest.approx(20 / 64)
    with pytest.raises(InvalidInput, match=r"hosts\[0\].cpu_allocation_ratio"):
        parse_cluster({**d, "hosts": [dict(d["hosts"][0], cpu_allocation_ratio=0)]})
    with pytest.raises(InvalidInput, match=r"vms\[0\].guaranteed"):
        parse_cluster(doc(vms=[vm("g", "h1", guaranteed="yes")]))


def test_a_guaranteed_vm_does_not_fit_where_a_shared_one_would() -> None:
    # h2 has 6 of 64 vCPUs left: a 4-vCPU shared VM fits, the same VM guaranteed (16) not.
    filler = [vm(f"f{i}", "h2", vcpus=29, mem=1024) for i in range(2)]
    two = [("h1", "up"), ("h2", "up")]
    shared = parse_cluster(doc(two, [vm("x", "h1", vcpus=4), *filler]))
    guaranteed = parse_cluster(doc(two, [vm("x", "h1", vcpus=4, guaranteed=True), *filler]))
    assert check_move(shared, "x", "h2", "balance", -1e9) is None
    assert "no longer fits" in (check_move(guaranteed, "x", "h2", "balance", -1e9) or "")


def test_check_move_says_why() -> None:
    snap = parse_cluster(
        doc(
            hosts=[("h1", "up"), ("h2", "up"), ("h3", "maintenance")],
            vms=[
                vm("a", "h1", cpu_usage=0.9),
                vm("b", "h1", cpu_usage=0.9),
                vm("c", "h1", migratable=False),
                vm("big", "h2", mem=65536),
            ],
        )
    )
    assert check_move(snap, "a", "h2", "balance", 0.0) is not None  # h2 is full of "big"
    assert "no longer fits" in (check_move(snap, "a", "h2", "balance", 0.0) or "")
    assert "not up" in (check_move(snap, "a", "h3", "balance", 0.0) or "")
    assert "cannot be live-migrated" in (check_move(snap, "c", "h2", "balance", 0.0) or "")
    assert "already runs" in (check_move(snap, "a", "h1", "balance", 0.0) or "")
    assert "no longer in the pool" in (check_move(snap, "zz", "h2", "balance", 0.0) or "")
    assert "no longer in the pool" in (check_move(snap, "a", "h9", "balance", 0.0) or "")
    roomy = parse_cluster(doc(vms=[vm("a", "h1"), vm("b", "h1"), vm("c", "h2")]))
    assert check_move(roomy, "a", "h3", "balance", 0.01) is None
    # Moving c off h2 onto h3 only swaps which host is empty: no gain.
    assert "gain" in (check_move(roomy, "c", "h3", "balance", 0.01) or "")


def test_snapshot_to_json_keeps_everything() -> None:
    d = doc(vms=[vm("g", "h1", guaranteed=True, cpu_usage=0.5, group="ha", dirty_rate=3.0)])
    d["groups"] = {"ha": {"policy": "anti-affinity", "hard": False}}
    d["hosts"][0]["ram_allocation_ratio"] = 1.5
    d["policy"]["min_gain"] = 0.02
    snap = parse_cluster(d)
    out = cluster_to_json(snap)
    assert parse_cluster(out) == snap
    assert out["vms"][0]["guaranteed"] is True and out["hosts"][0]["ram_allocation_ratio"] == 1.5
    assert "ram_allocation_ratio" not in out["hosts"][1]


def test_a_plan_counts_the_local_disks_its_moves_copy() -> None:
    """Each VM has 10 GiB of local disk (`vm()`): every move copies it (issue 10)."""
    p = plan(parse_cluster(piled()))
    assert p.moves and all(m.disk_gib == 10 for m in p.moves)
    assert p.disk_gib_moved == 10 * len(p.moves)
    out = plan_to_json(p, 0.0)
    assert out["disk_gib_moved"] == p.disk_gib_moved
    assert all(m["disk_gib"] == 10 for m in out["moves"])
