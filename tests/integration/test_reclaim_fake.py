"""Leases, reclaim and the idle rule through the use cases on fake hosts, on SQLite and
PostgreSQL, with a clock the test moves (docs/lifecycle.md, "Leases and reclaim" and
"Idle VMs")."""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.fake_hypervisor import FakeHost, fake_disk_bytes
from tests.support.fake_world import fake_runtime
from vmpool.adapters.db.repositories import EventQuery
from vmpool.adapters.db.tables import LoadRow, SnapshotRow
from vmpool.api.app import create_app
from vmpool.errors import InvalidInput, InvalidState, NotFound
from vmpool.scheduler import jobs
from vmpool.services import disks, hosts, images, leases, pools, projects, reclaim, vms
from vmpool.services.tokens import Role, create_token
from vmpool.services.unit_of_work import ServiceContext
from vmpool.wiring import Runtime

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
WARNINGS = [86_400, 3_600]
DAY = timedelta(days=1)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, when: datetime) -> datetime:
        self.now = when
        return when


@dataclass
class W:
    runtime: Runtime
    ctx: ServiceContext
    clock: Clock
    fake: FakeHost

    def create(self, name: str, **kw: Any) -> vms.VmView:
        return vms.create_vm(self.ctx, vms.CreateVm(name=name, vcpus=1, memory_mib=64, **kw))

    def run(self, when: datetime) -> reclaim.ReclaimReport:
        return reclaim.run(self.ctx, WARNINGS, self.clock.at(when))

    def events(self, kind: str, vm_id: int | None = None) -> list[dict[str, Any]]:
        with self.ctx.uow() as uow:
            rows = uow.events.page(EventQuery(limit=1000))
            return [
                {"actor": e.actor, **e.details}
                for e in reversed(rows)
                if e.kind == kind and (vm_id is None or e.subject == f"vm/{vm_id}")
            ]

    def policy(self, **change: Any) -> None:
        pools.update_pool(self.ctx, 1, pools.PolicyChange(**change), "test")


@pytest.fixture
def w(migrated_url: str, tmp_path: Path) -> Iterator[W]:
    with fake_runtime(tmp_path, migrated_url) as (runtime, cloud):
        clock = Clock()
        ctx = dataclasses.replace(runtime.ctx, clock=clock)
        uri = "qemu+tls://a.example/system"
        fake = cloud.add_host(uri, hostname="a.example", cpus=16, memory_mib=65536)
        hosts.register_host(ctx, uri, "a")
        yield W(runtime, ctx, clock, fake)


def _vm_count(w: W) -> int:
    return len(vms.list_vms(w.ctx))


def test_a_new_vm_gets_its_lease_or_the_pools_within_the_maximum(w: W) -> None:
    plain = w.create("plain")
    assert (plain.lease_expires_at, plain.reclaim_policy) == (None, "stop")
    w.policy(default_lease_s=3600, max_lease_s=2 * 86_400, default_reclaim_policy="delete")
    pooled = w.create("pooled")
    assert pooled.lease_expires_at == T0 + timedelta(hours=1)
    assert pooled.reclaim_policy == "delete"
    own = w.create("own", lease_s=86_400, reclaim_policy="stop")
    assert (own.lease_expires_at, own.reclaim_policy) == (T0 + DAY, "stop")
    until = w.create("until", lease_expires_at=T0 + timedelta(hours=5))
    assert until.lease_expires_at == T0 + timedelta(hours=5)
    # The pool's snapshot_then_delete on a VM without a disk: delete (nothing to keep).
    w.policy(default_reclaim_policy="snapshot_then_delete")
    assert w.create("diskless").reclaim_policy == "delete"
    assert w.create("disked", disk_gib=1).reclaim_policy == "snapshot_then_delete"

    before = _vm_count(w)
    bad: list[tuple[dict[str, Any], str]] = [
        ({"lease_s": 3600, "lease_expires_at": T0 + DAY}, "not both"),
        ({"lease_expires_at": T0 - timedelta(seconds=1)}, "in the past"),
        ({"lease_expires_at": T0}, "in the past"),
        ({"lease_s": 3 * 86_400}, "beyond the pool's maximum"),
        ({"lease_expires_at": T0 + 3 * DAY}, "beyond the pool's maximum"),
        ({"lease_s": 0}, "1 to"),
        ({"reclaim_policy": "shelve"}, "unknown reclaim policy"),
        ({"reclaim_policy": "snapshot_then_delete"}, "has none"),
        ({"lease_expires_at": datetime(2030, 1, 2)}, "time zone"),
    ]
    for i, (kw, message) in enumerate(bad):
        with pytest.raises(InvalidInput, match=message):
            w.create(f"bad-{i}", **kw)
    assert _vm_count(w) == before  # nothing created, nothing claimed
    assert all(v.name.startswith(("plain", "pooled", "own", "until", "dis")) for v in
               vms.list_vms(w.ctx))  # fmt: skip


def test_a_projects_lease_defaults_come_before_the_pools(w: W) -> None:
    """A project may set its VMs' lease and reclaim policy (before the pool's defaults; a
    VM's own choice before both), within the pool's maximum; bad values are 4xx, unchanged.
    Over the API too: create, PATCH (null clears), GET."""
    w.policy(default_lease_s=3600, max_lease_s=2 * 86_400, default_reclaim_policy="stop")
    team = projects.create_project(w.ctx, "team", default_lease_s=7200,
                                   default_reclaim_policy="delete")  # fmt: skip
    assert (team.default_lease_s, team.default_reclaim_policy) == (7200, "delete")
    theirs = w.create("theirs", project_id=team.id)
    assert (theirs.lease_expires_at, theirs.reclaim_policy) == (T0 + timedelta(hours=2), "delete")
    pooled = w.create("pooled")  # the default project sets nothing: the pool's
    assert (pooled.lease_expires_at, pooled.reclaim_policy) == (T0 + timedelta(hours=1), "stop")
    own = w.create("own", project_id=team.id, lease_s=600, reclaim_policy="stop")
    assert (own.lease_expires_at, own.reclaim_policy) == (T0 + timedelta(minutes=10), "stop")
    # A project default beyond the pool's maximum is refused at the VM's create.
    projects.update_project(w.ctx, team.id, {"default_lease_s": 3 * 86_400})
    with pytest.raises(InvalidInput, match="beyond the pool's maximum"):
        w.create("too-long", project_id=team.id)

    token = create_token(w.ctx, Role.ADMIN, "admin")
    client = TestClient(create_app(w.ctx), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token}"
    before = client.get(f"/v1/projects/{team.id}").json()
    for body in ({"default_lease_s": 10}, {"default_reclaim_policy": "shelve"},
                 {"default_lease_s": "soon"}, {"default_reclaim_policy": "<stop/>"}):  # fmt: skip
        r = client.patch(f"/v1/projects/{team.id}", json=body)
        assert r.status_code == 422, (body, r.text)
    after = client.get(f"/v1/projects/{team.id}").json()
    assert after == before
    r = client.patch(f"/v1/projects/{team.id}", json={"default_lease_s": None,
                                                      "default_reclaim_policy": None})  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["default_lease_s"], r.json()["default_reclaim_policy"]) == (None, None)
    r = client.post("/v1/projects", json={"name": "ops", "default_reclaim_policy": "stop"})
    assert r.status_code == 201 and r.json()["default_reclaim_policy"] == "stop", r.text
    client.close()


def test_pool_lease_settings_are_checked_and_cleared_with_null(w: W) -> None:
    w.policy(default_lease_s=60, max_lease_s=120, idle_cpu_percent=5.0, idle_action="reclaim")
    view = pools.get_pool(w.ctx, 1)
    assert (view.default_lease_s, view.max_lease_s, view.idle_cpu_percent) == (60, 120, 5.0)
    with pytest.raises(InvalidInput, match="beyond max_lease_s"):
        w.policy(default_lease_s=600)
    with pytest.raises(InvalidInput, match="unknown reclaim policy"):
        w.policy(default_reclaim_policy="later")
    with pytest.raises(InvalidInput, match="unknown idle action"):
        w.policy(idle_action="nap")
    with pytest.raises(InvalidInput, match="idle_cpu_percent"):
        w.policy(idle_cpu_percent=101.0)
    assert pools.get_pool(w.ctx, 1).default_lease_s == 60  # nothing changed
    w.policy(cleared=frozenset({"default_lease_s", "max_lease_s", "idle_cpu_percent"}))
    view = pools.get_pool(w.ctx, 1)
    assert (view.default_lease_s, view.max_lease_s, view.idle_cpu_percent) == (None, None, None)
    assert view.idle_action == "reclaim"


def test_warnings_once_per_threshold_then_stopped_once_at_expiry(w: W) -> None:
    vm = w.create("leased", lease_s=2 * 86_400)
    end = T0 + 2 * DAY
    assert not w.run(T0 + timedelta(hours=1)).warned
    assert w.run(end - DAY + timedelta(seconds=1)).warned == {vm.id: 86_400}
    assert not w.run(end - timedelta(hours=2)).warned  # given once
    assert w.run(end - timedelta(minutes=59)).warned == {vm.id: 3_600}
    assert not w.run(end - timedelta(minutes=1)).warned
    assert [e["threshold_s"] for e in w.events("vm.lease_expiring", vm.id)] == [86_400, 3_600]
    assert vms.get_vm(w.ctx, vm.id).state == "running"

    report = w.run(end + timedelta(seconds=1))
    assert report.reclaimed == {vm.id: "stop"}
    assert vms.get_vm(w.ctx, vm.id).state == "stopped"
    assert w.fake.domains[vm.uuid].state == "stopped"
    assert [e["actor"] for e in w.events("vm.stop", vm.id)] == ["reclaim"]
    assert [e["reason"] for e in w.events("vm.reclaimed", vm.id)] == ["lease"]
    destroys = w.fake.calls.count("destroy")
    # A stopped VM is left alone at each later run.
    assert not w.run(end + timedelta(minutes=5))
    assert w.fake.calls.count("destroy") == destroys
    assert len(w.events("vm.reclaim", vm.id)) == 1


def test_a_vm_that_starts_inside_both_thresholds_gets_the_nearest_warning_only(w: W) -> None:
    vm = w.create("short", lease_s=600)
    assert w.run(T0 + timedelta(seconds=1)).warned == {vm.id: 3_600}
    assert [e["threshold_s"] for e in w.events("vm.lease_expiring", vm.id)] == [3_600]


def test_renew_extends_within_the_maximum_and_warns_afresh(w: W) -> None:
    w.policy(max_lease_s=2 * 86_400)
    vm = w.create("renewed", lease_s=1800)
    w.run(T0 + timedelta(seconds=10))
    assert w.events("vm.lease_expiring", vm.id)
    w.clock.at(T0 + timedelta(minutes=20))
    view = leases.renew_lease(w.ctx, vm.id, lease_s=86_400)
    assert view.lease_expires_at == T0 + timedelta(minutes=20) + DAY
    with w.ctx.uow() as uow:
        assert uow.vms.get(vm.id).lease_warned_s is None
    view = leases.renew_lease(w.ctx, vm.id, until=T0 + DAY + timedelta(hours=3))
    assert view.lease_expires_at == T0 + DAY + timedelta(hours=3)
    assert len(w.events("vm.lease_renewed", vm.id)) == 2

    plain = w.create("no-lease")
    b = projects.create_project(w.ctx, "team-b").id
    bad: list[tuple[Any, type[Exception], str]] = [
        (lambda: leases.renew_lease(w.ctx, vm.id, lease_s=3 * 86_400), InvalidInput, "maximum"),
        (lambda: leases.renew_lease(w.ctx, vm.id, until=T0), InvalidInput, "in the past"),
        (lambda: leases.renew_lease(w.ctx, vm.id, lease_s=60, until=T0 + DAY), InvalidInput,
         "not both"),
        (lambda: leases.renew_lease(w.ctx, vm.id), InvalidInput, "not both"),
        (lambda: leases.renew_lease(w.ctx, plain.id, lease_s=60), InvalidState, "no lease"),
        (lambda: leases.renew_lease(w.ctx, 9999, lease_s=60), NotFound, "does not exist"),
        (lambda: leases.renew_lease(w.ctx.in_project(b), vm.id, lease_s=60), NotFound,
         "does not exist"),
    ]  # fmt: skip
    for call, error, message in bad:
        with pytest.raises(error, match=message):
            call()
    assert vms.get_vm(w.ctx, vm.id).lease_expires_at == T0 + DAY + timedelta(hours=3)
    assert vms.get_vm(w.ctx, plain.id).lease_expires_at is None


def test_a_busy_vm_waits_for_the_next_run(w: W) -> None:
    vm = w.create("busy", lease_s=60, reclaim_policy="delete")
    with w.ctx.uow() as uow:
        uow.vms.get(vm.id).state = "migrating"
        uow.commit()
    report = w.run(T0 + timedelta(minutes=5))
    assert report.skipped == {vm.id: "it is migrating"}
    with w.ctx.uow() as uow:
        uow.vms.get(vm.id).state = "running"
        snap = SnapshotRow(vm_id=vm.id, name="s1", libvirt_name="vmpool-snap-1",
                           state="creating", state_changed_at=T0)  # fmt: skip
        uow.session.add(snap)
        uow.commit()
    report = w.run(T0 + timedelta(minutes=6))
    assert report.skipped == {vm.id: "a snapshot of it is creating"}
    assert vm.uuid in w.fake.domains
    with w.ctx.uow() as uow:
        for row in uow.session.query(SnapshotRow):
            row.state = "ready"
        uow.commit()
    with w.ctx.uow() as uow:  # the snapshot's record goes with the VM (its own issue)
        uow.session.query(SnapshotRow).delete()
        uow.commit()
    report = w.run(T0 + timedelta(minutes=7))
    assert report.reclaimed == {vm.id: "delete"}
    assert vm.uuid not in w.fake.domains
    with pytest.raises(NotFound):
        vms.get_vm(w.ctx, vm.id)
    assert [e["actor"] for e in w.events("vm.delete", vm.id)] == ["reclaim"]
    assert w.events("vm.reclaimed", vm.id)[0]["reclaim_policy"] == "delete"


def _upload(w: W, tmp_path: Path, name: str) -> images.ImageView:
    path = tmp_path / f"{name}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "1G"], check=True)
    return images.upload_image(w.ctx, name, None, None, iter([path.read_bytes()]))


def test_snapshot_then_delete_keeps_each_disk_as_an_image_of_the_project(
    w: W, tmp_path: Path
) -> None:
    _upload(w, tmp_path, "base")
    team = projects.create_project(w.ctx, "team").id
    ctx = w.ctx.in_project(team)
    cmd = vms.CreateVm(name="kept", vcpus=1, memory_mib=64, image="base", lease_s=60,
                       reclaim_policy="snapshot_then_delete")  # fmt: skip
    vm = vms.create_vm(ctx, cmd)
    disk = disks.add_disk(ctx, vm.id, 1)
    assert vm.disk_path is not None and disk.path is not None

    # A failure half-way: the VM stays (stopped), no image is left, the next run retries.
    w.fake.fail_next("read_volume")
    report = w.run(T0 + timedelta(minutes=2))
    assert vm.id in report.failed and not report.reclaimed
    assert vms.get_vm(w.ctx, vm.id).state == "stopped"
    assert [i.name for i in images.list_images(w.ctx)] == ["base"]
    assert w.events("vm.reclaim_failed", vm.id)
    assert not [p for p in w.fake.volumes if "/reclaim-" in p]  # the copies are gone

    report = w.run(T0 + timedelta(minutes=3))
    stamp = "203001011203"
    names = [f"kept-vda-reclaimed-{stamp}", f"kept-vdb-reclaimed-{stamp}"]
    assert report.reclaimed == {vm.id: "snapshot_then_delete"}
    assert report.images == {vm.id: names}
    assert vm.uuid not in w.fake.domains
    assert vm.disk_path not in w.fake.volumes and disk.path not in w.fake.volumes
    assert not [p for p in w.fake.volumes if "/reclaim-" in p]
    kept = {i.name: i for i in images.list_images(ctx)}  # the project sees its images
    assert set(names) <= set(kept)
    store = w.runtime.ctx.image_store
    assert store is not None
    for name, path in zip(names, (vm.disk_path, disk.path), strict=True):
        image = kept[name]
        assert image.state == "available"
        with w.ctx.uow() as uow:
            assert uow.images.get(image.id).project_id == team
        # What the host's copy of that disk held, byte for byte.
        assert image.format == "qcow2"
        stored = store.path(image.id, images.DiskFormat(image.format))
        raw = tmp_path / f"{name}.raw"
        subprocess.run(["qemu-img", "convert", "-q", "-O", "raw", stored, str(raw)], check=True)
        assert raw.read_bytes() == fake_disk_bytes(path)
    assert w.events("vm.reclaimed", vm.id)[0]["images"] == names


def test_the_idle_rule_reports_warns_and_reclaims(w: W) -> None:
    w.policy(idle_cpu_percent=5.0, idle_period_s=600, idle_action="reclaim", idle_warning_s=300)
    busy = w.create("busy")
    idle = w.create("idle")

    def load(vm_id: int, avg: float, at: datetime) -> None:
        with w.ctx.uow() as uow:
            row = uow.load.get("vm", vm_id)
            if row is None:
                uow.load.add(LoadRow(kind="vm", subject_id=vm_id, sampled_at=at, cpu_time_ns=0,
                                     cpu_usage=avg, cpu_usage_avg=avg, samples=5))  # fmt: skip
            else:
                row.sampled_at, row.cpu_usage_avg = at, avg
            uow.commit()

    def sample(at: datetime, idle_avg: float = 0.01) -> reclaim.ReclaimReport:
        load(busy.id, 0.40, at)
        load(idle.id, idle_avg, at)
        return w.run(at)

    assert sample(T0).idle_marked == [idle.id]
    assert sample(T0 + timedelta(minutes=5)).idle_reported == []
    report = sample(T0 + timedelta(minutes=10))
    assert report.idle_reported == [idle.id]
    assert [v.name for v in vms.list_vms(w.ctx, idle=True)] == ["idle"]
    assert [v.name for v in vms.list_vms(w.ctx, idle=False)] == ["busy"]
    assert len(w.events("vm.idle", idle.id)) == 1
    assert len(w.events("vm.idle_reclaim_warning", idle.id)) == 1
    # Activity in between clears the warning; the count starts again.
    report = sample(T0 + timedelta(minutes=12), idle_avg=0.5)
    assert report.idle_cleared == [idle.id]
    assert vms.get_vm(w.ctx, idle.id).idle_since is None
    assert w.events("vm.idle_cleared", idle.id)
    sample(T0 + timedelta(minutes=13))
    sample(T0 + timedelta(minutes=23))  # reported (and warned) again
    assert not sample(T0 + timedelta(minutes=27)).reclaimed  # within the warning
    report = sample(T0 + timedelta(minutes=28))
    assert report.reclaimed == {idle.id: "stop"}
    assert vms.get_vm(w.ctx, idle.id).state == "stopped"
    assert vms.get_vm(w.ctx, busy.id).state == "running"
    assert [e["reason"] for e in w.events("vm.reclaimed", idle.id)] == ["idle"]
    sample(T0 + timedelta(minutes=29))  # a stopped VM is not idle: the marks go
    assert vms.get_vm(w.ctx, idle.id).idle_warned_at is None
    # A stale figure decides nothing.
    w.policy(idle_action="report")
    with w.ctx.uow() as uow:
        uow.load.get("vm", busy.id).cpu_usage_avg = 0.0  # type: ignore[union-attr]
        uow.commit()
    assert not w.run(T0 + timedelta(hours=2)).idle_marked


def test_the_reclaim_job_is_registered_and_runs_the_service(w: W) -> None:
    settings = w.runtime.settings.model_copy(
        update={"sync_enabled": False, "metrics_enabled": False, "reclaim_interval_s": 7.0}
    )
    scheduler = jobs.build_scheduler(w.ctx, settings)
    job = scheduler.get_job(jobs.RECLAIM_JOB_ID)
    assert job is not None and job.trigger.interval.total_seconds() == 7.0
    assert job.args[1] == [86_400, 3_600]
    vm = w.create("by-job", lease_s=60)
    w.clock.at(T0 + timedelta(minutes=2))
    job.func(*job.args)
    assert vms.get_vm(w.ctx, vm.id).state == "stopped"
    off = settings.model_copy(update={"reclaim_enabled": False})
    assert jobs.build_scheduler(w.ctx, off).get_job(jobs.RECLAIM_JOB_ID) is None


def test_the_api_creates_renews_and_filters(w: W) -> None:
    w.policy(max_lease_s=86_400)
    token = create_token(w.ctx, Role.ADMIN, "admin")
    client = TestClient(create_app(w.ctx), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token}"
    base = {"vcpus": 1, "memory_mib": 64}
    r = client.post("/v1/vms", json={"name": "api-vm", **base, "lease_s": 3600})
    assert r.status_code == 201, r.text
    vm = r.json()
    assert vm["lease_expires_at"].startswith("2030-01-01T13:00:00")
    assert vm["reclaim_policy"] == "stop" and vm["idle_since"] is None
    bad = [
        {"lease_s": 60, "lease_expires_at": "2030-01-01T13:00:00Z"},
        {"lease_expires_at": "2029-12-31T00:00:00Z"},
        {"lease_expires_at": "2030-01-01T13:00:00"},  # no time zone
        {"lease_s": 2 * 86_400},
        {"reclaim_policy": "shelve"},
        {"lease_s": "3600"},
    ]
    for extra in bad:
        r = client.post("/v1/vms", json={"name": "api-bad", **base, **extra})
        assert r.status_code == 422, (extra, r.text)
    r = client.post(f"/v1/vms/{vm['id']}/lease/renew", json={"until": "2030-01-02T06:00:00Z"})
    assert r.status_code == 200 and r.json()["lease_expires_at"].startswith("2030-01-02T06")
    for body, status in [
        ({"lease_s": 2 * 86_400}, 422),
        ({"until": "2029-01-01T00:00:00Z"}, 422),
        ({}, 422),
        ({"lease_s": 60, "until": "2030-01-01T13:00:00Z"}, 422),
        ({"lease_s": 60, "extra": 1}, 422),
    ]:
        r = client.post(f"/v1/vms/{vm['id']}/lease/renew", json=body)
        assert r.status_code == status, (body, r.text)
    assert client.post("/v1/vms/9999/lease/renew", json={"lease_s": 60}).status_code == 404
    r = client.post("/v1/vms", json={"name": "api-plain", **base})
    r = client.post(f"/v1/vms/{r.json()['id']}/lease/renew", json={"lease_s": 60})
    assert r.status_code == 409 and "no lease" in r.json()["error"]["message"]
    assert client.get("/v1/vms", params={"idle": "true"}).json()["items"] == []
    assert len(client.get("/v1/vms", params={"idle": "false"}).json()["items"]) == 2
    r = client.patch("/v1/pools/1", json={"max_lease_s": None, "idle_cpu_percent": 3.5})
    assert r.status_code == 200, r.text
    assert (r.json()["max_lease_s"], r.json()["idle_cpu_percent"]) == (None, 3.5)
    r = client.patch("/v1/pools/1", json={"default_reclaim_policy": "never"})
    assert r.status_code == 422
    client.close()
