"""PCI passthrough and SGX on the fake cloud, once on SQLite and once on PostgreSQL
(docs/hardware.md): the inventory recorded by registration and the sync, the
operator's aliases through the API, claims at create (two VMs never share a device; a
refusal or a failed create leaves nothing claimed), delete frees, and a VM with devices or
SGX EPC is kept on its host: live migration refused (409), maintenance reports it, the
rebalance planner leaves it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.fake_hypervisor import FakeCloud, FakeHost
from vmpool.adapters.db.migrations import upgrade
from vmpool.api.app import create_app
from vmpool.config import Settings
from vmpool.domain.hardware import HostHardware, PciDevice
from vmpool.services import cluster_state, ha, hosts, sync
from vmpool.services.tokens import Role, create_token
from vmpool.wiring import Runtime, build_runtime

GPU_1 = PciDevice(
    "0000:3b:00.0",
    "0x10de",
    "0x20b0",
    "NVIDIA Corporation",
    "GA100 [A100 SXM4 40GB]",
    iommu_group=42,
    numa_node=0,
    driver="vfio-pci",
)
GPU_2 = PciDevice(
    "0000:af:00.0",
    "0x10de",
    "0x20b0",
    "NVIDIA Corporation",
    "GA100 [A100 SXM4 40GB]",
    iommu_group=97,
    numa_node=1,
    driver="nvidia",
)
NIC = PciDevice("0000:42:00.0", "0x15b3", "0xa2d6", "Mellanox Technologies", "ConnectX-6 Dx",
                iommu_group=65, numa_node=0, driver="mlx5_core")  # fmt: skip
GPU_VM: dict[str, Any] = {"vcpus": 1, "memory_mib": 64, "devices": [{"alias": "gpu:a100"}]}


@dataclass
class Api:
    runtime: Runtime
    client: TestClient
    gpu_host: int  # host "a": two A100s and a NIC, 256 MiB of SGX EPC
    plain_host: int  # host "b": nothing special
    fake: FakeHost

    def devices(self, host_id: int | None = None) -> dict[str, dict[str, Any]]:
        r = self.client.get(f"/v1/hosts/{host_id or self.gpu_host}/devices")
        assert r.status_code == 200, r.text
        return {d["address"]: d for d in r.json()["items"]}

    def alias(self, address: str, alias: str | None) -> Any:
        return self.client.patch(
            f"/v1/hosts/{self.gpu_host}/devices/{address}", json={"alias": alias}
        )

    def create(self, name: str, **body: Any) -> Any:
        return self.client.post("/v1/vms", json={"name": name, **body})

    def sync(self) -> None:
        sync.sync_host(self.runtime.ctx, self.gpu_host, self.fake.uri, 1.0, 10.0, sync.SyncReport())


@pytest.fixture
def api(migrated_url: str, tmp_path: Path) -> Iterator[Api]:
    cloud = FakeCloud()
    settings = Settings(
        data_dir=tmp_path / "data", database_url=migrated_url, image_dir=tmp_path / "images",
        serial_log_dir=tmp_path / "serial",
    )  # fmt: skip
    runtime = build_runtime(settings, connector=cloud)
    upgrade(runtime.engine)
    fake = cloud.add_host("qemu+tls://a.example/system", hostname="a.example")
    fake.pci_devices = (GPU_1, NIC, GPU_2)
    fake.hardware = HostHardware(sgx_epc_mib=256)
    cloud.add_host("qemu+tls://b.example/system", hostname="b.example")
    a = hosts.register_host(runtime.ctx, fake.uri, "a").id
    b = hosts.register_host(runtime.ctx, "qemu+tls://b.example/system", "b").id
    client = TestClient(create_app(runtime.ctx), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {create_token(runtime.ctx, Role.ADMIN, 'admin')}"
    yield Api(runtime, client, a, b, fake)
    client.close()
    cloud.release_all()
    runtime.close()


def _mark_gpus(api: Api) -> None:
    for address in (GPU_1.address, GPU_2.address):
        r = api.alias(address, "gpu:a100")
        assert r.status_code == 200 and r.json()["alias"] == "gpu:a100", r.text


def test_inventory_and_aliases(api: Api) -> None:
    found = api.devices()
    assert sorted(found) == [GPU_1.address, NIC.address, GPU_2.address]
    gpu = found[GPU_1.address]
    assert (gpu["vendor_id"], gpu["product_id"], gpu["iommu_group"], gpu["numa_node"]) == (
        "0x10de", "0x20b0", 42, 0,
    )  # fmt: skip
    assert all(d["alias"] is None and d["vm_id"] is None for d in found.values())
    assert api.devices(api.plain_host) == {}
    _mark_gpus(api)
    assert api.alias("0000:3B:00.0", "gpu:a100").json()["address"] == GPU_1.address
    # Bad input: nothing changed.
    assert api.alias("0000:01:00.0", "gpu:a100").status_code == 404
    assert api.alias("not-an-address", "gpu:a100").status_code == 422
    assert api.alias(NIC.address, "GPU A100!").status_code == 422
    assert (
        api.client.patch(f"/v1/hosts/999/devices/{NIC.address}", json={"alias": "x"}).status_code
        == 404
    )
    assert api.client.get("/v1/hosts/999/devices").status_code == 404
    r = api.client.patch(f"/v1/hosts/{api.gpu_host}/devices/{NIC.address}", json={"alias": 5})
    assert r.status_code == 422
    assert api.devices()[NIC.address]["alias"] is None
    # Unmarked again: not assignable.
    assert api.alias(GPU_2.address, None).json()["alias"] is None


def test_claims_are_exclusive_and_freed(api: Api) -> None:
    _mark_gpus(api)
    first = api.create("gpu-1", **GPU_VM)
    assert first.status_code == 201, first.text
    assert first.json()["host_id"] == api.gpu_host
    second = api.create("gpu-2", **GPU_VM)
    assert second.status_code == 201, second.text
    held = {a: d["vm_name"] for a, d in api.devices().items() if d["vm_name"]}
    assert held == {GPU_1.address: "gpu-1", GPU_2.address: "gpu-2"}
    # Each domain got its own device.
    specs = {d.name: d.spec for d in api.fake.domains.values()}
    assert specs["gpu-1"].hostdevs == (GPU_1.address,)  # type: ignore[union-attr]
    assert specs["gpu-2"].hostdevs == (GPU_2.address,)  # type: ignore[union-attr]
    # All taken: refused with the filter's explanation, nothing left behind.
    third = api.create("gpu-3", **GPU_VM)
    assert third.status_code == 409, third.text
    assert "no free gpu:a100 (has 0 of 1)" in third.json()["error"]["message"]
    assert api.client.get("/v1/vms", params={"name": "gpu-3"}).json()["items"] == []
    assert "gpu-3" not in {d.name for d in api.fake.domains.values()}
    # A device held by a VM keeps its alias.
    assert api.alias(GPU_1.address, None).status_code == 409
    # Delete frees: the next VM gets that device.
    assert api.client.delete(f"/v1/vms/{first.json()['id']}").status_code == 204
    assert api.devices()[GPU_1.address]["vm_id"] is None
    again = api.create("gpu-4", **GPU_VM)
    assert again.status_code == 201, again.text
    assert api.devices()[GPU_1.address]["vm_name"] == "gpu-4"


def test_a_failed_create_gives_its_devices_back(api: Api) -> None:
    _mark_gpus(api)
    api.fake.fail_next("start")
    r = api.create("gpu-1", **GPU_VM)
    assert r.status_code == 502 and r.json()["error"]["code"] == "hypervisor_error", r.text
    assert all(d["vm_id"] is None for d in api.devices().values())
    assert api.client.get("/v1/vms", params={"name": "gpu-1"}).json()["items"] == []


def test_the_sync_marks_devices_missing_and_back(api: Api) -> None:
    _mark_gpus(api)
    vm = api.create("gpu-1", **GPU_VM).json()
    api.fake.pci_devices = (NIC,)  # both GPUs gone from the host's listing
    api.sync()
    found = api.devices()
    assert found[GPU_1.address]["missing_since"] is not None
    assert found[GPU_1.address]["vm_id"] == vm["id"]  # still held
    assert found[NIC.address]["missing_since"] is None
    # A missing device is never claimed.
    r = api.create("gpu-2", **GPU_VM)
    assert r.status_code == 409 and "no free gpu:a100 (has 0 of 1)" in r.text
    api.fake.pci_devices = (GPU_1, NIC, GPU_2)
    api.sync()
    found = api.devices()
    assert all(d["missing_since"] is None for d in found.values())
    assert found[GPU_2.address]["alias"] == "gpu:a100"  # kept while it was gone


def test_a_host_that_cannot_list_its_devices_keeps_what_is_recorded(api: Api) -> None:
    _mark_gpus(api)
    before = api.devices()
    api.fake.pci_devices = None  # its node device API failed this time (the host answers)
    api.sync()
    assert api.devices() == before  # nothing marked missing, no alias lost
    r = api.client.get(f"/v1/hosts/{api.gpu_host}")
    assert r.status_code == 200 and r.json()["state"] == "up"


def test_a_vm_with_devices_or_sgx_stays_on_its_host(api: Api) -> None:
    _mark_gpus(api)
    gpu = api.create("gpu-1", **GPU_VM).json()
    enclave = api.create("sgx-1", vcpus=1, memory_mib=64, sgx_epc_mib=64).json()
    assert enclave["host_id"] == api.gpu_host
    for vm, words in ((gpu, "passthrough devices (1 gpu:a100)"), (enclave, "64 MiB of SGX EPC")):
        r = api.client.post(f"/v1/vms/{vm['id']}/migrate", json={})
        assert r.status_code == 409 and words in r.json()["error"]["message"], r.text
    # Maintenance reports them as staying, with the reason.
    r = api.client.post(f"/v1/hosts/{api.gpu_host}/maintenance")
    assert r.status_code == 202, r.text
    items = {i["vm_name"]: i for i in r.json()["evacuation"]["items"]}
    assert "passthrough devices" in items["gpu-1"]["error"]
    assert "SGX EPC" in items["sgx-1"]["error"]
    # The rebalance planner leaves them where they are.
    with api.runtime.ctx.uow() as uow:
        state = cluster_state.build(uow, uow.pools.get(1), api.runtime.ctx.clock())
    movable = {v.name: v.migratable for v in state.cluster.vms}
    assert movable == {"gpu-1": False, "sgx-1": False}


def test_sgx_epc_is_claimed_per_host(api: Api) -> None:
    sizes = {}
    for name in ("e-1", "e-2"):
        r = api.create(name, vcpus=1, memory_mib=64, sgx_epc_mib=128)
        assert r.status_code == 201 and r.json()["host_id"] == api.gpu_host, r.text
        sizes[name] = r.json()["sgx_epc_mib"]
    assert sizes == {"e-1": 128, "e-2": 128}
    spec = next(d.spec for d in api.fake.domains.values() if d.name == "e-1")
    assert spec is not None and spec.sgx_epc_mib == 128
    r = api.create("e-3", vcpus=1, memory_mib=64, sgx_epc_mib=1)
    assert r.status_code == 409
    message = r.json()["error"]["message"]
    assert "not enough SGX EPC (asked 1 MiB, has 0 of 256 MiB free)" in message
    assert "no SGX (asked 1 MiB of EPC)" in message  # host b
    assert api.client.get("/v1/vms", params={"name": "e-3"}).json()["items"] == []


def test_an_ha_restart_moves_the_claim_to_the_new_host(api: Api) -> None:
    ctx = api.runtime.ctx
    _mark_gpus(api)
    b = api.runtime.ctx.hypervisors.connect("qemu+tls://b.example/system")
    assert isinstance(b, FakeHost)
    b.pci_devices = (GPU_1,)  # the same address, on another machine
    sync.sync_host(ctx, api.plain_host, b.uri, 1.0, 10.0, sync.SyncReport())
    r = api.client.patch(
        f"/v1/hosts/{api.plain_host}/devices/{GPU_1.address}", json={"alias": "gpu:a100"}
    )
    assert r.status_code == 200, r.text
    vm = api.create("gpu-ha", ha=True, hosts=["a"], **GPU_VM).json()
    api.fake.unreachable = True
    sync.sync_all(ctx, base_interval_s=0.0, max_backoff_s=0.0)
    ha.fence_host(ctx, api.gpu_host, actor="alice")
    report = ha.HaReport()
    ha.restart_fenced(ctx, report)
    assert report.restarted == ["gpu-ha"]
    assert b.get_domain(vm["uuid"]).spec.hostdevs == (GPU_1.address,)  # type: ignore[union-attr]
    assert api.devices(api.plain_host)[GPU_1.address]["vm_name"] == "gpu-ha"
    assert api.devices()[GPU_1.address]["vm_id"] is None  # the fenced host's is free
