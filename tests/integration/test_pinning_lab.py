"""Dedicated CPUs on a real lab host (issue 16, docs/hardware-cpus.md). This machine has 2
CPUs: the host is split dedicated "1", shared "0". One dedicated tiny guest (1 vCPU, 128 MiB,
TCG) boots; libvirt's vcpuPinInfo/emulatorPinInfo and the kernel's affinity of the QEMU
threads (/proc/<pid>/task/*/status Cpus_allowed_list) show the vCPU on CPU 1 and the rest on
CPU 0, as recorded; a second dedicated VM is refused with the filter's reason (its live
migration: test_pinmigrate_lab.py). Huge pages: with nr_hugepages set (the lab hosts share
this kernel), the host's libvirt reports them per NUMA cell and the `hugepages` trait follows;
a guest on them is not booted (the lab has no hugetlbfs mount)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.integration.conftest import Vmpool
from tests.integration.test_migration_lab import serial_of, wait_for_line
from vmpool.lab.hosts import LabHost
from vmpool.lab.hugepages import lab_hugepages
from vmpool.lab.image import GuestImage

pytestmark = pytest.mark.lab


def qemu_pid(vm_uuid: str) -> int:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"qemu-system" in cmdline and vm_uuid.encode() in cmdline:
            return int(entry.name)
    raise AssertionError(f"no QEMU process for {vm_uuid}")


def thread_affinity(pid: int) -> dict[str, str]:
    """Thread name -> Cpus_allowed_list, for every thread of the process."""
    out: dict[str, str] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            status = (task / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Cpus_allowed_list:"):
                out[f"{name}#{task.name}"] = line.split(":", 1)[1].strip()
    return out


def test_dedicated_vm_is_pinned_and_its_cpu_is_not_given_twice(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = vmpool_sqlite
    assert os.cpu_count() == 2, "the split below is for this 2-CPU machine"
    with lab_hugepages(32) as pages:  # 64 MiB, given back at the end
        host = vp.register(lab[0])
        view = vp.client.get(f"/v1/hosts/{host['id']}").json()
        reported = sum(
            h["total"] for c in view["numa_cells"] for h in c["hugepages"] if h["size_kib"] == 2048
        )
        print(f"nr_hugepages={pages}: libvirt on {lab[0].name} reports {reported} 2M pages "
              f"in {len(view['numa_cells'])} cell(s)")  # fmt: skip
        assert reported == pages > 0 and "hugepages" in view["traits"]
    r = vp.client.patch(
        f"/v1/hosts/{host['id']}", json={"cpu_dedicated_set": "1", "cpu_shared_set": "0"}
    )
    assert r.status_code == 200, r.text
    r = vp.client.post("/v1/vms", json={
        "name": "pinned", "vcpus": 1, "memory_mib": 128, "image": tiny_image.name,
        "hosts": [lab[0].name], "cpu_policy": "dedicated"})  # fmt: skip
    assert r.status_code == 201, r.text
    vm: dict[str, Any] = r.json()
    wait_for_line(serial_of(vp, vm), "VMPOOL-GUEST-READY")

    conn = libvirt.open(lab[0].uri)
    try:
        dom = conn.lookupByUUIDString(vm["uuid"])
        assert dom.vcpuPinInfo(0) == [(False, True)]  # vCPU 0 -> host CPU 1 only
        assert tuple(dom.emulatorPinInfo(0)) == (True, False)  # emulator -> CPU 0
        xml = dom.XMLDesc(0)
    finally:
        conn.close()
    assert "<vcpupin vcpu='0' cpuset='1'/>" in xml and "<emulatorpin cpuset='0'/>" in xml
    threads = thread_affinity(qemu_pid(vm["uuid"]))
    vcpu_threads = {k: v for k, v in threads.items() if k.startswith("CPU 0/")}
    print(f"QEMU threads and their CPUs: {threads}")
    assert vcpu_threads and set(vcpu_threads.values()) == {"1"}
    assert {v for k, v in threads.items() if k not in vcpu_threads} == {"0"}
    assert vp.client.get(f"/v1/hosts/{host['id']}").json()["pinned_cpus"] == [1]

    t0 = time.monotonic()
    second = vp.client.post("/v1/vms", json={
        "name": "second", "vcpus": 1, "memory_mib": 128, "image": tiny_image.name,
        "hosts": [lab[0].name], "cpu_policy": "dedicated"})  # fmt: skip
    assert second.status_code == 409, second.text
    assert "1 dedicated CPUs needed, 0 of 1 free" in second.text
    print(f"second dedicated VM refused in {time.monotonic() - t0:.2f} s: {second.json()}")
    assert vp.client.delete(f"/v1/vms/{vm['id']}").status_code in (200, 202, 204)
    assert vp.client.get(f"/v1/hosts/{host['id']}").json()["pinned_cpus"] == []
