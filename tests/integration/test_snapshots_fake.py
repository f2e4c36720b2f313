"""Snapshots (issue 15) through the API on fake hosts, on SQLite and on PostgreSQL: taken,
listed, reverted and deleted as intent, libvirt, outcome; claimed on the host's disk and the
project's snapshot quota; moved with a shared-storage migration and refused a copy one;
settled after a crash; and every bad request a clear 4xx with nothing changed."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.integration.live_server import serve_in_thread
from tests.support.fake_hypervisor import FakeCloud, FakeHost
from tests.support.fake_world import wait_until
from vmpool.adapters.db.migrations import upgrade
from vmpool.adapters.db.tables import SnapshotRow
from vmpool.api.app import create_app
from vmpool.cli import app
from vmpool.config import Settings
from vmpool.errors import HypervisorFailure
from vmpool.services import disks, hosts, snapshots, vms
from vmpool.services.tokens import Role, create_token
from vmpool.wiring import Runtime, build_runtime

SHARED = "/srv/shared"
XMLISH = "<domainsnapshot> & 'quotes' \"too\" </name>]]>"


@dataclass
class Snap:
    runtime: Runtime
    client: TestClient
    cloud: FakeCloud
    a: FakeHost
    b: FakeHost
    a_id: int
    b_id: int
    vm_id: int  # "web" on a, running, with a 5 GiB local data disk
    vm_uuid: str

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(path, json=body)

    def rows(self) -> list[tuple[Any, ...]]:
        with self.runtime.ctx.uow() as uow:
            q = uow.session.query(SnapshotRow).order_by(SnapshotRow.id)
            return [(r.vm_id, r.name, r.description, r.state, r.size_gib) for r in q]

    def allocated_disk(self, host_id: int) -> float:
        return hosts.get_host(self.runtime.ctx, host_id).allocated.disk_gib

    def libvirt_names(self, host: FakeHost, vm_uuid: str | None = None) -> list[str]:
        return list(host.snapshots.get(vm_uuid or self.vm_uuid, {}))


@pytest.fixture
def snap(migrated_url: str, tmp_path: Path) -> Iterator[Snap]:
    cloud = FakeCloud(shared_folders=[SHARED])
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=migrated_url,
        image_dir=tmp_path / "images",
        serial_log_dir=tmp_path / "serial",
        migration_poll_s=0.02,
    )
    runtime = build_runtime(settings, connector=cloud)
    upgrade(runtime.engine)
    ctx = runtime.ctx
    a = cloud.add_host("qemu+tls://a.example/system", hostname="a.example", disk_gib=40)
    b = cloud.add_host("qemu+tls://b.example/system", hostname="b.example", disk_gib=40)
    a_id = hosts.register_host(ctx, "qemu+tls://a.example/system", "a").id
    b_id = hosts.register_host(ctx, "qemu+tls://b.example/system", "b").id
    for host_id in (a_id, b_id):
        hosts.update_host(ctx, host_id, {"shared_disk_path": SHARED}, "op")
    vm = vms.create_vm(
        ctx, vms.CreateVm(name="web", vcpus=1, memory_mib=1536, hosts=frozenset({"a"}))
    )
    disks.add_disk(ctx, vm.id, 5)
    token = create_token(ctx, Role.ADMIN, "admin")
    client = TestClient(create_app(ctx), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token}"
    yield Snap(runtime, client, cloud, a, b, a_id, b_id, vm.id, vm.uuid)
    client.close()
    cloud.release_all()
    runtime.close()


@contextlib.contextmanager
def cli(snap: Snap) -> Iterator[Callable[..., Result]]:
    """`vmpool ...` client commands (CliRunner) against the API served live on the fake hosts,
    with an admin token and only this URL and token of the environment."""
    token = create_token(snap.runtime.ctx, Role.ADMIN, "cli")
    with serve_in_thread(create_app(snap.runtime.ctx)) as url:
        env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("VMPOOL_")}
        env.update(VMPOOL_URL=url, VMPOOL_TOKEN=token, COLUMNS="200")
        yield lambda *args: CliRunner().invoke(app, list(args), env=env)


def test_a_snapshot_is_taken_listed_reverted_and_deleted_with_its_claim(snap: Snap) -> None:
    base = snap.allocated_disk(snap.a_id)
    r = snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "s1", "description": XMLISH})
    assert r.status_code == 201, r.text
    s1 = r.json()
    # A running VM: with its memory; 5 GiB of disk + 1.5 GiB of memory rounded up.
    assert (s1["state"], s1["with_memory"], s1["size_gib"]) == ("ready", True, 7)
    assert s1["description"] == XMLISH and s1["name"] == "s1"
    assert snap.allocated_disk(snap.a_id) == base + 7
    # libvirt saw vmpool's own name only; the client's text is nowhere in its XML.
    [lv_name] = snap.libvirt_names(snap.a)
    assert lv_name.startswith("vmpool-snap-")
    xml = snap.a.snapshots[snap.vm_uuid][lv_name].xml
    assert "s1" not in xml.replace(lv_name, "") and "domainsnapshot> &" not in xml

    listed = snap.client.get(f"/v1/vms/{snap.vm_id}/snapshots").json()["items"]
    assert [x["id"] for x in listed] == [s1["id"]]
    got = snap.client.get(f"/v1/vms/{snap.vm_id}/snapshots/{s1['id']}").json()
    assert got["description"] == XMLISH

    r = snap.post(f"/v1/vms/{snap.vm_id}/snapshots/{s1['id']}/revert")
    assert r.status_code == 200 and r.json()["state"] == "ready", r.text
    assert snap.a.reverts == [(snap.vm_uuid, lv_name)]
    assert snap.client.get(f"/v1/vms/{snap.vm_id}").json()["state"] == "running"

    r = snap.client.delete(f"/v1/vms/{snap.vm_id}/snapshots/{s1['id']}")
    assert r.status_code == 204, r.text
    assert snap.rows() == [] and snap.libvirt_names(snap.a) == []
    assert snap.allocated_disk(snap.a_id) == base
    events = [e["kind"] for e in snap.client.get("/v1/events?limit=200").json()["items"]]
    for action in ("snapshot.create", "snapshot.created", "snapshot.revert",
                   "snapshot.reverted", "snapshot.delete", "snapshot.deleted"):  # fmt: skip
        assert action in events


def test_a_disk_only_snapshot_of_a_stopped_vm_reverts_it_stopped(snap: Snap) -> None:
    assert snap.post(f"/v1/vms/{snap.vm_id}/stop").status_code in (200, 202)
    r = snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "cold"})
    assert r.status_code == 201 and r.json()["with_memory"] is False, r.text
    assert r.json()["size_gib"] == 5
    assert snap.post(f"/v1/vms/{snap.vm_id}/start").status_code in (200, 202)
    assert snap.post(f"/v1/vms/{snap.vm_id}/stop").status_code in (200, 202)
    r = snap.post(f"/v1/vms/{snap.vm_id}/snapshots/{r.json()['id']}/revert")
    assert r.status_code == 200, r.text
    assert snap.client.get(f"/v1/vms/{snap.vm_id}").json()["state"] == "stopped"


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"name": "<x>"}, 422, "name"),
        ({"name": "a&b"}, 422, "name"),
        ({"name": "x" * 64}, 422, "name"),
        ({"name": "ok", "description": "d" * 256}, 422, "description"),
        ({"name": "ok", "description": "line\nbreak"}, 422, "control characters"),
        ({"name": "ok", "include_memory": False}, 409, "include_memory"),
        ({"name": "ok", "extra": 1}, 422, "extra"),
        ({}, 422, "name"),
    ],
)
def test_bad_snapshot_requests_change_nothing(
    snap: Snap, body: dict[str, Any], status: int, says: str
) -> None:
    calls = list(snap.a.calls)
    r = snap.post(f"/v1/vms/{snap.vm_id}/snapshots", body)
    assert r.status_code == status, r.text
    assert says in r.text
    assert snap.rows() == [] and snap.a.calls == calls


def test_names_ids_and_other_vms_snapshots(snap: Snap) -> None:
    other = vms.create_vm(
        snap.runtime.ctx, vms.CreateVm(name="other", vcpus=1, memory_mib=64, hosts=frozenset({"a"}))
    )
    r = snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "s1"})
    assert r.status_code == 201
    sid = r.json()["id"]
    before = snap.rows()
    # Same name twice: 409.
    dup = snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "s1"})
    assert dup.status_code == 409 and "s1" in dup.text
    # Another VM's snapshot, through the other VM: 404 for read, revert and delete.
    assert snap.client.get(f"/v1/vms/{other.id}/snapshots/{sid}").status_code == 404
    assert snap.post(f"/v1/vms/{other.id}/snapshots/{sid}/revert").status_code == 404
    assert snap.client.delete(f"/v1/vms/{other.id}/snapshots/{sid}").status_code == 404
    # Unknown ids.
    assert snap.client.get(f"/v1/vms/{snap.vm_id}/snapshots/999").status_code == 404
    assert snap.post(f"/v1/vms/{snap.vm_id}/snapshots/999/revert").status_code == 404
    assert snap.client.delete(f"/v1/vms/{snap.vm_id}/snapshots/999").status_code == 404
    assert snap.post("/v1/vms/999/snapshots", {"name": "x"}).status_code == 404
    assert snap.client.get("/v1/vms/999/snapshots").status_code == 404
    # A VM without any disk: nothing to hold a snapshot.
    r = snap.post(f"/v1/vms/{other.id}/snapshots", {"name": "x"})
    assert r.status_code == 409 and "no disk" in r.text
    assert snap.rows() == before and len(snap.libvirt_names(snap.a)) == 1


def test_the_project_snapshot_quota_is_kept(snap: Snap) -> None:
    r = snap.client.patch("/v1/projects/1", json={"quota_snapshots": 1})
    assert r.status_code == 200 and r.json()["quota_snapshots"] == 1, r.text
    assert snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "s1"}).status_code == 201
    before = snap.rows()
    r = snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "s2"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "quota_exceeded", r.text
    assert "snapshots quota" in r.text
    assert snap.rows() == before and len(snap.libvirt_names(snap.a)) == 1
    usage = snap.client.get("/v1/projects/1/usage").json()
    assert (usage["snapshots"], usage["quota_snapshots"]) == (1, 1)


def test_a_snapshot_that_does_not_fit_its_host_is_refused_per_filter(snap: Snap) -> None:
    # 40 GiB host: a 30 GiB disk more leaves 5 free; the snapshot would take 5 + 30 + 2.
    disks.add_disk(snap.runtime.ctx, snap.vm_id, 30)
    allocated = snap.allocated_disk(snap.a_id)
    calls = list(snap.a.calls)
    r = snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "big"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_capacity", r.text
    assert "disk" in r.text
    assert snap.rows() == [] and snap.a.calls == calls
    assert snap.allocated_disk(snap.a_id) == allocated


def test_a_failed_snapshot_leaves_no_record_and_no_claim(snap: Snap) -> None:
    base = snap.allocated_disk(snap.a_id)
    snap.a.fail_next("create_snapshot", HypervisorFailure("savevm failed"))
    r = snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "s1"})
    assert r.status_code == 502 and "savevm failed" in r.text, r.text
    assert snap.rows() == [] and snap.libvirt_names(snap.a) == []
    assert snap.allocated_disk(snap.a_id) == base
    # And the name is free again.
    assert snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "s1"}).status_code == 201


def test_a_copy_migration_is_refused_and_a_shared_one_moves_the_records(snap: Snap) -> None:
    r = snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "s1"})
    assert r.status_code == 201
    refused = snap.post(f"/v1/vms/{snap.vm_id}/migrate", {})
    assert refused.status_code == 409, refused.text
    assert "internal snapshots" in refused.text and "shared storage" in refused.text
    assert snap.client.get("/v1/migrations").json()["items"] == []

    ctx = snap.runtime.ctx
    vm = vms.create_vm(ctx, vms.CreateVm(name="db", vcpus=1, memory_mib=64, hosts=frozenset({"a"})))
    disks.add_disk(ctx, vm.id, 2, storage="shared")
    r1 = snap.post(f"/v1/vms/{vm.id}/snapshots", {"name": "one"})
    r2 = snap.post(f"/v1/vms/{vm.id}/snapshots", {"name": "two"})
    assert r1.status_code == r2.status_code == 201
    names = snap.libvirt_names(snap.a, vm.uuid)
    # On shared storage, the snapshot is claimed there, not on the host.
    r = snap.post(f"/v1/vms/{vm.id}/migrate", {"target_host_id": snap.b_id})
    assert r.status_code == 202 and r.json()["storage"] == "shared", r.text
    mid = r.json()["id"]
    wait_until(
        lambda: snap.client.get(f"/v1/migrations/{mid}").json()["state"] == "completed", "move"
    )
    assert snap.libvirt_names(snap.b, vm.uuid) == names
    assert snap.libvirt_names(snap.a, vm.uuid) == []
    assert snap.b.snapshots[vm.uuid][names[-1]].current
    r = snap.post(f"/v1/vms/{vm.id}/snapshots/{r1.json()['id']}/revert")
    assert r.status_code == 200, r.text
    assert snap.b.reverts == [(vm.uuid, names[0])]


def test_a_failed_shared_migration_puts_the_records_back_on_the_source(snap: Snap) -> None:
    ctx = snap.runtime.ctx
    vm = vms.create_vm(ctx, vms.CreateVm(name="db", vcpus=1, memory_mib=64, hosts=frozenset({"a"})))
    disks.add_disk(ctx, vm.id, 2, storage="shared")
    assert snap.post(f"/v1/vms/{vm.id}/snapshots", {"name": "one"}).status_code == 201
    names = snap.libvirt_names(snap.a, vm.uuid)
    snap.a.fail_next_migration("the network broke")
    r = snap.post(f"/v1/vms/{vm.id}/migrate", {"target_host_id": snap.b_id})
    assert r.status_code == 202, r.text
    mid = r.json()["id"]
    wait_until(lambda: snap.client.get(f"/v1/migrations/{mid}").json()["state"] == "failed", "fail")
    assert snap.libvirt_names(snap.a, vm.uuid) == names
    assert snap.libvirt_names(snap.b, vm.uuid) == []


def test_deleting_a_vm_deletes_its_snapshots(snap: Snap) -> None:
    assert snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "s1"}).status_code == 201
    assert snap.client.delete(f"/v1/vms/{snap.vm_id}").status_code == 204
    assert snap.rows() == [] and snap.a.snapshots.get(snap.vm_uuid) is None
    assert snap.a.volume_paths() == set()


def test_snapshot_changes_left_mid_way_are_settled_from_libvirt(snap: Snap) -> None:
    ctx = snap.runtime.ctx
    kept = snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "kept"}).json()
    lost = snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "lost"}).json()
    gone = snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "gone"}).json()
    # As if vmpool died: "kept" and "lost" while being taken (libvirt has only "kept"),
    # "gone" while being deleted.
    old = ctx.clock() - timedelta(seconds=ctx.stale_intent_s + 5)
    with ctx.uow() as uow:
        for sid, state in ((kept["id"], "creating"), (lost["id"], "creating"),
                           (gone["id"], "deleting")):  # fmt: skip
            row = uow.snapshots.get(snap.vm_id, sid)
            row.state, row.state_changed_at, row.xml = state, old, None
            if sid == lost["id"]:
                snap.a.snapshots[snap.vm_uuid].pop(row.libvirt_name)
        uow.commit()
    settled = snapshots.settle_stale(ctx)
    assert sorted(settled) == sorted([kept["id"], lost["id"], gone["id"]])
    rows = snap.rows()
    assert [(r[1], r[3]) for r in rows] == [("kept", "ready")]
    with ctx.uow() as uow:
        assert uow.snapshots.get(snap.vm_id, kept["id"]).xml  # read again from libvirt
    assert len(snap.libvirt_names(snap.a)) == 1


def test_the_cli_creates_lists_reverts_and_deletes_a_snapshot(snap: Snap) -> None:
    """`vmpool snapshot ...` through the generated client against the API (a live server on
    the fake hosts): the snapshot is named by name or id, errors are one line and exit 1."""
    with cli(snap) as invoke:

        def run(*args: str, code: int = 0) -> str:
            result = invoke("snapshot", *args)
            assert result.exit_code == code, (args, result.output)
            return result.output

        made = json.loads(run("create", "web", "before-upgrade", "-d", XMLISH, "--json"))
        assert (made["name"], made["description"], made["with_memory"]) == (
            "before-upgrade",
            XMLISH,
            True,
        )
        assert "before-upgrade" in run("list", "web")
        listed = json.loads(run("list", "web", "--json"))
        assert [s["id"] for s in listed] == [made["id"]]
        assert "back at snapshot before-upgrade" in run("revert", "web", "before-upgrade")
        assert "no snapshot 'nope'" in run("revert", "web", "nope", code=1)
        assert "409" in run("create", "web", "before-upgrade", code=1)  # its name is taken
        run("delete", "web", str(made["id"]))
        assert "no snapshots" in run("list", "web")
    assert snap.rows() == [] and snap.libvirt_names(snap.a) == []


def test_a_revert_waits_until_the_vm_has_the_sizes_its_snapshot_recorded(snap: Snap) -> None:
    """A revert gives the VM back the vCPUs and memory of the snapshot (libvirt restores the
    recorded domain); while the VM was resized since, it is refused (409) with nothing
    changed, so that the claim and the VM never part; resized back, it reverts."""
    r = snap.client.post("/v1/vms", json={"name": "grow", "vcpus": 1, "max_vcpus": 2,
                                          "memory_mib": 256, "hosts": ["a"]})  # fmt: skip
    assert r.status_code == 201, r.text
    vm = r.json()
    disks.add_disk(snap.runtime.ctx, vm["id"], 1)
    s1 = snap.post(f"/v1/vms/{vm['id']}/snapshots", {"name": "small"}).json()
    r = snap.client.patch(f"/v1/vms/{vm['id']}", json={"vcpus": 2})
    assert r.status_code == 200, r.text
    claimed = snap.client.get(f"/v1/hosts/{snap.a_id}").json()["allocated"]
    refused = snap.post(f"/v1/vms/{vm['id']}/snapshots/{s1['id']}/revert")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["details"] == {
        "snapshot_vcpus": 1, "snapshot_memory_mib": 256
    }  # fmt: skip
    assert snap.a.reverts == []
    assert snap.client.get(f"/v1/vms/{vm['id']}").json()["vcpus"] == 2
    assert snap.client.get(f"/v1/hosts/{snap.a_id}").json()["allocated"] == claimed
    assert snap.client.get(f"/v1/vms/{vm['id']}/snapshots/{s1['id']}").json()["state"] == "ready"
    # Resized back with the CLI (`vmpool vm resize`), then the revert goes through.
    with cli(snap) as invoke:
        done = invoke("vm", "resize", "grow", "--vcpus", "1")
        assert done.exit_code == 0, done.output
        assert "grow: 1 vCPUs (max 2), 256 MiB (max 256)" in done.output
        bad = invoke("vm", "resize", "grow", "--vcpus", "3")
        assert bad.exit_code == 1 and "422" in bad.output, bad.output
    r = snap.post(f"/v1/vms/{vm['id']}/snapshots/{s1['id']}/revert")
    assert r.status_code == 200, r.text
    assert snap.client.get(f"/v1/vms/{vm['id']}").json()["vcpus"] == 1


def test_a_vm_is_not_deleted_while_one_of_its_snapshots_is_being_taken(snap: Snap) -> None:
    """A delete meanwhile would pull the volumes from under libvirt's snapshot: 409, the VM
    and its snapshot unchanged; once the snapshot is settled, the delete goes through."""
    s1 = snap.post(f"/v1/vms/{snap.vm_id}/snapshots", {"name": "s1"}).json()
    with snap.runtime.ctx.uow() as uow:
        uow.session.get(SnapshotRow, s1["id"]).state = "creating"  # as if being taken
        uow.commit()
    r = snap.client.delete(f"/v1/vms/{snap.vm_id}")
    assert r.status_code == 409, r.text
    assert "snapshot creating" in r.json()["error"]["message"]
    assert snap.client.get(f"/v1/vms/{snap.vm_id}").json()["state"] == "running"
    assert snap.rows()[0][3] == "creating" and snap.libvirt_names(snap.a) != []
    with snap.runtime.ctx.uow() as uow:
        uow.session.get(SnapshotRow, s1["id"]).state = "ready"
        uow.commit()
    assert snap.client.delete(f"/v1/vms/{snap.vm_id}").status_code == 204
    assert snap.rows() == [] and snap.vm_uuid not in snap.a.domains
