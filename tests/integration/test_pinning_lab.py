"""Dedicated CPUs and huge pages on a real lab host (issue 16, docs/hardware.md). This
machine has 2 CPUs: the host is split dedicated "1", shared "0". One dedicated tiny guest
(1 vCPU, 128 MiB, TCG) backed by 2M huge pages boots (the lab hosts mount hugetlbfs in their
mount namespaces); libvirt's vcpuPinInfo/emulatorPinInfo and the kernel's affinity of the QEMU
threads (/proc/<pid>/task/*/status Cpus_allowed_list) show the vCPU on CPU 1 and the rest on
CPU 0, as recorded; its memory is a mapping of the host's hugetlbfs and HugePages_Free drops
by its 64 pages while it runs, back after delete; the host view shows the claim and leaves
the pages out of the ordinary memory; a second dedicated VM is refused (dedicated_cpus), a
huge-page VM needing more pages than are left too (hugepages). Its live migration:
test_pinmigrate_lab.py."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import libvirt
import pytest

from tests.integration.conftest import Vmpool
from tests.integration.test_migration_lab import serial_of, wait_for_line
from vmpool.lab.hosts import LabHost
from vmpool.lab.hugepages import lab_hugepages, meminfo_hugepages
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


def hugetlbfs_mappings(pid: int) -> list[str]:
    """The QEMU process's mappings of files on hugetlbfs (its guest memory when backed by huge
    pages: QEMU maps an unlinked file made in the host's hugetlbfs mount)."""
    return [
        line for line in Path(f"/proc/{pid}/maps").read_text().splitlines()
        if "/hugepages/" in line and "libvirt/qemu" in line
    ]  # fmt: skip


def available_pages() -> int:
    """Huge pages nobody holds or has reserved (HugePages_Free counts reserved ones as free)."""
    info = meminfo_hugepages()
    return info["HugePages_Free"] - info["HugePages_Rsvd"]


def test_dedicated_vm_on_huge_pages_is_pinned_and_nothing_is_given_twice(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = vmpool_sqlite
    assert os.cpu_count() == 2, "the split below is for this 2-CPU machine"
    with lab_hugepages(96) as pages:  # 192 MiB, given back at the end
        assert pages == 96, f"the kernel gave {pages} huge pages of 96"
        _pinned_on_huge_pages(vp, lab[0], tiny_image)


def _pinned_on_huge_pages(vp: Vmpool, lab_host: LabHost, tiny_image: GuestImage) -> None:
    host = vp.register(lab_host)
    view = vp.client.get(f"/v1/hosts/{host['id']}").json()
    reported = sum(
        h["total"] for c in view["numa_cells"] for h in c["hugepages"] if h["size_kib"] == 2048
    )
    print(f"nr_hugepages=96: libvirt on {lab_host.name} reports {reported} 2M pages "
          f"in {len(view['numa_cells'])} cell(s)")  # fmt: skip
    assert reported == 96 and "hugepages" in view["traits"]
    assert view["hugepages"] == [{"size_kib": 2048, "total": 96, "claimed": 0, "available": 96}]
    r = vp.client.patch(
        f"/v1/hosts/{host['id']}", json={"cpu_dedicated_set": "1", "cpu_shared_set": "0"}
    )
    assert r.status_code == 200, r.text
    free_before, available_before = meminfo_hugepages()["HugePages_Free"], available_pages()
    t0 = time.monotonic()
    r = vp.client.post("/v1/vms", json={
        "name": "pinned", "vcpus": 1, "memory_mib": 128, "image": tiny_image.name,
        "hosts": [lab_host.name], "cpu_policy": "dedicated", "hugepages": "2M"})  # fmt: skip
    assert r.status_code == 201, r.text
    vm: dict[str, Any] = r.json()
    log = serial_of(vp, vm)
    wait_for_line(log, "VMPOOL-GUEST-READY")
    boot_s = time.monotonic() - t0
    wait_for_line(log, "VMPOOL-SIZE", 10)
    size = re.search(r"VMPOOL-SIZE cpus=1 online=\S+ mem_kib=(\d+)", log.read_text())
    assert size is not None and 64 * 1024 < int(size.group(1)) <= 128 * 1024, size
    free_running, available_running = meminfo_hugepages()["HugePages_Free"], available_pages()
    print(f"huge-page guest ready {boot_s:.1f} s after POST (MemTotal {size.group(1)} KiB); "
          f"HugePages_Free {free_before} "
          f"-> {free_running}, unreserved {available_before} -> {available_running}")  # fmt: skip
    assert available_before - available_running == 64  # 128 MiB of 2 MiB pages

    conn = libvirt.open(lab_host.uri)
    try:
        dom = conn.lookupByUUIDString(vm["uuid"])
        assert dom.vcpuPinInfo(0) == [(False, True)]  # vCPU 0 -> host CPU 1 only
        assert tuple(dom.emulatorPinInfo(0)) == (True, False)  # emulator -> CPU 0
        xml = dom.XMLDesc(0)
    finally:
        conn.close()
    assert "<vcpupin vcpu='0' cpuset='1'/>" in xml and "<emulatorpin cpuset='0'/>" in xml
    assert "<page size='2048' unit='KiB'" in xml
    pid = qemu_pid(vm["uuid"])
    maps = hugetlbfs_mappings(pid)
    print(f"QEMU's hugetlbfs mappings: {maps}")
    assert maps and any(f"{lab_host.name}/hugepages/2M/" in m for m in maps)
    threads = thread_affinity(pid)
    vcpu_threads = {k: v for k, v in threads.items() if k.startswith("CPU 0/")}
    print(f"QEMU threads and their CPUs: {threads}")
    assert vcpu_threads and set(vcpu_threads.values()) == {"1"}
    # QEMU 7.2's thread context for preallocating the huge pages ("TC tc-pc.ram", idle once
    # the memory is allocated) gets the CPUs of the memory's NUMA node from libvirt, not the
    # emulator's: here node 0's "0-1"
    contexts = {k: v for k, v in threads.items() if k.startswith("TC ")}
    assert set(contexts.values()) <= {"0-1"}
    assert {v for k, v in threads.items() if k not in vcpu_threads | contexts} == {"0"}
    view = vp.client.get(f"/v1/hosts/{host['id']}").json()
    assert view["pinned_cpus"] == [1]
    # the claim: 64 pages on cell 0 (the cell of its pinned CPU), none of the ordinary memory
    assert view["hugepages"] == [{"size_kib": 2048, "total": 96, "claimed": 64, "available": 32}]
    assert view["numa_cells"][0]["hugepages"][0]["claimed"] == 64
    assert view["allocated"]["memory_mib"] == 0

    t0 = time.monotonic()
    second = vp.client.post("/v1/vms", json={
        "name": "second", "vcpus": 1, "memory_mib": 128, "image": tiny_image.name,
        "hosts": [lab_host.name], "cpu_policy": "dedicated"})  # fmt: skip
    assert second.status_code == 409, second.text
    assert "1 dedicated CPUs needed, 0 of 1 free" in second.text
    print(f"second dedicated VM refused in {time.monotonic() - t0:.2f} s: {second.json()}")
    more = vp.client.post("/v1/vms", json={
        "name": "more-pages", "vcpus": 1, "memory_mib": 128, "image": tiny_image.name,
        "hosts": [lab_host.name], "hugepages": "2M"})  # fmt: skip
    assert more.status_code == 409, more.text
    assert "128 MiB of 2M huge pages needed, 64 MiB free" in more.text
    print(f"huge-page VM beyond the free pages refused: {more.json()}")
    assert vp.client.delete(f"/v1/vms/{vm['id']}").status_code in (200, 202, 204)
    view = vp.client.get(f"/v1/hosts/{host['id']}").json()
    assert view["pinned_cpus"] == []
    assert view["hugepages"] == [{"size_kib": 2048, "total": 96, "claimed": 0, "available": 96}]
    deadline = time.monotonic() + 10  # the pages go back when the QEMU process has exited
    while available_pages() != available_before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert available_pages() == available_before
    assert meminfo_hugepages()["HugePages_Free"] == free_before
