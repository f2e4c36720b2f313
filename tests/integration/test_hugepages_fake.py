"""Huge pages against a host's memory (docs/hardware.md) through the API on fake
hosts, on SQLite and PostgreSQL: the memory a host's huge pages hold is left out of its
ordinary memory capacity, a huge-page VM claims its pages and none of the ordinary memory,
the host view shows the claim, and the rebalance planner's view counts the same."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.fake_hypervisor import FakeCloud
from vmpool.adapters.db.migrations import upgrade
from vmpool.api.app import create_app
from vmpool.config import Settings
from vmpool.domain.hardware import HostHardware, NumaCell
from vmpool.services import cluster_state, hosts
from vmpool.services.tokens import Role, create_token
from vmpool.wiring import Runtime, build_runtime

# 4096 MiB of 2M pages (1024 per cell) on a 16384 MiB host
CELLS = (
    NumaCell(0, frozenset(range(4)), 8192, {2048: (1024, 1024)}),
    NumaCell(1, frozenset(range(4, 8)), 8192, {2048: (1024, 1024)}),
)


@dataclass
class Api:
    runtime: Runtime
    client: TestClient
    ids: dict[str, int]

    def create(self, name: str, status: int = 201, **extra: Any) -> dict[str, Any]:
        body = {"name": name, "vcpus": 1, "memory_mib": 256, "hosts": ["a"], **extra}
        r = self.client.post("/v1/vms", json=body)
        assert r.status_code == status, r.text
        return dict(r.json())

    def host(self, name: str = "a") -> dict[str, Any]:
        return dict(self.client.get(f"/v1/hosts/{self.ids[name]}").json())


@pytest.fixture
def api(migrated_url: str, tmp_path: Path) -> Iterator[Api]:
    cloud = FakeCloud()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=migrated_url,
        image_dir=tmp_path / "images",
        serial_log_dir=tmp_path / "serial",
    )
    runtime = build_runtime(settings, connector=cloud)
    upgrade(runtime.engine)
    ids: dict[str, int] = {}
    for name in ("a", "b"):
        uri = f"qemu+tls://{name}.example/system"
        fake = cloud.add_host(uri, hostname=f"{name}.example", cpus=8, memory_mib=16384)
        if name == "a":
            fake.hardware = HostHardware(cells=CELLS)
        ids[name] = hosts.register_host(runtime.ctx, uri, name).id
    client = TestClient(create_app(runtime.ctx), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {create_token(runtime.ctx, Role.ADMIN, 'admin')}"
    for host_id in ids.values():  # plain figures: no reserve, ratio 1
        r = client.patch(
            f"/v1/hosts/{host_id}", json={"reserved_memory_mib": 0, "ram_allocation_ratio": 1.0}
        )
        assert r.status_code == 200, r.text
    yield Api(runtime, client, ids)
    client.close()
    cloud.release_all()
    runtime.close()


def test_huge_pages_are_not_ordinary_memory(api: Api) -> None:
    a = api.host()
    assert api.host("b")["capacity"]["memory_mib"] == 16384  # no huge pages: all of it
    assert a["capacity"]["memory_mib"] == 16384 - 4096
    assert a["hugepages"] == [{"size_kib": 2048, "total": 2048, "claimed": 0, "available": 2048}]

    hp = api.create("hp", memory_mib=2048, hugepages="2M")
    a = api.host()
    assert a["allocated"]["memory_mib"] == 0  # its memory is its pages
    assert a["hugepages"] == [{"size_kib": 2048, "total": 2048, "claimed": 1024, "available": 1024}]
    # not bound to a cell (shared CPUs): the claim is the host's, no cell's
    assert [h["claimed"] for c in a["numa_cells"] for h in c["hugepages"]] == [0, 0]

    # the ordinary memory is the 12288 MiB outside the pages: exactly that fits, no more
    plain = api.create("plain", memory_mib=12288)
    refused = api.create("one-more", 409, memory_mib=256)
    by_filter = {r["filter"]: r["hosts"] for r in refused["error"]["details"]["rejections"]}
    assert by_filter == {"requested_hosts": 1, "capacity": 1}  # b is not asked for
    # with the ordinary memory full, a huge-page VM still fits in the pages left
    api.create("hp2", memory_mib=2048, hugepages="2M")
    no_pages = api.create("hp3", 409, memory_mib=16, hugepages="2M")
    assert "16 MiB of 2M huge pages needed, 0 MiB free" in str(no_pages)
    assert api.host()["allocated"]["memory_mib"] == 12288

    # the planner's view: the same ordinary memory, huge-page VMs outside it and left in place
    with api.runtime.ctx.uow() as uow:
        pool = uow.pools.get(uow.hosts.get(api.ids["a"]).pool_id)
        snap = cluster_state.build(uow, pool, datetime.now(UTC)).cluster
    memory = {h.name: h.memory_mib for h in snap.hosts}
    assert memory == {"a": 16384 - 4096, "b": 16384}
    vms = {v.name: v for v in snap.vms}
    assert (vms["hp"].memory_mib, vms["hp"].migratable) == (0, False)
    assert (vms["plain"].memory_mib, vms["plain"].migratable) == (12288, True)
    assert snap.overcommitted_hosts == ()

    assert api.client.delete(f"/v1/vms/{hp['id']}").status_code in (200, 202, 204)
    assert api.host()["hugepages"][0]["claimed"] == 1024  # hp2's
    assert api.client.delete(f"/v1/vms/{plain['id']}").status_code in (200, 202, 204)
    assert api.host()["allocated"]["memory_mib"] == 0
