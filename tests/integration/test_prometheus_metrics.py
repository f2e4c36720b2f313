"""`GET /metrics` (issue 14): scraped through the API after known actions on fake hosts and
parsed with prometheus_client's own parser."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.support.fake_world import World, to, wait_until
from vmpool.api.app import create_app
from vmpool.scheduler.jobs import SYNC_JOB_ID, build_scheduler
from vmpool.services import metrics as load
from vmpool.services import migrations, projects, sync, vm_actions, vms
from vmpool.services.tokens import Role, create_token

MIB = 2**20


def scrape(client: TestClient, token: str) -> dict[str, list[Sample]]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            samples.setdefault(s.name, []).append(s)
    return samples


def value(samples: dict[str, list[Sample]], name: str, **labels: str) -> float:
    found = [s.value for s in samples.get(name, []) if labels.items() <= s.labels.items()]
    assert len(found) == 1, (name, labels, samples.get(name))
    return found[0]


def test_metrics_after_known_actions(world: World) -> None:
    ctx = world.ctx
    a_id, _ = world.add_host("a")
    b_id, _ = world.add_host("b")
    alpha = projects.create_project(ctx, "alpha").id
    beta = projects.create_project(ctx, "beta").id
    in_alpha, in_beta = ctx.in_project(alpha), ctx.in_project(beta)
    vms.create_vm(
        in_alpha, vms.CreateVm(name="a1", vcpus=2, memory_mib=128, hosts=frozenset({"a"}))
    )
    stopped = vms.create_vm(
        in_alpha, vms.CreateVm(name="a2", vcpus=1, memory_mib=64, hosts=frozenset({"a"}))
    )
    mover = vms.create_vm(in_beta, vms.CreateVm(name="b1", vcpus=1, memory_mib=64,
                                                hosts=frozenset({"a"})))  # fmt: skip
    vm_actions.power_action(ctx, stopped.id, "stop")
    moved = world.settled(migrations.request_migration(ctx, mover.id, to(b_id)).id)
    assert moved.state == "completed"
    sync.sync_all(ctx, 0.0, 0.0)

    client = TestClient(create_app(ctx))
    token = create_token(ctx, Role.ADMIN, "ops")
    assert client.get("/metrics").status_code == 401
    member = create_token(ctx, Role.MEMBER, "dev", project_id=alpha)
    assert client.get("/metrics", headers={"Authorization": f"Bearer {member}"}).status_code == 403
    m = scrape(client, token)

    assert value(m, "vmpool_hosts", state="up") == 2
    assert value(m, "vmpool_hosts", state="maintenance") == 0
    assert value(m, "vmpool_vms", project="alpha", state="running") == 1
    assert value(m, "vmpool_vms", project="alpha", state="stopped") == 1
    assert value(m, "vmpool_vms", project="beta", state="running") == 1
    assert "default" not in {s.labels["project"] for s in m["vmpool_vms"]}  # no VMs there

    for host_id, name in ((a_id, "a"), (b_id, "b")):
        api = client.get(f"/v1/hosts/{host_id}", headers={"Authorization": f"Bearer {token}"})
        allocated, capacity = api.json()["allocated"], api.json()["capacity"]
        assert value(m, "vmpool_host_allocated_vcpus", host=name) == allocated["vcpus"]
        assert value(m, "vmpool_host_allocated_memory_bytes", host=name) == (
            allocated["memory_mib"] * MIB
        )
        assert value(m, "vmpool_host_capacity_vcpus", host=name) == capacity["vcpus"]
        assert value(m, "vmpool_host_vms", host=name) == api.json()["vm_count"]
    assert value(m, "vmpool_host_vms", host="b") == 1  # the VM that moved

    assert value(m, "vmpool_migrations", state="completed") == 1
    assert value(m, "vmpool_migration_duration_seconds_count", outcome="completed") == 1
    assert value(m, "vmpool_migration_downtime_seconds_count") == 1
    assert value(m, "vmpool_placement_duration_seconds_count", use="create") == 3
    assert value(m, "vmpool_placement_duration_seconds_count", use="migrate") == 1
    assert value(m, "vmpool_cycle_duration_seconds_count", cycle="sync") == 1
    assert value(m, "vmpool_cycle_duration_seconds_count", cycle="host_sync") == 2
    assert len(m["vmpool_pool_score"]) == 1  # the default pool


def test_a_load_sample_is_timed_and_reported(world: World) -> None:
    world.add_host("a")
    load.sample_all(world.ctx, 60.0)
    load.sample_all(world.ctx, 60.0)
    client = TestClient(create_app(world.ctx))
    m = scrape(client, create_token(world.ctx, Role.ADMIN, "ops"))
    assert value(m, "vmpool_cycle_duration_seconds_count", cycle="sample") == 2
    assert 0.0 <= value(m, "vmpool_host_cpu_load_ratio", host="a") <= 1.0


def test_the_scheduler_reports_job_lag_and_sync_durations(world: World) -> None:
    world.add_host("a")
    settings = world.runtime.settings.model_copy(
        update={"metrics_enabled": False, "rebalance_enabled": False,
                "migration_queue_enabled": False},
    )  # fmt: skip
    client = TestClient(create_app(world.ctx))
    token = create_token(world.ctx, Role.ADMIN, "ops")
    scheduler = build_scheduler(world.ctx, settings)
    scheduler.start()
    try:
        wait_until(
            lambda: any(
                s.labels.get("cycle") == "host_sync" and s.value >= 1
                for s in scrape(client, token).get("vmpool_cycle_duration_seconds_count", [])
            ),
            "a host synced by the scheduler",
        )
    finally:
        scheduler.shutdown(wait=True)
    m = scrape(client, token)
    assert value(m, "vmpool_job_lag_seconds_count", job=SYNC_JOB_ID) >= 1
    assert value(m, "vmpool_job_lag_seconds_sum", job=SYNC_JOB_ID) >= 0


def test_an_empty_pool_scrapes(world: World) -> None:
    client = TestClient(create_app(world.ctx))
    m = scrape(client, create_token(world.ctx, Role.ADMIN, "ops"))
    assert value(m, "vmpool_hosts", state="up") == 0
    assert "vmpool_vms" not in m and "vmpool_host_vms" not in m
    assert len(m["vmpool_pool_score"]) == 1
