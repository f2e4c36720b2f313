"""Live migration through the API between real lab hosts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.integration.conftest import Vmpool
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage, parse_serial_log

pytestmark = pytest.mark.lab

FINAL = {"completed", "failed", "cancelled"}


def wait_migration(vp: Vmpool, mid: int, seconds: float = 180) -> dict[str, Any]:
    """Poll until the migration ends (a bound on waiting, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        m: dict[str, Any] = vp.client.get(f"/v1/migrations/{mid}").json()
        if m["state"] in FINAL:
            return m
        time.sleep(0.3)
    raise AssertionError(f"migration {mid} did not end: {m}")


def wait_for_line(log: Path, text: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        time.sleep(0.3)
    raise AssertionError(f"{text!r} never appeared in {log}")


def where(lab: list[LabHost], vm_uuid: str) -> tuple[list[str], list[str]]:
    """(hosts where the domain runs, hosts where it is persistently defined)."""
    running, defined = [], []
    for h in lab:
        conn = libvirt.open(h.uri)
        try:
            dom = conn.lookupByUUIDString(vm_uuid)
            if dom.isActive():
                running.append(h.name)
            if dom.isPersistent():
                defined.append(h.name)
        except libvirt.libvirtError:
            pass
        finally:
            conn.close()
    return running, defined


def dirty_guest(
    vp: Vmpool, name: str, image: GuestImage, mib: int = 256, dirty: int = 64
) -> dict[str, Any]:
    r = vp.client.post(
        "/v1/vms",
        json={"name": name, "vcpus": 1, "memory_mib": mib, "image": image.name,
              "kernel_args": [f"vmpool.dirty_mib={dirty}"]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    vm: dict[str, Any] = r.json()
    return vm


def serial_of(vp: Vmpool, vm: dict[str, Any]) -> Path:
    return Path(vp.runtime.settings.effective_serial_log_dir) / f"{vm['name']}-{vm['uuid']}.log"


def test_migrate_there_and_back_while_dirtying_memory(
    vmpool: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = vmpool
    a, b = vp.register(lab[0]), vp.register(lab[1])
    vm = dirty_guest(vp, "mover", tiny_image)
    log = serial_of(vp, vm)
    wait_for_line(log, "VMPOOL-DIRTYING")
    start_host = vm["host_id"]
    other = b if start_host == a["id"] else a
    for target in (other, a if other is b else b):
        r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={"target_host_id": target["id"]})
        assert r.status_code == 202, r.text
        assert r.json()["state"] in ("queued", "preparing", "running")
        m = wait_migration(vp, r.json()["id"])
        assert m["state"] == "completed", m
        assert m["target_host"] == target["name"]
        assert m["total_time_ms"] > 0 and m["downtime_ms"] is not None
        assert m["data_total"] and m["data_total"] > 0
        running, defined = where(lab, vm["uuid"])
        assert running == [target["name"]] and defined == [target["name"]]
        got = vp.client.get(f"/v1/vms/{vm['id']}").json()
        assert got["host_id"] == target["id"] and got["state"] == "running"
    # The guest kept running: one boot, and its heartbeat went on after the moves.
    before = parse_serial_log(log.read_text(errors="replace"))
    time.sleep(2.5)
    after = parse_serial_log(log.read_text(errors="replace"))
    assert after.ready_count == 1
    assert after.last_heartbeat > before.last_heartbeat
    # Capacity: claimed once, on the host it runs on.
    hosts = {h["id"]: h for h in vp.client.get("/v1/hosts").json()["items"]}
    assert hosts[start_host]["allocated"]["memory_mib"] == 256
    assert sum(h["allocated"]["memory_mib"] for h in hosts.values()) == 256


def test_auto_target_goes_where_placement_prefers(
    vmpool_sqlite: Vmpool, lab: list[LabHost]
) -> None:
    vp = vmpool_sqlite
    a = vp.register(lab[0])
    vp.register(lab[1])
    c = vp.register(lab[2])
    vms = []
    for i in range(3):
        r = vp.client.post("/v1/vms", json={"name": f"full-{i}", "vcpus": 1, "memory_mib": 64,
                                            "hosts": [lab[0].name]})  # fmt: skip
        vms.append(r.json())
    # lab2 gets some load, lab3 stays empty: spread prefers lab3.
    vp.client.post(
        "/v1/vms", json={"name": "b-load", "vcpus": 2, "memory_mib": 64, "hosts": [lab[1].name]}
    )
    r = vp.client.post(f"/v1/vms/{vms[0]['id']}/migrate", json={})
    assert r.status_code == 202, r.text
    assert r.json()["target_host_id"] == c["id"]
    m = wait_migration(vp, r.json()["id"])
    assert m["state"] == "completed", m
    assert m["source_host_id"] == a["id"]


def test_bad_migration_requests_start_nothing(vmpool_sqlite: Vmpool, lab: list[LabHost]) -> None:
    vp = vmpool_sqlite
    a = vp.register(lab[0])
    b = vp.register(lab[1])
    vm = vp.client.post("/v1/vms", json={"name": "stay", "vcpus": 1, "memory_mib": 64,
                                         "hosts": [lab[0].name]}).json()  # fmt: skip
    cases = [
        ({"target_host_id": a["id"]}, 422),  # to itself
        ({"target_host_id": 999}, 422),  # unknown host
        ({"bandwidth_mib_s": -5}, 422),
        ({"max_downtime_ms": 0}, 422),
        ({"storage": "teleport"}, 422),
        ({"surprise": 1}, 422),
    ]
    for body, code in cases:
        r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json=body)
        assert r.status_code == code, (body, r.text)
    with vp.ctx.uow() as uow:
        uow.hosts.get(b["id"]).state = "maintenance"
        uow.commit()
    r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={"target_host_id": b["id"]})
    assert r.status_code == 409 and "in maintenance" in r.json()["error"]["message"]
    with vp.ctx.uow() as uow:
        row = uow.hosts.get(b["id"])
        row.state, row.uri = "unreachable", "qemu+tcp://127.0.0.1:9/system"
        uow.commit()
    r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={"target_host_id": b["id"]})
    assert r.status_code == 409 and "unreachable" in r.json()["error"]["message"]
    vp.client.post(f"/v1/vms/{vm['id']}/stop")
    r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={})
    assert r.status_code == 409 and "only a running VM" in r.json()["error"]["message"]
    assert vp.client.post("/v1/vms/999/migrate", json={}).status_code == 404
    assert vp.client.get("/v1/migrations").json()["items"] == []
    hosts = vp.client.get("/v1/hosts").json()["items"]
    assert sum(h["allocated"]["vcpus"] for h in hosts) == 1.0
