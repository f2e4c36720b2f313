"""Dedicated CPUs and huge pages (docs/hardware.md) through the API on fake hosts, on
SQLite and PostgreSQL: the operator's CPU split (422 when wrong, 409 when a pinned CPU would
leave it), pins recorded at create and shown in the definition, the filters' refusals with
their reasons, huge pages claimed per cell, hot-plug refused, migration to a host without
dedicated CPUs refused, delete frees."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.support.fake_hypervisor import FakeCloud, FakeHost
from vmpool.adapters.db.migrations import upgrade
from vmpool.adapters.db.tables import CpuPinRow
from vmpool.api.app import create_app
from vmpool.config import Settings
from vmpool.domain.hardware import HostHardware, NumaCell
from vmpool.services import hosts
from vmpool.services.tokens import Role, create_token
from vmpool.wiring import Runtime, build_runtime

CELLS = (
    NumaCell(0, frozenset(range(4)), 8192, {2048: (256, 256)}),  # 512 MiB of 2M pages each
    NumaCell(1, frozenset(range(4, 8)), 8192, {2048: (256, 256)}),
)


@dataclass
class Api:
    runtime: Runtime
    client: TestClient
    a: FakeHost
    a_id: int

    def create(self, name: str, status: int = 201, **extra: Any) -> dict[str, Any]:
        body = {"name": name, "vcpus": 2, "memory_mib": 256, "hosts": ["a"], **extra}
        r = self.client.post("/v1/vms", json=body)
        assert r.status_code == status, r.text
        return dict(r.json())

    def host(self) -> dict[str, Any]:
        return dict(self.client.get(f"/v1/hosts/{self.a_id}").json())

    def split(self, status: int, **sets: str | None) -> dict[str, Any]:
        r = self.client.patch(f"/v1/hosts/{self.a_id}", json=sets)
        assert r.status_code == status, r.text
        return dict(r.json())

    def pins(self) -> list[tuple[int, int, int, int]]:
        with self.runtime.ctx.uow() as uow:
            rows = uow.session.execute(select(CpuPinRow).order_by(CpuPinRow.id)).scalars()
            return [(p.vm_id, p.vcpu, p.host_cpu, p.numa_cell) for p in rows]


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
    ids = []
    fakes = []
    for name in ("a", "b"):
        uri = f"qemu+tls://{name}.example/system"
        fake = cloud.add_host(uri, hostname=f"{name}.example", cpus=8, memory_mib=16384)
        if name == "a":
            fake.hardware = HostHardware(cells=CELLS)
        fakes.append(fake)
        ids.append(hosts.register_host(runtime.ctx, uri, name).id)
    client = TestClient(create_app(runtime.ctx), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {create_token(runtime.ctx, Role.ADMIN, 'admin')}"
    yield Api(runtime, client, fakes[0], ids[0])
    client.close()
    cloud.release_all()
    runtime.close()


def test_host_cpu_split_is_checked_and_shown(api: Api) -> None:
    before = api.host()
    assert before["cpu_dedicated_set"] is None and before["pinned_cpus"] == []
    assert [c["cpus"] for c in before["numa_cells"]] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert before["numa_cells"][0]["hugepages"] == [
        {"size_kib": 2048, "total": 256, "free": 256, "claimed": 0}
    ]
    assert "hugepages" not in before["traits"]  # the fake reports traits itself
    for bad, word in [
        ({"cpu_dedicated_set": "4-9"}, "CPU 8-9 is not on this host"),
        ({"cpu_dedicated_set": "4-7", "cpu_shared_set": "3-4"}, "overlap on CPU 4"),
        ({"cpu_dedicated_set": "7-4"}, "goes backwards"),
        ({"cpu_dedicated_set": "4;7"}, ""),  # the schema's pattern
    ]:
        r = api.client.patch(f"/v1/hosts/{api.a_id}", json=bad)
        assert r.status_code == 422 and word in r.text, r.text
    assert api.host()["cpu_dedicated_set"] is None  # nothing changed
    after = api.split(200, cpu_dedicated_set="4-7,^6", cpu_shared_set="0-3")
    assert (after["cpu_dedicated_set"], after["cpu_shared_set"]) == ("4-7,^6", "0-3")
    # The vCPU capacity (at the pool's ratio) is the CPUs outside the dedicated set: 5 of 8.
    ratio = before["capacity"]["vcpus"] / 8
    assert after["capacity"]["vcpus"] == pytest.approx(ratio * 5)


def test_dedicated_vm_is_pinned_refused_when_full_and_freed_at_delete(api: Api) -> None:
    api.split(200, cpu_dedicated_set="4-7")
    allocated = api.host()["allocated"]["vcpus"]
    vm = api.create("pinned", cpu_policy="dedicated")
    assert vm["cpu_policy"] == "dedicated"
    assert api.pins() == [(vm["id"], 0, 4, 1), (vm["id"], 1, 5, 1)]
    spec = api.a.get_domain(vm["uuid"]).spec
    assert spec is not None
    assert (spec.vcpu_pins, spec.emulator_cpus, spec.numa_cells) == ((4, 5), (0, 1, 2, 3), (1,))
    host = api.host()
    assert host["pinned_cpus"] == [4, 5]
    assert host["allocated"]["vcpus"] == allocated  # not counted twice (PCPU apart from VCPU)

    refused = api.create("second", 409, cpu_policy="dedicated", vcpus=3)
    assert "3 dedicated CPUs needed, 2 of 4 free" in str(refused)
    body = {"name": "b1", "vcpus": 1, "memory_mib": 128, "hosts": ["b"], "cpu_policy": "dedicated"}
    on_b = api.client.post("/v1/vms", json=body)
    assert on_b.status_code == 409 and "cpu_dedicated_set is not set" in on_b.text

    moved = api.split(409, cpu_dedicated_set="6-7")  # 4 and 5 are held
    assert "CPU 4-5 is pinned to a dedicated VM" in str(moved)
    api.split(200, cpu_dedicated_set="4-7", cpu_shared_set="0-2")  # a pinned CPU stays: fine

    grow = api.client.patch(f"/v1/vms/{vm['id']}", json={"vcpus": 3})
    assert grow.status_code == 409 and "vCPUs cannot change live" in grow.text
    move = api.client.post(f"/v1/vms/{vm['id']}/migrate", json={})
    # It moves live now (test_pinmigrate_fake.py), but b has no dedicated CPUs.
    assert move.status_code == 409 and "cpu_dedicated_set is not set" in move.text
    growable = api.client.post("/v1/vms", json={"name": "g", "vcpus": 1, "memory_mib": 128,
                               "max_vcpus": 2, "cpu_policy": "dedicated"})  # fmt: skip
    assert growable.status_code == 422 and "max_vcpus" in growable.text

    assert api.client.delete(f"/v1/vms/{vm['id']}").status_code in (200, 202, 204)
    assert api.pins() == []
    assert api.host()["pinned_cpus"] == []


def test_huge_pages_are_claimed_per_cell_and_refused_with_the_reason(api: Api) -> None:
    api.split(200, cpu_dedicated_set="4-7")
    vm = api.create("big", memory_mib=512, hugepages="2M")  # shared CPUs: the host's total
    spec = api.a.get_domain(vm["uuid"]).spec
    assert spec is not None and spec.hugepage_kib == 2048 and spec.vcpu_pins == ()
    pinned = api.create("pinned", memory_mib=256, hugepages="2M", cpu_policy="dedicated")
    spec = api.a.get_domain(pinned["uuid"]).spec
    assert spec is not None and (spec.hugepage_kib, spec.numa_cells) == (2048, (1,))
    # 1024 MiB of pages, 768 claimed: the unbound VM's 512 MiB may sit on either cell, so
    # only the host's total counts them; the pinned VM's 256 MiB are cell 1's.
    no_room = api.create("more", 409, memory_mib=512, hugepages="2M")
    assert "512 MiB of 2M huge pages needed, 256 MiB free" in str(no_room)
    no_1g = api.create("giant", 409, memory_mib=1024, hugepages="1G")
    assert "no 1G huge pages" in str(no_1g)
    odd = api.create("odd", 422, memory_mib=1000, hugepages="1G")
    assert "whole number of 1G huge pages" in str(odd)
    shrink = api.client.patch(f"/v1/vms/{vm['id']}", json={"memory_mib": 256})
    assert shrink.status_code == 409 and "huge pages" in shrink.text
    api.create("fits", memory_mib=256, hugepages="2M")  # exactly what is left
