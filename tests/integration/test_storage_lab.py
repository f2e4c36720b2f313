"""Disks on real lab hosts (issue 10): images uploaded through the API land on every host as
libvirt volumes and become overlays; a data disk hot-plugged into a running tiny guest holds
the pattern the guest wrote, across live migrations (copied, and shared), and grows online.

The guest proves the data: it writes "VMPOOL-PATTERN-vdb" over the first MiB of the disk
when it appears, and every two seconds prints the disk's size and the md5 of its first MiB
read with the page cache dropped, so what the disk holds now, on whichever host it runs."""

from __future__ import annotations

import hashlib
import re
import subprocess
import time
import xml.etree.ElementTree as ET
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
from vmpool.adapters.storage.seed_iso import read_seed_iso
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage, build_tiny_disk, parse_serial_log

pytestmark = pytest.mark.lab

MIB = 2**20
SECTORS_PER_GIB = 2**30 // 512


def expected_md5(target: str) -> str:
    line = f"VMPOOL-PATTERN-{target}\n".encode()
    return hashlib.md5((line * (MIB // len(line) + 1))[:MIB]).hexdigest()


def disks_seen(log: Path) -> list[dict[str, tuple[int, str]]]:
    """Every VMPOOL-DISKS report of the guest, in order: disk -> (sectors, md5)."""
    out = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("VMPOOL-DISKS"):
            report = {}
            for item in line.split()[1:]:
                name, size, md5 = item.split(":")
                report[name] = (int(size), md5)
            out.append(report)
    return out


def wait_report(log: Path, after: int, check: Any, seconds: float = 90) -> dict[str, Any]:
    """The first report after the `after`-th one that satisfies `check` (a bound on the wait,
    not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for report in disks_seen(log)[after:]:
            if check(report):
                return report
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-1500:]
    raise AssertionError(f"no disk report as expected in {seconds} s; log ends:\n{tail}")


def volume_xml(host: LabHost, path: str) -> ET.Element | None:
    conn = libvirt.open(host.uri)
    try:
        for pool in conn.listAllStoragePools(0):
            if pool.isActive():
                pool.refresh(0)
        return ET.fromstring(conn.storageVolLookupByPath(path).XMLDesc(0))
    except libvirt.libvirtError:
        return None
    finally:
        conn.close()


def boot_guest(vp: Vmpool, name: str, image: GuestImage, host: LabHost, **extra: Any) -> Any:
    r = vp.client.post("/v1/vms", json={
        "name": name, "vcpus": 1, "memory_mib": 128, "image": image.name, "hosts": [host.name],
        "kernel_args": ["vmpool.disk_pattern=vdb"], **extra})  # fmt: skip
    assert r.status_code == 201, r.text
    vm = r.json()
    wait_for_line(serial_of(vp, vm), "VMPOOL-GUEST-READY")
    return vm


def test_a_data_disk_keeps_its_data_across_a_copy_migration_and_grows_online(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = vmpool_sqlite
    vp.register(lab[0])
    vp.register(lab[1])
    vm = boot_guest(vp, "data-copy", tiny_image, lab[0])
    log = serial_of(vp, vm)

    r = vp.client.post(f"/v1/vms/{vm['id']}/disks", json={"size_gib": 1})
    assert r.status_code == 201, r.text
    disk = r.json()
    assert (disk["target"], disk["state"], disk["storage"]) == ("vdb", "attached", "local")
    wait_for_line(log, "VMPOOL-DISK-WRITTEN vdb")
    want = expected_md5("vdb")
    wait_report(log, 0, lambda rep: rep.get("vdb") == (SECTORS_PER_GIB, want))

    # Grown online: the running guest sees the new size, the data stays.
    r = vp.client.patch(f"/v1/vms/{vm['id']}/disks/{disk['id']}", json={"size_gib": 2})
    assert r.status_code == 200 and r.json()["size_gib"] == 2, r.text
    wait_report(log, 0, lambda rep: rep.get("vdb") == (2 * SECTORS_PER_GIB, want))
    r = vp.client.patch(f"/v1/vms/{vm['id']}/disks/{disk['id']}", json={"size_gib": 1})
    assert r.status_code == 422 and "cannot shrink" in r.json()["error"]["message"]

    # Live migration with storage copy: the guest reads the same bytes from the target.
    seen = len(disks_seen(log))
    r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={"storage": "copy"})
    assert r.status_code == 202, r.text
    m = wait_migration(vp, r.json()["id"])
    assert m["state"] == "completed", m["error"]
    running, _ = where(lab, vm["uuid"])
    assert running == [lab[1].name]
    assert volume_xml(lab[1], disk["path"]) is not None
    assert volume_xml(lab[0], disk["path"]) is None  # the source's copy is gone
    report = wait_report(log, seen, lambda rep: "vdb" in rep)
    assert report["vdb"] == (2 * SECTORS_PER_GIB, want)

    # Detached (the guest lets it go), its volume deleted.
    r = vp.client.delete(f"/v1/vms/{vm['id']}/disks/{disk['id']}")
    assert r.status_code == 204, r.text
    seen = len(disks_seen(log))
    time.sleep(3)  # a report or two after the detach
    assert all("vdb" not in rep for rep in disks_seen(log)[seen + 1 :])
    assert volume_xml(lab[1], disk["path"]) is None
    assert vp.client.get(f"/v1/vms/{vm['id']}/disks").json()["items"] == []
    assert vp.client.delete(f"/v1/vms/{vm['id']}").status_code == 204


def test_a_shared_data_disk_moves_without_a_copy(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = vmpool_sqlite
    shared = str(Path(lab[0].shared_dir) / "disks")
    for h in lab[:2]:
        host = vp.register(h)
        r = vp.client.patch(f"/v1/hosts/{host['id']}", json={"shared_disk_path": shared})
        assert r.status_code == 200, r.text
    vm = boot_guest(vp, "data-shared", tiny_image, lab[0])
    log = serial_of(vp, vm)
    r = vp.client.post(f"/v1/vms/{vm['id']}/disks", json={"size_gib": 1, "storage": "shared"})
    assert r.status_code == 201, r.text
    disk = r.json()
    assert disk["path"].startswith(shared + "/") and Path(disk["path"]).is_file()
    want = expected_md5("vdb")
    wait_report(log, 0, lambda rep: rep.get("vdb") == (SECTORS_PER_GIB, want))

    bad = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={"storage": "copy"})
    assert bad.status_code == 409 and "storage=shared" in bad.json()["error"]["message"]
    seen = len(disks_seen(log))
    r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={})
    assert r.status_code == 202 and r.json()["storage"] == "shared", r.text
    assert wait_migration(vp, r.json()["id"])["state"] == "completed"
    assert where(lab, vm["uuid"])[0] == [lab[1].name]
    report = wait_report(log, seen, lambda rep: "vdb" in rep)
    assert report["vdb"] == (SECTORS_PER_GIB, want)
    assert vp.client.delete(f"/v1/vms/{vm['id']}").status_code == 204
    assert not Path(disk["path"]).exists()  # deleting the VM deleted its disks


def test_an_uploaded_image_becomes_overlays_that_migrate_incrementally(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tmp_path: Path
) -> None:
    vp = vmpool_sqlite
    vp.register(lab[0])
    vp.register(lab[1])
    source = tmp_path / "base.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(source), "1G"], check=True)
    data = source.read_bytes()

    def chunks() -> Any:
        for i in range(0, len(data), 65536):
            yield data[i : i + 65536]

    sha = hashlib.sha256(data).hexdigest()
    r = vp.client.post("/v1/images", params={"name": "base", "sha256": sha}, content=chunks())
    assert r.status_code == 201, r.text
    image = r.json()
    assert (image["format"], image["virtual_size_bytes"]) == ("qcow2", 2**30)
    assert image["hosts"] == sorted([lab[0].name, lab[1].name])
    # Each host's copy, in its local folder (Settings.default_local_disk_path).
    copy_path = f"/var/lib/libvirt/images/vmpool/image-{image['id']}.qcow2"
    for h in lab[:2]:
        assert volume_xml(h, copy_path) is not None, f"no copy of the image on {h.name}"
    # Bad uploads: a name that is a path, a format that is not one.
    r = vp.client.post("/v1/images", params={"name": "../etc"}, content=b"x")
    assert r.status_code == 422
    r = vp.client.post("/v1/images", params={"name": "vmdk", "format": "vmdk"}, content=b"x")
    assert r.status_code == 422

    # A VM from the image: its boot disk is an overlay whose base is the host's copy, with
    # the base's format written (never probed).
    r = vp.client.post("/v1/vms", json={"name": "from-image", "vcpus": 1, "memory_mib": 64,
                                        "image": "base", "hosts": [lab[0].name]})  # fmt: skip
    assert r.status_code == 201, r.text
    vm = r.json()
    assert vm["disk_gib"] == 1 and vm["image"] == "base"
    vol = volume_xml(lab[0], vm["disk_path"])
    assert vol is not None
    assert vol.findtext("backingStore/path") == copy_path
    assert vol.find("backingStore/format").get("type") == "qcow2"  # type: ignore[union-attr]
    assert vp.client.delete(f"/v1/images/{image['id']}").status_code == 409  # in use

    r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={})
    assert r.status_code == 202 and r.json()["storage"] == "copy", r.text
    m = wait_migration(vp, r.json()["id"])
    assert m["state"] == "completed", m["error"]
    moved = volume_xml(lab[1], vm["disk_path"])
    assert moved is not None and moved.findtext("backingStore/path") == copy_path
    assert volume_xml(lab[0], vm["disk_path"]) is None

    assert vp.client.delete(f"/v1/vms/{vm['id']}").status_code == 204
    assert vp.client.delete(f"/v1/images/{image['id']}").status_code == 204
    for h in lab[:2]:
        assert volume_xml(h, copy_path) is None
    assert re.fullmatch(r"[0-9a-f]{64}", image["sha256"])


def download(host: LabHost, path: str) -> bytes:
    """A volume's bytes, read back from the host through libvirt (virStorageVol.download)."""
    conn = libvirt.open(host.uri)
    try:
        for pool in conn.listAllStoragePools(0):
            if pool.isActive():
                pool.refresh(0)
        vol = conn.storageVolLookupByPath(path)
        stream = conn.newStream(0)
        vol.download(stream, 0, 0, 0)
        chunks: list[bytes] = []
        stream.recvAll(lambda _s, data, acc: acc.append(data), chunks)
        stream.finish()
        return b"".join(chunks)
    finally:
        conn.close()


def test_the_first_boot_seed_is_a_cidata_cdrom_that_moves_with_the_vm(
    vmpool_sqlite: Vmpool, lab: list[LabHost]
) -> None:
    vp = vmpool_sqlite
    vp.register(lab[0])
    vp.register(lab[1])
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHbq0iu7dQ me@laptop"
    r = vp.client.post("/v1/vms", json={
        "name": "cloudy", "vcpus": 1, "memory_mib": 64, "hosts": [lab[0].name],
        "user_data": "#cloud-config\nhostname: cloudy\n", "ssh_keys": [key]})  # fmt: skip
    assert r.status_code == 201, r.text
    vm = r.json()
    files = read_seed_iso(download(lab[0], vm["seed_path"]))
    assert files["user-data"] == b"#cloud-config\nhostname: cloudy\n"
    assert f'public-keys: ["{key}"]'.encode() in files["meta-data"]
    assert f'instance-id: "{vm["uuid"]}"'.encode() in files["meta-data"]
    conn = libvirt.open(lab[0].uri)
    try:
        dom_xml = ET.fromstring(conn.lookupByUUIDString(vm["uuid"]).XMLDesc(0))
    finally:
        conn.close()
    cdrom = dom_xml.find("devices/disk[@device='cdrom']")
    assert cdrom is not None and cdrom.find("source").get("file") == vm["seed_path"]  # type: ignore[union-attr]

    r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={})
    assert r.status_code == 202, r.text
    assert wait_migration(vp, r.json()["id"])["state"] == "completed"
    assert read_seed_iso(download(lab[1], vm["seed_path"])) == files
    assert volume_xml(lab[0], vm["seed_path"]) is None
    assert vp.client.delete(f"/v1/vms/{vm['id']}").status_code == 204
    assert volume_xml(lab[1], vm["seed_path"]) is None
    # Keys that are not keys: refused before anything is made.
    r = vp.client.post("/v1/vms", json={"name": "bad-key", "vcpus": 1, "memory_mib": 64,
                                        "ssh_keys": ["rm -rf /"]})  # fmt: skip
    assert r.status_code == 422 and vp.client.get("/v1/vms").json()["items"] == []


def test_a_vm_boots_from_a_catalog_image_and_keeps_running_across_a_copy_migration(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    """The tiny guest as a disk image (syslinux on FAT, `vmpool lab image`): uploaded like any
    OS image, booted by the firmware from an overlay of it, then moved with an incremental
    copy of the overlay while it runs."""
    vp = vmpool_sqlite
    vp.register(lab[0])
    vp.register(lab[1])
    disk = build_tiny_disk(tiny_image)
    r = vp.client.post("/v1/images", params={"name": "tiny-disk"}, content=disk.read_bytes())
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "qcow2"
    r = vp.client.post("/v1/vms", json={"name": "disk-booted", "vcpus": 1, "memory_mib": 128,
                                        "image": "tiny-disk", "hosts": [lab[0].name]})  # fmt: skip
    assert r.status_code == 201, r.text
    vm = r.json()
    log = serial_of(vp, vm)
    wait_for_line(log, "VMPOOL-GUEST-READY", seconds=120)  # firmware, syslinux, kernel
    r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={})
    assert r.status_code == 202 and r.json()["storage"] == "copy", r.text
    m = wait_migration(vp, r.json()["id"])
    assert m["state"] == "completed", m["error"]
    beat = parse_serial_log(log.read_text(errors="replace")).last_heartbeat or 0
    got = wait_heartbeat_past(log, beat)
    assert got.ready_count == 1 and not got.kernel_crashed  # it kept running, no reboot
    assert where(lab, vm["uuid"])[0] == [lab[1].name]
    assert vp.client.delete(f"/v1/vms/{vm['id']}").status_code == 204


def test_a_vm_with_a_local_boot_disk_and_a_shared_data_disk_moves_with_both(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    """The local disk is copied, the shared one is not (libvirt is told it is shared)."""
    vp = vmpool_sqlite
    shared = str(Path(lab[0].shared_dir) / "disks")
    for h in lab[:2]:
        host = vp.register(h)
        r = vp.client.patch(f"/v1/hosts/{host['id']}", json={"shared_disk_path": shared})
        assert r.status_code == 200, r.text
    vm = boot_guest(vp, "mixed", tiny_image, lab[0], disk_gib=1)
    log = serial_of(vp, vm)
    r = vp.client.post(f"/v1/vms/{vm['id']}/disks", json={"size_gib": 1, "storage": "shared"})
    assert r.status_code == 201, r.text
    want = expected_md5("vdb")
    wait_report(log, 0, lambda rep: rep.get("vdb") == (SECTORS_PER_GIB, want))
    seen = len(disks_seen(log))
    r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={})
    assert r.status_code == 202 and r.json()["storage"] == "copy", r.text
    m = wait_migration(vp, r.json()["id"])
    assert m["state"] == "completed", m["error"]
    report = wait_report(log, seen, lambda rep: "vdb" in rep and "vda" in rep)
    assert report["vdb"] == (SECTORS_PER_GIB, want)
    assert volume_xml(lab[1], vm["disk_path"]) is not None  # the local disk was copied
    assert volume_xml(lab[0], vm["disk_path"]) is None
    assert vp.client.delete(f"/v1/vms/{vm['id']}").status_code == 204
