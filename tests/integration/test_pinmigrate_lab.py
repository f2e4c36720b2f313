"""A dedicated VM live-migrated between two real lab hosts (issue 16,
docs/hardware.md). This machine has 2 CPUs: lab1 is split dedicated "1", shared
"0", lab2 the other way round (dedicated "0", shared "1"), so that the target's pins differ
from the source's and only a definition rewritten for the target can pass. One dedicated tiny
guest (1 vCPU, 128 MiB, TCG) boots on lab1 and moves to lab2: the target's CPU is recorded
before the move, libvirt's vcpuPinInfo/emulatorPinInfo on lab2 and the QEMU threads' kernel
affinity show lab2's recorded CPUs, in the live and the persistent definition; the source's
pin rows are gone; the guest's heartbeat goes on."""

from __future__ import annotations

import os
import time
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
from tests.integration.test_pinning_lab import qemu_pid, thread_affinity
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage, parse_serial_log

pytestmark = pytest.mark.lab


def _split(vp: Vmpool, host: dict[str, Any], dedicated: str, shared: str) -> None:
    r = vp.client.patch(
        f"/v1/hosts/{host['id']}", json={"cpu_dedicated_set": dedicated, "cpu_shared_set": shared}
    )
    assert r.status_code == 200, r.text


def _one_qemu(uuid: str, seconds: float = 20) -> int:
    """The QEMU of `uuid` once the source's has exited (a bound, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while True:
        pid = qemu_pid(uuid)
        time.sleep(0.5)
        if qemu_pid(uuid) == pid or time.monotonic() > deadline:
            return pid


def test_dedicated_vm_moves_with_the_target_cpus(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = vmpool_sqlite
    assert os.cpu_count() == 2, "the splits below are for this 2-CPU machine"
    a, b = vp.register(lab[0]), vp.register(lab[1])
    _split(vp, a, "1", "0")
    _split(vp, b, "0", "1")
    r = vp.client.post("/v1/vms", json={
        "name": "pinned-mover", "vcpus": 1, "memory_mib": 128, "image": tiny_image.name,
        "hosts": [lab[0].name], "cpu_policy": "dedicated"})  # fmt: skip
    assert r.status_code == 201, r.text
    vm: dict[str, Any] = r.json()
    log = serial_of(vp, vm)
    wait_for_line(log, "VMPOOL-GUEST-READY")
    assert vp.client.get(f"/v1/hosts/{a['id']}").json()["pinned_cpus"] == [1]

    t0 = time.monotonic()
    move = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={"target_host_id": b["id"]})
    assert move.status_code == 202, move.text
    # Recorded with the migration, before it moves: the target's CPU 0 is this VM's.
    assert vp.client.get(f"/v1/hosts/{b['id']}").json()["pinned_cpus"] == [0]
    m = wait_migration(vp, move.json()["id"])
    took = time.monotonic() - t0
    assert m["state"] == "completed", m["error"]
    print(f"dedicated VM migrated {lab[0].name} -> {lab[1].name}: request to completed "
          f"{took:.2f} s, libvirt total_time_ms={m['total_time_ms']}, "
          f"downtime_ms={m['downtime_ms']}")  # fmt: skip
    running, defined = where(lab, vm["uuid"])
    assert running == [lab[1].name] and defined == [lab[1].name]

    conn = libvirt.open(lab[1].uri)
    try:
        dom = conn.lookupByUUIDString(vm["uuid"])
        assert dom.vcpuPinInfo(0) == [(True, False)]  # vCPU 0 -> lab2's CPU 0 only
        assert tuple(dom.emulatorPinInfo(0)) == (False, True)  # emulator -> lab2's shared 1
        persistent = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    finally:
        conn.close()
    # The persistent definition too (PERSIST_XML): a restart there keeps the target's pins.
    assert "<vcpupin vcpu='0' cpuset='0'/>" in persistent
    assert "<emulatorpin cpuset='1'/>" in persistent
    threads = thread_affinity(_one_qemu(vm["uuid"]))
    print(f"QEMU threads on {lab[1].name} and their CPUs: {threads}")
    vcpu_threads = {k: v for k, v in threads.items() if k.startswith("CPU 0/")}
    assert vcpu_threads and set(vcpu_threads.values()) == {"0"}
    assert {v for k, v in threads.items() if k not in vcpu_threads} == {"1"}

    hosts = {h["id"]: h for h in vp.client.get("/v1/hosts").json()["items"]}
    assert hosts[a["id"]]["pinned_cpus"] == [] and hosts[b["id"]]["pinned_cpus"] == [0]
    # The guest kept running: one boot, its heartbeat goes on after the move.
    before = parse_serial_log(log.read_text(errors="replace"))
    after = wait_heartbeat_past(log, before.last_heartbeat or 0, seconds=20)
    assert not after.kernel_crashed and after.ready_count == 1
    assert vp.client.delete(f"/v1/vms/{vm['id']}").status_code in (200, 202, 204)
    assert vp.client.get(f"/v1/hosts/{b['id']}").json()["pinned_cpus"] == []
