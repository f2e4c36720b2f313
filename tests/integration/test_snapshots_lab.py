"""Snapshots on real lab hosts (issue 15): internal snapshots of the tiny guest's qcow2 data
disk, disk-only and with memory, reverted through the API; a VM with a snapshot migrates on
shared storage (the snapshot's record follows it) and is refused a copy migration.

The guest proves the data: with `vmpool.disk_token=vdb` each boot draws a token, prints
"VMPOOL-DISK-FOUND vdb <token>" for what the disk holds when it appears, writes its own,
and every 2 s prints "VMPOOL-DISK-TOKEN vdb <token>" read from the disk; a heartbeat
counter proves the guest resumed where it was (and "VMPOOL-GUEST-READY" counts its boots)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.integration.conftest import Vmpool, where
from tests.integration.test_migration_lab import (
    serial_of,
    wait_for_line,
    wait_heartbeat_past,
    wait_migration,
)
from tests.integration.test_storage_lab import volume_xml
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage

pytestmark = pytest.mark.lab

_FOUND = re.compile(r"VMPOOL-DISK-FOUND vdb (\S+)")
_WRITTEN = re.compile(r"VMPOOL-DISK-TOKEN-WRITTEN vdb (\S+)")
_TOKEN = re.compile(r"VMPOOL-DISK-TOKEN vdb (\S+)")
_BEAT = re.compile(r"VMPOOL-HEARTBEAT (\d+)")


def text_of(log: Path) -> str:
    return log.read_text(errors="replace") if log.exists() else ""


def wait_match(log: Path, pattern: re.Pattern[str], after: int, seconds: float = 90) -> str:
    """The first match of `pattern` past character `after` of the log (a bound on the wait)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        m = pattern.search(text_of(log), after)
        if m:
            return m.group(1)
        time.sleep(0.3)
    raise AssertionError(f"{pattern.pattern} not after {after} in {seconds} s:\n"
                         f"{text_of(log)[-1500:]}")  # fmt: skip


def beats_after(log: Path, after: int) -> list[int]:
    return [int(n) for n in _BEAT.findall(text_of(log), after)]


def boot_tiny(
    vp: Vmpool, name: str, image: GuestImage, host: LabHost, storage: str, wait: bool = True
) -> Any:
    """The tiny guest (kernel and initrd, no boot disk) with a 1 GiB qcow2 data disk vdb,
    attached once it has booted (`wait`), or at once while it boots."""
    r = vp.client.post("/v1/vms", json={
        "name": name, "vcpus": 1, "memory_mib": 128, "image": image.name, "hosts": [host.name],
        "kernel_args": ["vmpool.disk_token=vdb"]})  # fmt: skip
    assert r.status_code == 201, r.text
    vm = r.json()
    if wait:
        wait_for_line(serial_of(vp, vm), "VMPOOL-GUEST-READY")
    r = vp.client.post(f"/v1/vms/{vm['id']}/disks", json={"size_gib": 1, "storage": storage})
    assert r.status_code == 201, r.text
    vm["disk"] = r.json()
    return vm


def power(vp: Vmpool, vm: Any, action: str, state: str) -> None:
    r = vp.client.post(f"/v1/vms/{vm['id']}/{action}")
    assert r.status_code in (200, 202), r.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if vp.client.get(f"/v1/vms/{vm['id']}").json()["state"] == state:
            return
        time.sleep(0.3)
    raise AssertionError(f"VM {vm['name']} not {state} after {action}")


def snapshot_names_on(host: LabHost, vm_uuid: str) -> list[str]:
    conn = libvirt.open(host.uri)
    try:
        return list(conn.lookupByUUIDString(vm_uuid).snapshotListNames(0))
    finally:
        conn.close()


def test_disk_only_snapshot_of_a_stopped_vm_brings_its_disk_back(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = vmpool_sqlite
    vp.register(lab[0])
    vm = boot_tiny(vp, "snap-disk", tiny_image, lab[0], "local")
    log = serial_of(vp, vm)
    token_a = wait_match(log, _WRITTEN, 0)
    power(vp, vm, "stop", "stopped")

    t0 = time.monotonic()
    r = vp.client.post(f"/v1/vms/{vm['id']}/snapshots",
                       json={"name": "before-b", "description": "<a & 'b'>"})  # fmt: skip
    took_s = time.monotonic() - t0
    assert r.status_code == 201, r.text
    snap = r.json()
    assert (snap["state"], snap["with_memory"], snap["description"]) == (
        "ready",
        False,
        "<a & 'b'>",
    )
    assert snap["size_gib"] == 1  # the disk's size, no memory
    lv_names = snapshot_names_on(lab[0], vm["uuid"])
    assert len(lv_names) == 1 and lv_names[0].startswith("vmpool-snap-")
    print(f"disk-only snapshot of a stopped VM: {took_s:.2f} s")

    # Boot 2 finds A and writes B.
    mark = len(text_of(log))
    power(vp, vm, "start", "running")
    assert wait_match(log, _FOUND, mark) == token_a
    token_b = wait_match(log, _WRITTEN, mark)
    assert token_b != token_a
    power(vp, vm, "stop", "stopped")

    t0 = time.monotonic()
    r = vp.client.post(f"/v1/vms/{vm['id']}/snapshots/{snap['id']}/revert")
    took_s = time.monotonic() - t0
    assert r.status_code == 200 and r.json()["state"] == "ready", r.text
    assert vp.client.get(f"/v1/vms/{vm['id']}").json()["state"] == "stopped"
    print(f"revert of a disk-only snapshot: {took_s:.2f} s")

    # Boot 3 finds A again: the disk went back.
    mark = len(text_of(log))
    power(vp, vm, "start", "running")
    assert wait_match(log, _FOUND, mark) == token_a

    # Deleting the VM leaves no domain (so no snapshot record) and no volume.
    path = vm["disk"]["path"]  # in the host's own mount namespace: asked through libvirt
    assert volume_xml(lab[0], path) is not None
    assert vp.client.delete(f"/v1/vms/{vm['id']}").status_code == 204
    assert where(lab, vm["uuid"]) == ([], [])
    assert volume_xml(lab[0], path) is None
    assert vp.client.get(f"/v1/vms/{vm['id']}/snapshots").status_code == 404


def test_a_memory_snapshot_resumes_the_guest_where_it_was(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = vmpool_sqlite
    vp.register(lab[0])
    vm = boot_tiny(vp, "snap-mem", tiny_image, lab[0], "local")
    log = serial_of(vp, vm)
    token_a = wait_match(log, _WRITTEN, 0)

    refused = vp.client.post(f"/v1/vms/{vm['id']}/snapshots",
                             json={"name": "no-mem", "include_memory": False})  # fmt: skip
    assert refused.status_code == 409 and "include_memory" in refused.text

    # Far enough into boot 1 that its counter cannot be mistaken for boot 2's.
    wait_heartbeat_past(log, 10)
    before = beats_after(log, 0)[-1]
    t0 = time.monotonic()
    r = vp.client.post(f"/v1/vms/{vm['id']}/snapshots", json={"name": "running"})
    took_s = time.monotonic() - t0
    assert r.status_code == 201, r.text
    snap = r.json()
    assert snap["with_memory"] is True and snap["size_gib"] == 2  # 1 GiB disk + 128 MiB
    mark = len(text_of(log))
    wait_match(log, _BEAT, mark)
    after = beats_after(log, mark)[0]
    print(f"memory snapshot of a running VM (128 MiB, TCG): {took_s:.2f} s; "
          f"heartbeat {before} before, {after} after")  # fmt: skip

    # Off and on again (the tiny guest ignores an ACPI reboot): boot 2 finds A, writes B;
    # its heartbeat starts again at 1.
    mark = len(text_of(log))
    power(vp, vm, "stop", "stopped")
    power(vp, vm, "start", "running")
    assert wait_match(log, _FOUND, mark) == token_a
    token_b = wait_match(log, _WRITTEN, mark)
    assert wait_match(log, _TOKEN, mark) == token_b
    assert text_of(log).count("VMPOOL-GUEST-READY") == 2

    mark = len(text_of(log))
    t0 = time.monotonic()
    r = vp.client.post(f"/v1/vms/{vm['id']}/snapshots/{snap['id']}/revert")
    took_s = time.monotonic() - t0
    assert r.status_code == 200, r.text
    assert vp.client.get(f"/v1/vms/{vm['id']}").json()["state"] == "running"
    # Resumed, not booted: no new READY; its counter goes on from the snapshot's value and
    # the disk holds A again.
    assert wait_match(log, _TOKEN, mark) == token_a
    resumed = beats_after(log, mark)
    boot2_last = beats_after(log, 0)[: -len(resumed) or None][-1]
    assert boot2_last < before  # boot 2 had not counted that far: the value is boot 1's
    print(f"revert with memory: {took_s:.2f} s; heartbeats after it {resumed[:3]}")
    assert resumed and before < resumed[0] <= after + 1
    assert text_of(log).count("VMPOOL-GUEST-READY") == 2

    r = vp.client.delete(f"/v1/vms/{vm['id']}/snapshots/{snap['id']}")
    assert r.status_code == 204, r.text
    assert snapshot_names_on(lab[0], vm["uuid"]) == []
    assert vp.client.get(f"/v1/vms/{vm['id']}/snapshots").json()["items"] == []


def test_a_snapshot_moves_with_a_shared_storage_migration_and_refuses_a_copy(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = vmpool_sqlite
    shared = str(Path(lab[0].shared_dir) / "disks")
    for h in lab[:2]:
        host = vp.register(h)
        r = vp.client.patch(f"/v1/hosts/{host['id']}", json={"shared_disk_path": shared})
        assert r.status_code == 200, r.text

    # Copy storage: refused at request time, nothing queued (what the guest does is not
    # looked at: its snapshot is taken while it boots).
    local = boot_tiny(vp, "snap-local", tiny_image, lab[0], "local", wait=False)
    r = vp.client.post(f"/v1/vms/{local['id']}/snapshots", json={"name": "s1"})
    assert r.status_code == 201, r.text
    r = vp.client.post(f"/v1/vms/{local['id']}/migrate", json={})
    assert r.status_code == 409, r.text
    assert "internal snapshots" in r.json()["error"]["message"]
    assert vp.client.get("/v1/migrations").json()["items"] == []
    assert vp.client.delete(f"/v1/vms/{local['id']}").status_code == 204

    # Shared storage: the record is moved, the data stays in the shared volume.
    vm = boot_tiny(vp, "snap-shared", tiny_image, lab[0], "shared")
    log = serial_of(vp, vm)
    token_a = wait_match(log, _WRITTEN, 0)
    r = vp.client.post(f"/v1/vms/{vm['id']}/snapshots", json={"name": "on-shared"})
    assert r.status_code == 201, r.text
    snap = r.json()
    lv_names = snapshot_names_on(lab[0], vm["uuid"])
    assert len(lv_names) == 1

    r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={})
    assert r.status_code == 202 and r.json()["storage"] == "shared", r.text
    done = wait_migration(vp, r.json()["id"])
    assert done["state"] == "completed", done
    assert where(lab, vm["uuid"])[0] == [lab[1].name]
    assert snapshot_names_on(lab[1], vm["uuid"]) == lv_names

    # Off and on again on the target (a new token B), then revert there: A again, resumed.
    mark = len(text_of(log))
    power(vp, vm, "stop", "stopped")
    power(vp, vm, "start", "running")
    token_b = wait_match(log, _WRITTEN, mark)
    assert token_b != token_a
    ready = text_of(log).count("VMPOOL-GUEST-READY")
    mark = len(text_of(log))
    r = vp.client.post(f"/v1/vms/{vm['id']}/snapshots/{snap['id']}/revert")
    assert r.status_code == 200, r.text
    assert vp.client.get(f"/v1/vms/{vm['id']}").json()["state"] == "running"
    assert wait_match(log, _TOKEN, mark) == token_a
    assert text_of(log).count("VMPOOL-GUEST-READY") == ready  # resumed, not booted

    path = vm["disk"]["path"]
    assert vp.client.delete(f"/v1/vms/{vm['id']}").status_code == 204
    assert where(lab, vm["uuid"]) == ([], [])
    assert not Path(path).exists()
