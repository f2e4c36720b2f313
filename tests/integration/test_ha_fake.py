"""A failed host, on fake hosts (issue 13): nothing is restarted before the host is fenced
(by an operator or by its fence command), `ha` VMs are then started on another host with
their claim, other VMs are stopped, and a fenced host that comes back loses its stale
copies before anything else. The lab test (test_ha_lab.py) does it with real QEMU and
virtlockd."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.fake_world import NOTHING, World
from vmpool.api.app import create_app
from vmpool.errors import HypervisorOperationInvalid, InvalidInput, InvalidState
from vmpool.services import audit, disks, ha, hosts, sync, vm_actions, vms
from vmpool.services.tokens import Role, create_token


def _sync(world: World) -> sync.SyncReport:
    return sync.sync_all(world.ctx, base_interval_s=0.0, max_backoff_s=0.0)


def _ha_vm(world: World, name: str, on: str, **kw: object) -> vms.VmView:
    cmd = vms.CreateVm(
        name=name, vcpus=1, memory_mib=64, ha=True, hosts=frozenset({on}),
        kernel_args=("vmpool.mode=idle",), **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return vms.create_vm(world.ctx, cmd)


def _events(world: World, kind: str) -> list[dict[str, object]]:
    return [
        {"subject": e.subject, "actor": e.actor, **e.details}
        for e in audit.page(world.ctx, audit.EventQuery(kind=kind))
    ]


def test_ha_vms_start_elsewhere_only_once_their_host_is_fenced(world: World) -> None:
    a_id, a = world.add_host("a")
    b_id, b = world.add_host("b")
    keep = _ha_vm(world, "keep", on="a")
    plain = world.create("plain", on="a")
    idle = _ha_vm(world, "idle", on="a")
    vm_actions.power_action(world.ctx, idle.id, "stop")  # stopped: not started by HA

    a.unreachable = True
    _sync(world)
    assert world.host(a_id).state == "unreachable"
    assert {world.vm(v.id).state for v in (keep, plain)} == {"unknown"}

    # Not fenced: nothing moves, whatever the HA round does.
    report = ha.HaReport()
    ha.restart_fenced(world.ctx, report)
    assert report.restarted == [] and not b.has_domain(keep.uuid)

    # An operator confirms the host is off.
    fenced = ha.fence_host(world.ctx, a_id, actor="alice")
    assert (fenced.state, fenced.fenced_by) == ("fenced", "operator")
    assert fenced.fenced_at is not None
    assert world.vm(plain.id).state == "stopped"  # it runs nowhere, and is not ha
    assert world.vm(idle.id).state == "stopped"  # ha, but it did not run
    assert "fenced" in (world.vm(plain.id).last_error or "")

    report = ha.HaReport()
    ha.restart_fenced(world.ctx, report)
    assert report.restarted == ["keep"]
    moved = world.vm(keep.id)
    assert (moved.host_id, moved.state) == (b_id, "running")
    assert b.state_of(keep.uuid) == "running"
    # Defined from its record: the same UUID, sizes and kernel arguments.
    assert "vmpool.mode=idle" in b.get_domain(keep.uuid).spec.extra_cmdline
    # The claim moved with it: b holds keep; a holds plain and idle (a stopped VM keeps
    # its claim, as in Nova, so that it can start again).
    assert world.allocated(b_id).vcpus == 1.0
    assert world.allocated(a_id).vcpus == 2.0
    assert [e["name"] for e in _events(world, "vm.ha_restarted")] == ["keep"]

    # The host comes back: the stale copy of keep goes before anything else; plain is
    # observed where it is; the host is up again.
    a.unreachable = False
    a.power_off_out_of_band(plain.uuid)  # the power cut stopped every QEMU on it
    if a.has_domain(keep.uuid):
        a.power_off_out_of_band(keep.uuid)
    report_sync = _sync(world)
    assert not a.has_domain(keep.uuid)
    assert "keep" in report_sync.vms_removed
    assert world.host(a_id).state == "up" and world.host(a_id).fenced_at is None
    assert world.vm(plain.id).host_id == a_id and world.vm(plain.id).state == "stopped"
    assert b.state_of(keep.uuid) == "running"
    assert [e["subject"] for e in _events(world, "vm.stale_copy_removed")] == [f"vm/{keep.id}"]


def test_only_an_unreachable_host_is_fenced(world: World) -> None:
    a_id, _a = world.add_host("a")
    with pytest.raises(InvalidState, match="only an unreachable host is fenced"):
        ha.fence_host(world.ctx, a_id, actor="alice")
    assert world.host(a_id).state == "up"


def test_an_ha_vm_keeps_every_disk_on_shared_storage(world: World) -> None:
    world.add_host("a")
    with pytest.raises(InvalidInput, match="cannot be ha: its boot disk is on the host's local"):
        _ha_vm(world, "local-boot", on="a", disk_gib=1, disk_storage="local")
    assert vms.list_vms(world.ctx) == []  # nothing claimed, nothing defined
    vm = _ha_vm(world, "diskless", on="a")
    with pytest.raises(InvalidInput, match="ha: its disks must be on shared storage"):
        disks.add_disk(world.ctx, vm.id, 1, storage="local")
    assert disks.list_disks(world.ctx, vm.id) == []


def test_a_restart_that_fails_leaves_nothing_and_is_tried_again(world: World) -> None:
    a_id, a = world.add_host("a")
    b_id, b = world.add_host("b")
    vm = _ha_vm(world, "retry", on="a")
    a.unreachable = True
    _sync(world)
    ha.fence_host(world.ctx, a_id, actor="alice")

    b.fail_next("start", HypervisorOperationInvalid("lock manager: resource busy", uri=b.uri))
    report = ha.HaReport()
    ha.restart_fenced(world.ctx, report)
    assert report.not_restarted == ["retry"]
    back = world.vm(vm.id)
    assert (back.host_id, back.state) == (a_id, "unknown")
    assert "resource busy" in (back.last_error or "")
    assert not b.has_domain(vm.uuid)  # undefined again
    assert world.allocated(b_id) == NOTHING

    report = ha.HaReport()
    ha.restart_fenced(world.ctx, report)  # the next round
    assert report.restarted == ["retry"]
    assert (world.vm(vm.id).host_id, world.vm(vm.id).state) == (b_id, "running")


def test_no_room_elsewhere_is_reported_once(world: World) -> None:
    a_id, a = world.add_host("a")
    world.add_host("b", cpus=1, memory_mib=64)
    cmd = vms.CreateVm(name="big", vcpus=4, memory_mib=2048, ha=True, hosts=frozenset({"a"}))
    vm = vms.create_vm(world.ctx, cmd)
    a.unreachable = True
    _sync(world)
    ha.fence_host(world.ctx, a_id, actor="alice")
    for _ in range(3):
        report = ha.HaReport()
        ha.restart_fenced(world.ctx, report)
        assert report.not_restarted == ["big"]
    after = world.vm(vm.id)
    assert (after.host_id, after.state) == (a_id, "unknown")
    assert "not restarted after a was fenced" in (after.last_error or "")
    assert len(_events(world, "vm.ha_blocked")) == 1


def _script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_a_fence_command_fences_a_silent_host_and_its_outcome_is_recorded(
    world: World, tmp_path: Path
) -> None:
    a_id, a = world.add_host("a")
    b_id, b = world.add_host("b")
    vm = _ha_vm(world, "saved", on="a")
    seen = tmp_path / "fenced-host"
    ok = _script(tmp_path, "pdu-off", f'echo "$VMPOOL_HOST_NAME" > {seen}\necho "outlet 3 off"\n')
    hosts.update_host(world.ctx, a_id, {"fence_command": [ok, "--outlet", "3"]}, "alice")
    assert world.host(a_id).fence_command == [ok, "--outlet", "3"]
    ctx = replace(world.ctx, fence_after_s=0.0)

    a.unreachable = True
    _sync(world)
    report = ha.HaReport()
    ha.run_fence_commands(ctx, report)
    ha.restart_fenced(ctx, report)
    assert report.fenced == ["a"] and report.restarted == ["saved"]
    assert seen.read_text().strip() == "a"  # run with the host's name in its environment
    assert world.host(a_id).fenced_by == "command"
    [done] = _events(world, "host.fence_command")
    assert "exit 0" in str(done["detail"]) and "outlet 3 off" in str(done["detail"])
    assert world.vm(vm.id).host_id == b_id and b.state_of(vm.uuid) == "running"


def test_a_failed_fence_command_fences_nothing(world: World, tmp_path: Path) -> None:
    a_id, a = world.add_host("a")
    _b_id, b = world.add_host("b")
    vm = _ha_vm(world, "waits", on="a")
    bad = _script(tmp_path, "ipmi-off", "echo 'BMC does not answer' >&2\nexit 1\n")
    hosts.update_host(world.ctx, a_id, {"fence_command": [bad]}, "alice")
    ctx = replace(world.ctx, fence_after_s=0.0)
    a.unreachable = True
    _sync(world)
    report = ha.HaReport()
    ha.run_fence_commands(ctx, report)
    ha.restart_fenced(ctx, report)
    assert report.fence_failed == ["a"] and report.restarted == []
    host = world.host(a_id)
    assert host.state == "unreachable" and host.fenced_at is None
    assert "BMC does not answer" in (host.last_error or "")
    assert world.vm(vm.id).state == "unknown" and not b.has_domain(vm.uuid)
    [failed] = _events(world, "host.fence_failed")
    assert "exit 1" in str(failed["detail"])


@pytest.mark.parametrize(
    "command",
    [["relative/path"], ["/bin/true", ""], ["/bin/true"] * 33, ["/bin/true", "x" * 1025]],
)
def test_a_fence_command_is_checked(world: World, command: list[str]) -> None:
    a_id, _a = world.add_host("a")
    with pytest.raises(InvalidInput):
        hosts.update_host(world.ctx, a_id, {"fence_command": command}, "alice")
    assert world.host(a_id).fence_command is None


def test_the_fence_route_is_for_admins_and_refuses_a_host_that_answers(world: World) -> None:
    a_id, _a = world.add_host("a")
    app = create_app(world.ctx)
    admin = create_token(world.ctx, Role.ADMIN, "ops")
    member = create_token(world.ctx, Role.MEMBER, "dev", project_id=1)
    with TestClient(app) as c:
        r = c.post(f"/v1/hosts/{a_id}/fence", headers={"Authorization": f"Bearer {member}"})
        assert r.status_code == 403
        r = c.post(f"/v1/hosts/{a_id}/fence", headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 409 and "only an unreachable host" in r.json()["error"]["message"]
        r = c.post("/v1/hosts/999/fence", headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 404
        r = c.patch(
            f"/v1/hosts/{a_id}",
            json={"fence_command": ["no-slash"]},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert r.status_code == 422
    assert world.host(a_id).fence_command is None
