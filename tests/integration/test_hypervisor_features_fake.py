"""Hypervisors beyond KVM and the vTPM through the API on fake hosts (docs/hardware.md):
a host's driver and features come from its inventory, and what it lacks is refused with a
409 that names its driver (live migration from or to it, a snapshot, a live resize), a TPM
VM goes only where a TPM can be emulated (else 409 with placement's reason), and a VM keeps
its machine type: a migration target that does not offer it is refused. Nothing changes on
a refusal."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.fake_hypervisor import FakeHost
from tests.support.fake_world import fake_runtime
from vmpool.api.app import create_app
from vmpool.domain.hardware import HostHardware
from vmpool.domain.hypervisor_features import HOTPLUG, LIVE_MIGRATION, SNAPSHOTS, TPM_EMULATOR
from vmpool.services import hosts
from vmpool.services.tokens import Role, create_token
from vmpool.wiring import Runtime

QEMU_72 = ("pc", "pc-i440fx-7.2", "q35", "pc-q35-7.2")
HOSTS = {
    # name: (URI, hardware)
    "kvm1": ("qemu+tls://kvm1.example/system", HostHardware(
        driver="qemu", machine="pc-i440fx-7.2", machines=QEMU_72,
        features=frozenset({LIVE_MIGRATION, SNAPSHOTS, HOTPLUG}))),
    "kvm2": ("qemu+tls://kvm2.example/system", HostHardware(
        driver="qemu", machine="pc-i440fx-7.2", machines=QEMU_72,
        features=frozenset({LIVE_MIGRATION, SNAPSHOTS, HOTPLUG}))),
    "old": ("qemu+tls://old.example/system", HostHardware(
        driver="qemu", machine="pc-i440fx-5.2", machines=("pc", "pc-i440fx-5.2"),
        features=frozenset({LIVE_MIGRATION, SNAPSHOTS, HOTPLUG}))),
    "bsd": ("bhyve+tls://bsd.example/system", HostHardware(driver="bhyve")),
}  # fmt: skip


@dataclass
class Api:
    runtime: Runtime
    client: TestClient
    fakes: dict[str, FakeHost]
    ids: dict[str, int]

    def create(self, name: str, host: str, code: int = 201, **extra: Any) -> dict[str, Any]:
        body = {"name": name, "vcpus": 1, "memory_mib": 512, "hosts": [host], **extra}
        r = self.client.post("/v1/vms", json=body)
        assert r.status_code == code, r.text
        return dict(r.json())

    def reinventory(self, name: str, hardware: HostHardware) -> None:
        """The host's inventory read again (as the sync does) after its hypervisor changed."""
        self.fakes[name].hardware = hardware
        with self.runtime.ctx.uow() as uow:
            hosts.apply_inventory(uow.hosts.get(self.ids[name]), self.fakes[name].inventory())
            uow.commit()


@pytest.fixture
def api(migrated_url: str, tmp_path: Path) -> Iterator[Api]:
    with fake_runtime(tmp_path, migrated_url, migration_poll_s=0.02) as (runtime, cloud):
        fakes, ids = {}, {}
        for name, (uri, hardware) in HOSTS.items():
            fakes[name] = cloud.add_host(uri, hostname=f"{name}.example")
            fakes[name].hardware = hardware
            ids[name] = hosts.register_host(runtime.ctx, uri, name).id
        client = TestClient(create_app(runtime.ctx), raise_server_exceptions=False)
        client.headers["Authorization"] = f"Bearer {create_token(runtime.ctx, Role.ADMIN, 'admin')}"
        yield Api(runtime, client, fakes, ids)
        client.close()


def refused(r: Any, *words: str) -> dict[str, Any]:
    assert r.status_code == 409, r.text
    err: dict[str, Any] = r.json()["error"]
    for w in words:
        assert w in err["message"], err
    return err


def test_a_tpm_vm_needs_a_host_that_emulates_one(api: Api) -> None:
    r = api.client.post("/v1/vms", json={"name": "sealed", "vcpus": 1, "memory_mib": 512,
                                          "tpm": True})  # fmt: skip
    err = refused(r, "this host's hypervisor does not support a TPM (qemu", "(bhyve")
    assert err["code"] == "no_capacity"
    assert api.client.get("/v1/vms").json()["items"] == []  # nothing made
    # kvm2 gets swtpm: its inventory now offers the emulator; the VM goes there.
    hw = HOSTS["kvm2"][1]
    api.reinventory("kvm2", HostHardware(driver="qemu", machine=hw.machine,
                                         machines=hw.machines,
                                         features=hw.features | {TPM_EMULATOR}))  # fmt: skip
    vm = api.create("sealed", "kvm2", tpm=True)
    assert vm["tpm"] is True and vm["host_id"] == api.ids["kvm2"]
    spec = api.fakes["kvm2"].get_domain(vm["uuid"]).spec
    assert spec is not None and spec.tpm and spec.machine == "pc-i440fx-7.2"
    # Its migration needs a TPM host as target too: there is none but kvm2.
    r = api.client.post(f"/v1/vms/{vm['id']}/migrate", json={})
    refused(r, "does not support a TPM")


def test_a_vm_keeps_its_machine_type_and_a_target_must_offer_it(api: Api) -> None:
    vm = api.create("web", "kvm1")
    assert vm["machine"] == "pc-i440fx-7.2"  # the host's default, recorded
    r = api.client.post(f"/v1/vms/{vm['id']}/migrate", json={"target_host_id": api.ids["old"]})
    refused(r, "offers no machine type pc-i440fx-7.2")
    assert api.client.get("/v1/migrations").json()["items"] == []
    r = api.client.post(f"/v1/vms/{vm['id']}/migrate", json={"target_host_id": api.ids["kvm2"]})
    assert r.status_code == 202, r.text


def test_a_driver_without_live_migration_is_refused_both_ways(api: Api) -> None:
    vm = api.create("web", "kvm1")
    r = api.client.post(f"/v1/vms/{vm['id']}/migrate", json={"target_host_id": api.ids["bsd"]})
    err = refused(r, "this host's hypervisor (bhyve) does not support live migration")
    assert err["details"] == {"feature": LIVE_MIGRATION, "driver": "bhyve", "host": "bsd"}
    bsd_vm = api.create("freebsd", "bsd")
    assert bsd_vm["machine"] is None  # bhyve's domain capabilities name none
    r = api.client.post(f"/v1/vms/{bsd_vm['id']}/migrate", json={})
    refused(r, "(bhyve) does not support live migration", "host bsd")
    assert api.client.get("/v1/migrations").json()["items"] == []


def test_placement_chooses_a_migration_target_only_among_hosts_that_migrate_live(
    api: Api,
) -> None:
    vm = api.create("web", "kvm1")
    api.create("busy", "kvm2")  # kvm2 is fuller than the empty bsd, which spread would pick
    r = api.client.post(f"/v1/vms/{vm['id']}/migrate", json={})
    assert r.status_code == 202, r.text
    assert r.json()["target_host_id"] == api.ids["kvm2"]


def test_snapshots_and_live_resize_need_the_driver_to_support_them(api: Api) -> None:
    vm = api.create("freebsd", "bsd", max_vcpus=2, disk_gib=1)
    r = api.client.post(f"/v1/vms/{vm['id']}/snapshots", json={"name": "before"})
    refused(r, "cannot snapshot VM freebsd", "(bhyve) does not support snapshots")
    assert api.client.get(f"/v1/vms/{vm['id']}/snapshots").json()["items"] == []
    r = api.client.patch(f"/v1/vms/{vm['id']}", json={"vcpus": 2})
    refused(r, "(bhyve) does not support hot-plug")
    assert api.client.get(f"/v1/vms/{vm['id']}").json()["vcpus"] == 1
    # Stopped, its definition changes: any driver can do that.
    assert api.client.post(f"/v1/vms/{vm['id']}/stop").status_code == 200
    r = api.client.patch(f"/v1/vms/{vm['id']}", json={"vcpus": 2})
    assert r.status_code == 200, r.text
