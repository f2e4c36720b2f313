"""The API against real lab hosts: VMs are real QEMU processes, checked with libvirt itself."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import libvirt
import pytest

from tests.integration.conftest import TEST_LAB_DIR, Vmpool, domains_on, make_vmpool
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage
from vmpool.services.sync import sync_all

pytestmark = pytest.mark.lab


def _qemu_running(vm_uuid: str) -> bool:
    out = subprocess.run(["pgrep", "-f", f"qemu-system.*-uuid {vm_uuid}"], capture_output=True)
    return out.returncode == 0


def _libvirt_state(host: LabHost, vm_uuid: str) -> int:
    conn = libvirt.open(host.uri)
    try:
        return int(conn.lookupByUUIDString(vm_uuid).state()[0])
    finally:
        conn.close()


def test_register_hosts_reads_their_inventory(vmpool: Vmpool, lab: list[LabHost]) -> None:
    a = vmpool.register(lab[0])
    b = vmpool.register(lab[1])
    assert a["host_uuid"] == lab[0].host_uuid and b["host_uuid"] == lab[1].host_uuid
    assert a["state"] == "up" and a["arch"] == "x86_64"
    assert a["cpus"] >= 1 and a["memory_mib"] > 1000  # type: ignore[operator]
    assert "qemu" in a["domain_types"]  # type: ignore[operator]
    assert str(a["libvirt_version"]).startswith("9.")
    listed = vmpool.client.get("/v1/hosts").json()["items"]
    assert [h["name"] for h in listed] == [lab[0].name, lab[1].name]
    # The same host again, by URI: a conflict, nothing added.
    again = vmpool.client.post("/v1/hosts", json={"uri": lab[0].uri, "name": "other"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_exists"
    assert len(vmpool.client.get("/v1/hosts").json()["items"]) == 2


def test_vm_lifecycle_is_real(vmpool: Vmpool, lab: list[LabHost]) -> None:
    host = vmpool.register(lab[0])
    r = vmpool.client.post("/v1/vms", json={"name": "life-1", "vcpus": 1, "memory_mib": 128})
    assert r.status_code == 201, r.text
    vm = r.json()
    assert vm["state"] == "running" and vm["host_name"] == lab[0].name
    assert _libvirt_state(lab[0], vm["uuid"]) == libvirt.VIR_DOMAIN_RUNNING
    assert _qemu_running(vm["uuid"])
    alloc = vmpool.client.get(f"/v1/hosts/{host['id']}").json()["allocated"]
    assert alloc == {"vcpus": 1.0, "memory_mib": 128.0, "disk_gib": 0.0}

    r = vmpool.client.post(f"/v1/vms/{vm['id']}/stop")
    assert r.status_code == 200 and r.json()["state"] == "stopped"
    assert _libvirt_state(lab[0], vm["uuid"]) == libvirt.VIR_DOMAIN_SHUTOFF
    assert not _qemu_running(vm["uuid"])
    # Stopping a stopped VM is a conflict, and changes nothing.
    r = vmpool.client.post(f"/v1/vms/{vm['id']}/stop")
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_state"

    r = vmpool.client.post(f"/v1/vms/{vm['id']}/start")
    assert r.status_code == 200 and r.json()["state"] == "running"
    assert _libvirt_state(lab[0], vm["uuid"]) == libvirt.VIR_DOMAIN_RUNNING

    r = vmpool.client.post(f"/v1/vms/{vm['id']}/reboot")
    assert r.status_code == 200 and r.json()["state"] == "running"

    r = vmpool.client.delete(f"/v1/vms/{vm['id']}")
    assert r.status_code == 204
    assert "life-1" not in domains_on(lab[0])
    assert not _qemu_running(vm["uuid"])
    assert vmpool.client.get(f"/v1/vms/{vm['id']}").status_code == 404
    alloc = vmpool.client.get(f"/v1/hosts/{host['id']}").json()["allocated"]
    assert alloc == {"vcpus": 0.0, "memory_mib": 0.0, "disk_gib": 0.0}


def test_tiny_guest_boots_and_writes_its_console(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vmpool = vmpool_sqlite  # the database plays no part here: SQLite only
    vmpool.register(lab[0])
    r = vmpool.client.post(
        "/v1/vms", json={"name": "tiny-1", "vcpus": 1, "memory_mib": 192, "image": tiny_image.name}
    )
    assert r.status_code == 201, r.text
    vm = r.json()
    serial_dir = Path(vmpool.runtime.settings.effective_serial_log_dir)
    log = serial_dir / f"tiny-1-{vm['uuid']}.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if log.exists() and "VMPOOL-GUEST-READY" in log.read_text(errors="replace"):
            break
        time.sleep(0.5)
    assert "VMPOOL-GUEST-READY" in log.read_text(errors="replace")
    assert vmpool.client.delete(f"/v1/vms/{vm['id']}").status_code == 204


def test_spread_over_two_hosts_and_list_filters(vmpool_sqlite: Vmpool, lab: list[LabHost]) -> None:
    vmpool = vmpool_sqlite  # the database plays no part here: SQLite only
    h1 = vmpool.register(lab[0])
    h2 = vmpool.register(lab[1])
    ids = []
    for i in range(4):
        r = vmpool.client.post("/v1/vms", json={"name": f"sp-{i}", "vcpus": 1, "memory_mib": 64})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    hosts_used = {vmpool.client.get(f"/v1/vms/{i}").json()["host_id"] for i in ids}
    assert hosts_used == {h1["id"], h2["id"]}  # the default strategy spreads
    assert set(domains_on(lab[0])) | set(domains_on(lab[1])) >= {f"sp-{i}" for i in range(4)}

    on_h1 = vmpool.client.get("/v1/vms", params={"host_id": h1["id"]}).json()["items"]
    assert on_h1 and all(v["host_id"] == h1["id"] for v in on_h1)
    page1 = vmpool.client.get("/v1/vms", params={"limit": 3}).json()
    assert len(page1["items"]) == 3 and page1["next_after"] == page1["items"][-1]["id"]
    page2 = vmpool.client.get("/v1/vms", params={"limit": 3, "after": page1["next_after"]}).json()
    assert len(page2["items"]) == 1 and page2["next_after"] is None
    vmpool.client.post(f"/v1/vms/{ids[0]}/stop")
    stopped = vmpool.client.get("/v1/vms", params={"state": "stopped"}).json()["items"]
    assert [v["id"] for v in stopped] == [ids[0]]
    bad = vmpool.client.get("/v1/vms", params={"state": "sideways"})
    assert bad.status_code == 422

    # A host that holds VMs cannot be deleted.
    r = vmpool.client.delete(f"/v1/hosts/{h1['id']}")
    assert r.status_code == 409 and r.json()["error"]["details"]["vm_count"] >= 1


def test_sync_reflects_changes_made_outside_vmpool(
    vmpool_sqlite: Vmpool, lab: list[LabHost]
) -> None:
    vmpool = vmpool_sqlite  # the database plays no part here: SQLite only
    host = vmpool.register(lab[0])
    vm = vmpool.client.post("/v1/vms", json={"name": "ext-1", "vcpus": 1, "memory_mib": 64}).json()
    conn = libvirt.open(lab[0].uri)
    try:
        conn.lookupByUUIDString(vm["uuid"]).destroy()  # behind vmpool's back, like `virsh destroy`
        foreign = conn.defineXML(
            "<domain type='qemu'><name>handmade</name><memory unit='MiB'>32</memory>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>"
        )
        report = sync_all(vmpool.ctx, 1.0, 10.0)
        assert "ext-1" in report.vms_corrected
        assert vmpool.client.get(f"/v1/vms/{vm['id']}").json()["state"] == "stopped"
        h = vmpool.client.get(f"/v1/hosts/{host['id']}").json()
        assert [f["name"] for f in h["foreign_domains"]] == ["handmade"]
        # Reported, not adopted: no VM record for it.
        names = [v["name"] for v in vmpool.client.get("/v1/vms").json()["items"]]
        assert names == ["ext-1"]
        foreign.undefine()
        sync_all(vmpool.ctx, 1.0, 10.0)
        h = vmpool.client.get(f"/v1/hosts/{host['id']}").json()
        assert h["foreign_domains"] == []
    finally:
        conn.close()


def test_undefined_outside_vmpool_becomes_error_and_can_be_deleted(
    vmpool_sqlite: Vmpool, lab: list[LabHost]
) -> None:
    vmpool = vmpool_sqlite  # the database plays no part here: SQLite only
    vmpool.register(lab[0])
    vm = vmpool.client.post("/v1/vms", json={"name": "gone-1", "vcpus": 1, "memory_mib": 64}).json()
    conn = libvirt.open(lab[0].uri)
    try:
        dom = conn.lookupByUUIDString(vm["uuid"])
        dom.destroy()
        dom.undefine()
    finally:
        conn.close()
    sync_all(vmpool.ctx, 1.0, 10.0)
    got = vmpool.client.get(f"/v1/vms/{vm['id']}").json()
    assert got["state"] == "error" and "missing" in got["last_error"]
    assert vmpool.client.delete(f"/v1/vms/{vm['id']}").status_code == 204


def test_unreachable_host_is_marked_and_retried_with_backoff(
    vmpool_sqlite: Vmpool, lab: list[LabHost]
) -> None:
    vmpool = vmpool_sqlite  # the database plays no part here: SQLite only
    host = vmpool.register(lab[0])
    # Point the record at a port where nothing listens: libvirt really fails to connect.
    with vmpool.ctx.uow() as uow:
        uow.hosts.get(host["id"]).uri = "qemu+tcp://127.0.0.1:9/system"
        uow.commit()
    report = sync_all(vmpool.ctx, 2.0, 60.0)
    assert report.hosts_unreachable == ["qemu+tcp://127.0.0.1:9/system"]
    h = vmpool.client.get(f"/v1/hosts/{host['id']}").json()
    assert h["state"] == "unreachable" and h["next_check_at"] is not None
    # Not due yet: the next sync leaves it alone (backoff).
    assert sync_all(vmpool.ctx, 2.0, 60.0).hosts_checked == 0
    # Creating a VM now finds no host that is up, and says so.
    r = vmpool.client.post("/v1/vms", json={"name": "nowhere", "vcpus": 1, "memory_mib": 64})
    assert r.status_code == 409 and "1 host: unreachable" in r.json()["error"]["message"]
    with vmpool.ctx.uow() as uow:
        row = uow.hosts.get(host["id"])
        row.uri = lab[0].uri
        row.next_check_at = None
        uow.commit()
    sync_all(vmpool.ctx, 2.0, 60.0)
    h = vmpool.client.get(f"/v1/hosts/{host['id']}").json()
    assert h["state"] == "up" and h["last_error"] is None


def test_registering_an_unanswering_uri_is_503_and_stores_nothing(vmpool: Vmpool) -> None:
    nowhere = TEST_LAB_DIR / "hosts" / "nowhere" / "libvirt-sock"  # allowed, but no daemon
    r = vmpool.client.post("/v1/hosts", json={"uri": f"qemu+unix:///system?socket={nowhere}"})
    assert r.status_code == 503
    body = r.json()["error"]
    assert body["code"] == "host_unreachable" and "Traceback" not in r.text
    assert vmpool.client.get("/v1/hosts").json()["items"] == []


def test_another_machine_at_a_hosts_uri_is_not_trusted(
    vmpool_sqlite: Vmpool, lab: list[LabHost]
) -> None:
    vmpool = vmpool_sqlite  # the database plays no part here: SQLite only
    host = vmpool.register(lab[0])
    with vmpool.ctx.uow() as uow:
        uow.hosts.get(host["id"]).uri = lab[2].uri  # a different libvirt host answers there now
        uow.commit()
    report = sync_all(vmpool.ctx, 1.0, 10.0)
    assert report.hosts_unreachable == [lab[2].uri]
    h = vmpool.client.get(f"/v1/hosts/{host['id']}").json()
    assert h["state"] == "unreachable"
    assert lab[2].host_uuid in h["last_error"] and h["host_uuid"] == lab[0].host_uuid


def test_a_registration_that_fails_on_the_disk_folder_leaves_nothing_on_the_host(
    lab: list[LabHost], tmp_path: Path
) -> None:
    def pools() -> set[str]:
        conn = libvirt.open(lab[2].uri)
        try:
            return {p.name() for p in conn.listAllStoragePools(0)}
        finally:
            conn.close()

    before = pools()
    url = f"sqlite:///{tmp_path / 'bad.db'}"
    for vp in make_vmpool(url, tmp_path, default_local_disk_path="/proc/vmpool-cannot-be-here"):
        r = vp.client.post("/v1/hosts", json=lab[2].registration())
        assert r.status_code in (409, 422, 502), r.text
        assert vp.client.get("/v1/hosts").json()["items"] == []
    assert pools() == before  # no storage pool defined (or set to autostart) by the failure
