"""A lab host loses its power (every process of it SIGKILLed: libvirtd, QEMU, virtlockd):
once an operator confirms the fence, its `ha` VM starts on another host from its record,
its other VM is stopped; when the host boots again, a manual start of its stale copy is
refused by the lock manager, and vmpool removes that copy before anything else. Each VM
then runs on exactly one host (issue 13)."""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

import libvirt
import pytest

from tests.integration.conftest import (
    TEST_LAB_BASE_PORT,
    TEST_LAB_DIR,
    TEST_LAB_HOSTS,
    Vmpool,
    where,
)
from vmpool.lab.hosts import LOCKSPACE, LabHost, lab_power_off, lab_up
from vmpool.lab.image import GuestImage
from vmpool.services import ha, sync

pytestmark = pytest.mark.lab


def _lease_held(lockspace: Path, disk: str) -> bool:
    """Whether virtlockd holds the lease of `disk` (its file in the lockspace is named by
    the SHA-256 of the disk's path and locked while a QEMU uses the disk)."""
    lease = lockspace / hashlib.sha256(disk.encode()).hexdigest()
    if not lease.exists():
        return False
    fd = os.open(lease, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _sync(vp: Vmpool) -> sync.SyncReport:
    return sync.sync_all(vp.ctx, base_interval_s=0.0, max_backoff_s=0.0)


def test_a_failed_host_is_fenced_its_ha_vm_runs_elsewhere_and_never_twice(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = vmpool_sqlite
    shared = str(Path(lab[0].shared_dir) / "disks")
    ids = {}
    for h in lab:
        ids[h.name] = vp.register(h)["id"]
        r = vp.client.patch(f"/v1/hosts/{ids[h.name]}", json={"shared_disk_path": shared})
        assert r.status_code == 200, r.text
    victim = lab[2]
    r = vp.client.post("/v1/vms", json={
        "name": "keeper", "vcpus": 1, "memory_mib": 128, "image": tiny_image.name,
        "disk_gib": 1, "disk_storage": "shared", "ha": True, "hosts": [victim.name]})  # fmt: skip
    assert r.status_code == 201, r.text
    keeper = r.json()
    assert keeper["ha"] is True and keeper["disk_path"].startswith(shared + "/")
    r = vp.client.post("/v1/vms", json={
        "name": "plain", "vcpus": 1, "memory_mib": 128, "image": tiny_image.name,
        "hosts": [victim.name]})  # fmt: skip
    assert r.status_code == 201, r.text
    plain = r.json()

    # A power cut: libvirtd, both QEMU processes and the host's virtlockd die at once.
    assert lab_power_off(victim.name, TEST_LAB_DIR)
    _sync(vp)
    down = vp.client.get(f"/v1/hosts/{ids[victim.name]}").json()
    assert down["state"] == "unreachable"
    for vm in (keeper, plain):
        assert vp.client.get(f"/v1/vms/{vm['id']}").json()["state"] == "unknown"

    # Nothing is restarted before the fence.
    report = ha.HaReport()
    ha.restart_fenced(vp.ctx, report)
    assert report.restarted == []
    assert where(lab[:2], keeper["uuid"]) == ([], [])

    r = vp.client.post(f"/v1/hosts/{ids[victim.name]}/fence")
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["fenced_by"]) == ("fenced", "operator")
    report = ha.HaReport()
    ha.restart_fenced(vp.ctx, report)
    assert report.restarted == ["keeper"], report
    moved = vp.client.get(f"/v1/vms/{keeper['id']}").json()
    assert moved["state"] == "running" and moved["host_name"] in (lab[0].name, lab[1].name)
    running, defined = where(lab[:2], keeper["uuid"])
    assert running == [moved["host_name"]] and defined == [moved["host_name"]]
    assert vp.client.get(f"/v1/vms/{plain['id']}").json()["state"] == "stopped"

    # The disk's lease is held by the new host's virtlockd, in the lockspace on the shared
    # folder (a lease is a file named after the disk's path, locked while a QEMU uses it).
    assert _lease_held(Path(lab[0].shared_dir) / LOCKSPACE, keeper["disk_path"])

    # The host boots again, with its stale definition of keeper. Started by hand (vmpool
    # has not looked yet), the copy is refused: the disk is locked by the QEMU that runs it
    # elsewhere. (In the lab all hosts share one kernel, so QEMU's own image lock refuses
    # before libvirt asks virtlockd, which it does when it resumes the CPUs; on separate
    # machines the lease refuses it: "resource busy".)
    lab_up(TEST_LAB_HOSTS, TEST_LAB_DIR, TEST_LAB_BASE_PORT)
    conn = libvirt.open(victim.uri)
    try:
        stale = conn.lookupByUUIDString(keeper["uuid"])
        assert not stale.isActive()
        with pytest.raises(libvirt.libvirtError) as refused:
            stale.create()
        message = str(refused.value)
        assert 'Failed to get "write" lock' in message or "resource busy" in message, message
        assert not stale.isActive()
    finally:
        conn.close()
    assert _lease_held(Path(lab[0].shared_dir) / LOCKSPACE, keeper["disk_path"])

    # vmpool's first look at the returned host removes the stale copy, then the host is up.
    report_sync = _sync(vp)
    assert "keeper" in report_sync.vms_removed
    back = vp.client.get(f"/v1/hosts/{ids[victim.name]}").json()
    assert back["state"] == "up" and back["fenced_at"] is None
    running, defined = where(lab, keeper["uuid"])
    assert running == [moved["host_name"]] and defined == [moved["host_name"]]
    running, defined = where(lab, plain["uuid"])
    assert running == [] and defined == [victim.name]  # still its own, stopped
    assert vp.client.get(f"/v1/vms/{plain['id']}").json()["state"] == "stopped"
    kinds = [e["kind"] for e in vp.client.get("/v1/events?limit=200").json()["items"]]
    for kind in ("host.fenced", "vm.ha_restart", "vm.ha_restarted", "vm.stale_copy_removed"):
        assert kind in kinds
