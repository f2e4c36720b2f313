"""Nothing is left half-done: failed creates, and intents that vmpool died in the middle of."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import migrated_db_url
from tests.integration.conftest import Vmpool, domains_on, make_vmpool, wipe_lab_domains
from vmpool.adapters.db.tables import VmRow
from vmpool.domain.model import DomainType
from vmpool.domain.ports import DomainSpec
from vmpool.lab.hosts import LabHost
from vmpool.services.sync import sync_all

pytestmark = pytest.mark.lab


@pytest.fixture
def broken_image_vmpool(
    lab: list[LabHost], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Vmpool]:
    images = tmp_path / "images"
    (images / "broken").mkdir(parents=True)
    (images / "broken" / "vmlinuz").write_bytes(b"this is not a kernel")
    (images / "broken" / "initrd.img").write_bytes(b"nor an initrd")
    (images / "broken" / "image.json").write_text(
        json.dumps({"kernel": "vmlinuz", "initrd": "initrd.img", "cmdline": "console=ttyS0"})
    )
    yield from make_vmpool(migrated_db_url("sqlite", tmp_path, request), tmp_path, image_dir=images)
    wipe_lab_domains(lab)


def test_a_create_that_libvirt_fails_leaves_nothing(
    broken_image_vmpool: Vmpool, lab: list[LabHost]
) -> None:
    vp = broken_image_vmpool
    host = vp.register(lab[0])
    r = vp.client.post(
        "/v1/vms", json={"name": "broken-1", "vcpus": 1, "memory_mib": 64, "image": "broken"}
    )
    assert r.status_code == 502, r.text
    assert r.json()["error"]["code"] == "hypervisor_error"
    assert "broken-1" not in domains_on(lab[0])
    assert vp.client.get("/v1/vms").json()["items"] == []
    h = vp.client.get(f"/v1/hosts/{host['id']}").json()
    assert h["allocated"] == {"vcpus": 0.0, "memory_mib": 0.0, "disk_gib": 0.0}


def _insert_vm(vp: Vmpool, host_id: int, name: str, state: str, age_s: float) -> tuple[int, str]:
    vm_uuid = str(uuid.uuid4())
    with vp.ctx.uow() as uow:
        pool = uow.pools.by_name("default")
        assert pool is not None
        row = uow.vms.add(
            VmRow(pool_id=pool.id, host_id=host_id, name=name, uuid=vm_uuid, vcpus=1,
                  memory_mib=64, state=state,
                  state_changed_at=vp.ctx.clock() - timedelta(seconds=age_s))
        )  # fmt: skip
        vm_id = row.id
        uow.commit()
    return vm_id, vm_uuid


def test_stale_intents_are_settled_from_what_the_host_says(
    vmpool: Vmpool, lab: list[LabHost]
) -> None:
    host = vmpool.register(lab[0])
    hid = int(host["id"])  # type: ignore[call-overload]
    stale = vmpool.ctx.stale_intent_s + 5
    # vmpool died after recording `creating`, before defining the domain.
    lost_id, _ = _insert_vm(vmpool, hid, "died-early", "creating", stale)
    # ... and after defining and starting it.
    made_id, made_uuid = _insert_vm(vmpool, hid, "died-late", "creating", stale)
    hv = vmpool.ctx.hypervisors.connect(lab[0].uri)
    hv.define(DomainSpec(made_id, made_uuid, "died-late", 1, 64, DomainType.QEMU))
    hv.start(made_uuid)
    # ... and in the middle of a stop that did happen.
    stop_id, stop_uuid = _insert_vm(vmpool, hid, "died-stopping", "stopping", stale)
    hv.define(DomainSpec(stop_id, stop_uuid, "died-stopping", 1, 64, DomainType.QEMU))
    # A fresh intent is left alone: a service is working on it.
    busy_id, _ = _insert_vm(vmpool, hid, "in-flight", "creating", 0)
    # A delete whose host call failed: the sync finishes it.
    del_id, del_uuid = _insert_vm(vmpool, hid, "half-deleted", "deleting", 0)
    hv.define(DomainSpec(del_id, del_uuid, "half-deleted", 1, 64, DomainType.QEMU))

    report = sync_all(vmpool.ctx, 1.0, 10.0)

    c = vmpool.client
    assert c.get(f"/v1/vms/{lost_id}").status_code == 404
    assert c.get(f"/v1/vms/{made_id}").json()["state"] == "running"
    assert c.get(f"/v1/vms/{stop_id}").json()["state"] == "stopped"
    assert c.get(f"/v1/vms/{busy_id}").json()["state"] == "creating"
    assert c.get(f"/v1/vms/{del_id}").status_code == 404
    assert "half-deleted" not in domains_on(lab[0])
    assert set(report.vms_removed) == {"died-early", "half-deleted"}
    assert report.foreign_found == []


def test_delete_on_an_unreachable_host_is_finished_by_the_sync(
    vmpool_sqlite: Vmpool, lab: list[LabHost]
) -> None:
    vp = vmpool_sqlite
    host = vp.register(lab[0])
    vm = vp.client.post("/v1/vms", json={"name": "later-1", "vcpus": 1, "memory_mib": 64}).json()
    with vp.ctx.uow() as uow:
        uow.hosts.get(host["id"]).uri = "qemu+tcp://127.0.0.1:9/system"
        uow.commit()
    r = vp.client.delete(f"/v1/vms/{vm['id']}")
    assert r.status_code == 503
    got = vp.client.get(f"/v1/vms/{vm['id']}").json()
    assert got["state"] == "deleting" and "delete failed" in got["last_error"]
    # The claim is still held while the domain may still run.
    assert vp.client.get(f"/v1/hosts/{host['id']}").json()["allocated"]["vcpus"] == 1.0
    with vp.ctx.uow() as uow:
        uow.hosts.get(host["id"]).uri = lab[0].uri
        uow.commit()
    sync_all(vp.ctx, 1.0, 10.0)
    assert vp.client.get(f"/v1/vms/{vm['id']}").status_code == 404
    assert "later-1" not in domains_on(lab[0])
    assert vp.client.get(f"/v1/hosts/{host['id']}").json()["allocated"]["vcpus"] == 0.0
