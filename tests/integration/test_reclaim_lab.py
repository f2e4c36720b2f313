"""Leases reclaimed on real lab hosts (docs/lifecycle.md): a VM with a 30-second lease is
stopped by the reclaim service on the real clock once it has expired; a VM booted from a
catalog image with snapshot_then_delete leaves its disks as new catalog images of its
project (a VM boots from the boot disk's image) and no domain, no volume."""

from __future__ import annotations

import time
from datetime import datetime

import libvirt
import pytest

from tests.integration.conftest import Vmpool, domains_on, where
from tests.integration.test_migration_lab import serial_of, wait_for_line
from tests.integration.test_storage_lab import volume_xml
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage, build_tiny_disk
from vmpool.services import reclaim

pytestmark = pytest.mark.lab

LEASE_S = 30


def _wait_expiry(vm: dict[str, object]) -> None:
    end = datetime.fromisoformat(str(vm["lease_expires_at"]))
    left = (end - datetime.now(end.tzinfo)).total_seconds()
    time.sleep(max(0.0, left) + 1.0)


def test_leases_end_a_stop_vm_stopped_and_a_snapshot_then_delete_vm_kept_as_images(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    """Two VMs with 30-second leases, waited out together: `leased` (policy stop) ends
    stopped on its host and is left alone after; `kept` (snapshot_then_delete, booted from a
    catalog image, with a data disk) ends as two catalog images of its project and no
    domain or volume anywhere, and a VM made from its boot-disk image boots."""
    vp = vmpool_sqlite
    vp.register(lab[0])
    vp.register(lab[1])
    disk = build_tiny_disk(tiny_image)
    r = vp.client.post("/v1/images", params={"name": "tiny-disk"}, content=disk.read_bytes())
    assert r.status_code == 201, r.text
    base = r.json()
    r = vp.client.post("/v1/projects", json={"name": "team"})
    assert r.status_code == 201, r.text
    team = r.json()["id"]
    r = vp.client.post("/v1/vms", json={"name": "leased", "vcpus": 1, "memory_mib": 128,
                                        "image": tiny_image.name, "hosts": [lab[0].name],
                                        "lease_s": LEASE_S, "reclaim_policy": "stop"})  # fmt: skip
    assert r.status_code == 201, r.text
    leased = r.json()
    r = vp.client.post("/v1/vms", json={"name": "kept", "vcpus": 1, "memory_mib": 128,
                                        "image": "tiny-disk", "hosts": [lab[0].name],
                                        "project_id": team, "lease_s": LEASE_S,
                                        "reclaim_policy": "snapshot_then_delete"})  # fmt: skip
    assert r.status_code == 201, r.text
    vm = r.json()
    r = vp.client.post(f"/v1/vms/{vm['id']}/disks", json={"size_gib": 1})
    assert r.status_code == 201, r.text
    data = r.json()
    wait_for_line(serial_of(vp, leased), "VMPOOL-GUEST-READY")
    wait_for_line(serial_of(vp, vm), "VMPOOL-GUEST-READY", seconds=120)
    early = reclaim.run(vp.ctx, [3600])  # before expiry: a warning each, nothing reclaimed
    assert early.warned == {leased["id"]: 3600, vm["id"]: 3600} and not early.reclaimed
    assert domains_on(lab[0])["leased"] == libvirt.VIR_DOMAIN_RUNNING
    _wait_expiry(vm)  # created after `leased`: both have expired
    started = time.monotonic()
    report = reclaim.run(vp.ctx, [3600])
    print(f"reclaim (stop; snapshot_then_delete, 2 disks) took {time.monotonic() - started:.2f} s")
    assert report.reclaimed == {leased["id"]: "stop", vm["id"]: "snapshot_then_delete"}, report
    assert domains_on(lab[0])["leased"] == libvirt.VIR_DOMAIN_SHUTOFF
    assert vp.client.get(f"/v1/vms/{leased['id']}").json()["state"] == "stopped"
    assert not reclaim.run(vp.ctx, [3600]).reclaimed  # left alone from now on
    assert vp.client.delete(f"/v1/vms/{leased['id']}").status_code == 204
    names = report.images[vm["id"]]
    assert [n.split("-reclaimed-")[0] for n in names] == ["kept-vda", "kept-vdb"]

    # No domain on any host, no volume of it left (nor the temporary copies).
    assert where(lab, vm["uuid"]) == ([], [])
    assert vp.client.get(f"/v1/vms/{vm['id']}").status_code == 404
    for path in (vm["disk_path"], data["path"]):
        assert volume_xml(lab[0], path) is None, path
    folder = vm["disk_path"].rsplit("/", 1)[0]
    for target in ("vda", "vdb"):
        assert volume_xml(lab[0], f"{folder}/reclaim-{vm['uuid']}-{target}.qcow2") is None

    # The images: the project's own, standalone qcow2, the disks' sizes.
    found = {i["name"]: i for i in vp.client.get("/v1/images").json()["items"]}
    boot, kept_data = found[names[0]], found[names[1]]
    assert (boot["state"], boot["format"]) == ("available", "qcow2")
    assert boot["virtual_size_bytes"] == vm["disk_gib"] * 2**30  # the overlay: whole GiB
    assert base["virtual_size_bytes"] <= boot["virtual_size_bytes"]
    assert kept_data["virtual_size_bytes"] == 2**30
    with vp.ctx.uow() as uow:
        assert uow.images.get(boot["id"]).project_id == team

    # The owner restores: a VM made from the kept boot disk boots.
    r = vp.client.post("/v1/vms", json={"name": "restored", "vcpus": 1, "memory_mib": 128,
                                        "image": names[0], "hosts": [lab[1].name],
                                        "project_id": team})  # fmt: skip
    assert r.status_code == 201, r.text
    restored = r.json()
    wait_for_line(serial_of(vp, restored), "VMPOOL-GUEST-READY", seconds=120)
    assert vp.client.delete(f"/v1/vms/{restored['id']}").status_code == 204
