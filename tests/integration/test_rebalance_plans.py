"""Rebalance plans on both databases: storing, approving, step-by-step execution with
re-checks, cancel, the cycle's hysteresis and cool-down, and the API around them.

No hypervisor is involved here: a plan step only queues a migration in the database,
and this test plays the migration runner by writing the outcome a real migration would
leave. The end-to-end loop with real live migrations is in test_rebalance_lab.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from vmpool.adapters.db.engine import make_session_factory
from vmpool.adapters.db.tables import HostRow, MigrationRow, VmRow
from vmpool.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from vmpool.api.app import create_app
from vmpool.services import cluster_state, plan_execution, plan_views, rebalance
from vmpool.services.tokens import Role, create_token
from vmpool.services.unit_of_work import ServiceContext


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Pool:
    ctx: ServiceContext
    clock: Clock
    pool_id: int
    hosts: dict[str, int]
    vms: dict[str, int]


@pytest.fixture
def pool(migrated_engine: Engine) -> Pool:
    """Three up hosts; eight running VMs on h0, one of them not migratable."""
    factory = make_session_factory(migrated_engine)
    clock = Clock()
    ctx = ServiceContext(
        uow=lambda: SqlAlchemyUnitOfWork(factory),
        hypervisors=None,  # type: ignore[arg-type]  # never reached: steps only queue
        images=None,  # type: ignore[arg-type]
        clock=clock,
    )
    with ctx.uow() as uow:
        p = uow.pools.by_name("default")
        assert p is not None
        hosts = [
            uow.hosts.add(
                HostRow(
                    pool_id=p.id,
                    name=f"h{i}",
                    uri=f"qemu+tcp://127.0.0.1:{1000 + i}/system",
                    host_uuid=f"00000000-0000-0000-0000-00000000000{i}",
                    cpus=16,
                    memory_mib=65536,
                    disk_gib=500,
                    state="up",
                )
            )
            for i in range(3)
        ]
        vms = [
            uow.vms.add(
                VmRow(
                    pool_id=p.id,
                    host_id=hosts[0].id,
                    name=f"v{j}",
                    uuid=f"uuid-{j}",
                    vcpus=2,
                    memory_mib=4096,
                    state="running",
                    migratable=j != 0,
                )
            )
            for j in range(8)
        ]
        uow.commit()
        return Pool(ctx, clock, p.id, {h.name: h.id for h in hosts}, {v.name: v.id for v in vms})


def finish_migration(pool: Pool, migration_id: int, ok: bool = True) -> None:
    """What the migration runner writes when a live migration ends."""
    with pool.ctx.uow() as uow:
        m = uow.migrations.get(migration_id)
        m.state = "completed" if ok else "failed"
        m.finished_at = pool.clock()
        if ok:
            assert m.target_host_id is not None
            uow.vms.get(m.vm_id).host_id = m.target_host_id
        else:
            m.error = "the target refused the incoming migration"
        uow.commit()


def migration(pool: Pool, migration_id: int) -> tuple[str, str, int | None]:
    """(state, reason, target host id) of a migration."""
    with pool.ctx.uow() as uow:
        m = uow.migrations.get(migration_id)
        return m.state, m.reason, m.target_host_id


def test_score_dry_run_and_proposal(pool: Pool) -> None:
    score = plan_views.pool_score(pool.ctx, pool.pool_id)
    assert score.score > 0 and score.strategy == "balance"
    assert score.empty_hosts == ["h1", "h2"]
    by_name = {h.name: h for h in score.hosts}
    assert by_name["h0"].vms == 8 and by_name["h0"].cpu_alloc == pytest.approx(16 / 64)

    dry = rebalance.create_plan(pool.ctx, pool.pool_id, rebalance.PlanRequest(), True, "op")
    assert dry.id is None and dry.state == "dry-run" and dry.steps
    assert plan_views.list_plans(pool.ctx, pool.pool_id) == []

    stored = rebalance.create_plan(
        pool.ctx, pool.pool_id, rebalance.PlanRequest(max_moves=4), False, "op"
    )
    assert stored.id is not None and stored.state == "proposed"
    assert 0 < len(stored.steps) <= 4
    assert stored.score_after < stored.score_before
    assert all(s.vm_name != "v0" and s.source_host == "h0" for s in stored.steps)
    assert [s.seq for s in stored.steps] == list(range(1, len(stored.steps) + 1))
    # Scores chain: each step starts where the previous one ended.
    for a, b in zip(stored.steps, stored.steps[1:], strict=False):
        assert a.score_after == pytest.approx(b.score_before)
    # A newer proposal supersedes the waiting one.
    newer = rebalance.create_plan(pool.ctx, pool.pool_id, rebalance.PlanRequest(), False, "op")
    assert plan_views.get_plan(pool.ctx, stored.id).state == "superseded"
    assert [p.id for p in plan_views.list_plans(pool.ctx, pool.pool_id)] == [newer.id, stored.id]


def test_steps_run_one_at_a_time_and_are_rechecked(pool: Pool) -> None:
    plan = rebalance.create_plan(
        pool.ctx, pool.pool_id, rebalance.PlanRequest(max_moves=4), False, "op"
    )
    assert plan.id is not None and len(plan.steps) == 4
    running = plan_execution.approve_plan(pool.ctx, plan.id, "op")
    assert running.state == "running" and running.approved_by == "op"
    first = running.steps[0]
    assert first.state == "running" and first.migration_id is not None
    assert [s.state for s in running.steps[1:]] == ["pending"] * 3
    assert migration(pool, first.migration_id) == (
        "queued",
        "rebalance",
        pool.hosts[first.target_host],
    )

    # Nothing moves on while the migration is in flight.
    plan_execution.advance_plan(pool.ctx, plan.id)
    assert plan_views.get_plan(pool.ctx, plan.id).steps[1].state == "pending"

    finish_migration(pool, first.migration_id)
    plan_execution.advance_plan(pool.ctx, plan.id)
    view = plan_views.get_plan(pool.ctx, plan.id)
    assert view.steps[0].state == "completed"
    second = view.steps[1]
    assert second.state == "running" and second.migration_id is not None

    # Step 3's VM is moved by someone else meanwhile: it must be skipped, not followed.
    third_vm = view.steps[2].vm_name
    with pool.ctx.uow() as uow:
        uow.vms.get(pool.vms[third_vm]).host_id = pool.hosts[view.steps[2].target_host]
        uow.commit()
    finish_migration(pool, second.migration_id, ok=False)
    plan_execution.advance_plan(pool.ctx, plan.id)
    view = plan_views.get_plan(pool.ctx, plan.id)
    assert view.steps[1].state == "failed" and "refused" in (view.steps[1].detail or "")
    assert view.steps[2].state == "skipped" and "no longer on h0" in (view.steps[2].detail or "")
    fourth = view.steps[3]
    assert fourth.state in ("running", "skipped"), fourth
    if fourth.state == "running":
        assert fourth.migration_id is not None
        finish_migration(pool, fourth.migration_id)
        plan_execution.advance_plan(pool.ctx, plan.id)
    done = plan_views.get_plan(pool.ctx, plan.id)
    assert done.state == "completed" and done.finished_at is not None
    assert done.score_final is not None and done.score_final < done.score_before
    # The capacity bookkeeping agrees: no VM is left claimed twice.
    with pool.ctx.uow() as uow:
        assert uow.migrations.active_in_pool(pool.pool_id) == 0


def test_a_step_that_no_longer_gains_is_skipped(pool: Pool) -> None:
    plan = rebalance.create_plan(
        pool.ctx, pool.pool_id, rebalance.PlanRequest(max_moves=2), False, "op"
    )
    assert plan.id is not None and len(plan.steps) == 2
    # Before approval the pool changes: h0 loses most of its VMs, so moving more off
    # it would unbalance the pool instead.
    with pool.ctx.uow() as uow:
        for name in ("v3", "v4", "v5", "v6", "v7"):
            uow.vms.get(pool.vms[name]).host_id = pool.hosts["h1" if name < "v6" else "h2"]
        uow.commit()
    view = plan_execution.approve_plan(pool.ctx, plan.id, "op")
    for step in view.steps:
        if step.vm_name in ("v3", "v4", "v5", "v6", "v7"):
            assert step.state == "skipped" and "no longer on h0" in (step.detail or "")
        else:
            assert step.state == "skipped" and "gain" in (step.detail or ""), step
    assert view.state == "completed"


def test_cancel_stops_pending_steps(pool: Pool) -> None:
    plan = rebalance.create_plan(
        pool.ctx, pool.pool_id, rebalance.PlanRequest(max_moves=3), False, "op"
    )
    assert plan.id is not None
    view = plan_execution.approve_plan(pool.ctx, plan.id, "op")
    in_flight = view.steps[0].migration_id
    assert in_flight is not None
    cancelled = plan_execution.cancel_plan(pool.ctx, plan.id, "op")
    assert cancelled.state == "cancelled"
    assert [s.state for s in cancelled.steps] == ["running", "cancelled", "cancelled"]
    # The migration already started still has its outcome recorded.
    finish_migration(pool, in_flight)
    plan_execution.advance_all(pool.ctx)
    assert plan_views.get_plan(pool.ctx, plan.id).steps[0].state == "completed"
    with pytest.raises(Exception, match="already cancelled"):
        plan_execution.cancel_plan(pool.ctx, plan.id, "op")


def set_pool(pool: Pool, **values: object) -> None:
    with pool.ctx.uow() as uow:
        row = uow.pools.get(pool.pool_id)
        for k, v in values.items():
            setattr(row, k, v)
        uow.commit()


def test_cycle_hysteresis_recommend_and_auto(pool: Pool) -> None:
    set_pool(pool, rebalance_mode="recommend", rebalance_hysteresis_cycles=3)
    r1 = rebalance.run_cycle(pool.ctx, pool.pool_id)
    r2 = rebalance.run_cycle(pool.ctx, pool.pool_id)
    assert r1.plan_id is None and "1 of 3" in r1.result
    assert r2.plan_id is None and "2 of 3" in r2.result
    assert plan_views.list_plans(pool.ctx, pool.pool_id) == []
    r3 = rebalance.run_cycle(pool.ctx, pool.pool_id)
    assert r3.plan_id is not None and "proposed" in r3.result
    proposal = plan_views.get_plan(pool.ctx, r3.plan_id)
    assert proposal.state == "proposed" and proposal.origin == "scheduled"
    assert all(s.state == "pending" for s in proposal.steps)  # recommend: nothing runs
    # The same imbalance three cycles later does not pile up identical proposals.
    for _ in range(3):
        last = rebalance.run_cycle(pool.ctx, pool.pool_id)
    assert last.plan_id == r3.plan_id and "waits for approval" in last.result
    assert len(plan_views.list_plans(pool.ctx, pool.pool_id)) == 1

    set_pool(pool, rebalance_mode="auto", rebalance_hysteresis_cycles=1)
    auto = rebalance.run_cycle(pool.ctx, pool.pool_id)
    assert auto.plan_id is not None and auto.plan_id != r3.plan_id
    running = plan_views.get_plan(pool.ctx, auto.plan_id)
    assert running.state == "running" and running.steps[0].state == "running"
    assert plan_views.get_plan(pool.ctx, r3.plan_id).state == "superseded"
    # While a plan runs, the cycle waits for it instead of planning again.
    assert "still running" in rebalance.run_cycle(pool.ctx, pool.pool_id).result


def test_cool_down_and_migrations_in_flight(pool: Pool) -> None:
    set_pool(pool, rebalance_mode="auto", rebalance_hysteresis_cycles=1, rebalance_cooldown_s=600)
    first = rebalance.run_cycle(pool.ctx, pool.pool_id)
    assert first.plan_id is not None
    moved: list[str] = []
    for _ in range(20):
        view = plan_views.get_plan(pool.ctx, first.plan_id)
        step = next((s for s in view.steps if s.state == "running"), None)
        if step is None:
            break
        assert step.migration_id is not None
        # Another cycle during the migration stays out of the way.
        assert "still running" in rebalance.run_cycle(pool.ctx, pool.pool_id).result
        finish_migration(pool, step.migration_id)
        moved.append(step.vm_name)
        plan_execution.advance_plan(pool.ctx, first.plan_id)
    assert plan_views.get_plan(pool.ctx, first.plan_id).state == "completed" and moved
    # Within the cool-down no VM just moved is planned again.
    pool.clock.advance(60)
    dry = rebalance.create_plan(pool.ctx, pool.pool_id, rebalance.PlanRequest(), True, "op")
    assert not {s.vm_name for s in dry.steps} & set(moved)
    # A migration in flight (an operator's) also holds the cycle back.
    with pool.ctx.uow() as uow:
        uow.migrations.add(
            MigrationRow(
                vm_id=pool.vms["v0"],
                pool_id=pool.pool_id,
                source_host_id=pool.hosts["h0"],
                target_host_id=pool.hosts["h2"],
                state="running",
                reason="api",
            )
        )
        uow.commit()
    assert "in flight" in rebalance.run_cycle(pool.ctx, pool.pool_id).result


@pytest.fixture
def api(pool: Pool) -> Iterator[tuple[TestClient, str]]:
    admin = create_token(pool.ctx, Role.ADMIN, "admin")
    reader = create_token(pool.ctx, Role.READER, "reader", project_id=1)
    client = TestClient(create_app(pool.ctx), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {admin}"
    yield client, reader
    client.close()


def test_api(pool: Pool, api: tuple[TestClient, str]) -> None:
    client, reader = api
    pid = pool.pool_id
    r = client.patch(
        f"/v1/pools/{pid}",
        json={"rebalance_mode": "recommend", "rebalance_strategy": "consolidate",
              "rebalance_max_moves": 3, "rebalance_interval_s": 60},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rebalance_mode"] == "recommend" and body["rebalance_strategy"] == "consolidate"
    assert body["rebalance_max_moves"] == 3 and body["rebalance_streak"] == 0
    for bad in (
        {"rebalance_mode": "sometimes"},
        {"rebalance_interval_s": 0},
        {"rebalance_min_gain": -1},
        {"rebalance_hysteresis_cycles": 0},
    ):
        r = client.patch(f"/v1/pools/{pid}", json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["code"] == "invalid_input"

    # The pool's score and plans are for admins (docs/security.md): a project's reader is 403.
    r = client.get(f"/v1/pools/{pid}/score", headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 403
    r = client.get(f"/v1/pools/{pid}/score")
    assert r.status_code == 200 and r.json()["strategy"] == "consolidate"
    assert {h["name"] for h in r.json()["hosts"]} == {"h0", "h1", "h2"}

    r = client.post(f"/v1/pools/{pid}/plans", json={"dry_run": True, "strategy": "balance"})
    assert r.status_code == 201 and r.json()["id"] is None and r.json()["steps"]
    r = client.post(f"/v1/pools/{pid}/plans", json={"strategy": "balance", "max_moves": 2})
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["state"] == "proposed" and len(plan["steps"]) == 2
    for bad in ({"max_moves": -1}, {"strategy": "scatter"}, {"surprise": 1}):
        assert client.post(f"/v1/pools/{pid}/plans", json=bad).status_code == 422
    assert client.post("/v1/pools/999/plans", json={}).status_code == 404
    assert client.get("/v1/pools/999/plans").status_code == 404
    assert client.get("/v1/plans/999").status_code == 404
    assert client.post("/v1/plans/999/approve").status_code == 404
    assert client.get(f"/v1/pools/{pid}/plans?state=nonsense").status_code == 422
    # A project's reader neither sees plans nor approves them.
    as_reader = {"Authorization": f"Bearer {reader}"}
    assert client.get(f"/v1/pools/{pid}/plans", headers=as_reader).status_code == 403
    listed = client.get(f"/v1/pools/{pid}/plans")
    assert listed.status_code == 200 and listed.json()["items"][0]["id"] == plan["id"]
    r = client.post(f"/v1/plans/{plan['id']}/approve", headers=as_reader)
    assert r.status_code == 403
    r = client.post(f"/v1/plans/{plan['id']}/approve")
    assert r.status_code == 200 and r.json()["state"] == "running"
    assert r.json()["steps"][0]["migration_id"] is not None
    r = client.post(f"/v1/plans/{plan['id']}/approve")
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_state"
    r = client.post(f"/v1/plans/{plan['id']}/cancel")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert client.post(f"/v1/plans/{plan['id']}/cancel").status_code == 409
    events = client.get("/v1/events").json()["items"]
    kinds = {e["kind"] for e in events}
    assert {"plan.created", "plan.approved", "plan.cancelled", "pool.updated"} <= kinds


def test_snapshot_carries_measured_load_and_dirty_rate(pool: Pool) -> None:
    with pool.ctx.uow() as uow:
        for rate, state in ((10, "failed"), (50, "completed")):
            uow.migrations.add(
                MigrationRow(
                    vm_id=pool.vms["v1"], pool_id=pool.pool_id, source_host_id=pool.hosts["h0"],
                    target_host_id=pool.hosts["h1"], state=state, reason="api",
                    memory_dirty_rate=rate * 1024 * 1024, finished_at=pool.clock(),
                )
            )  # fmt: skip
        uow.vms.get(pool.vms["v2"]).state = "stopped"
        uow.commit()
    with pool.ctx.uow() as uow:
        snap = cluster_state.build(uow, uow.pools.get(pool.pool_id), pool.clock())
    vms = {v.name: v for v in snap.cluster.vms}
    assert vms["v1"].dirty_rate == 50.0  # the latest migration's figure
    assert vms["v3"].dirty_rate is None and vms["v3"].cpu_usage is None  # never measured
    assert vms["v2"].cpu_usage == 0.0 and not vms["v2"].migratable  # stopped
    assert "v1" in snap.recently_moved and "v3" not in snap.recently_moved
