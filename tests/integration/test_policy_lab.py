"""Allocation policy and placement through the API, on real lab hosts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Vmpool, domains_on
from vmpool.lab.hosts import LabHost

pytestmark = pytest.mark.lab


def _pool(vp: Vmpool, name: str, **policy: Any) -> dict[str, Any]:
    r = vp.client.post("/v1/pools", json={"name": name, **policy})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _hosts_in(vp: Vmpool, pool_id: int, lab: list[LabHost], n: int) -> list[dict[str, Any]]:
    out = []
    for h in lab[:n]:
        r = vp.client.post("/v1/hosts", json={**h.registration(), "pool_id": pool_id})
        assert r.status_code == 201, r.text
        out.append(r.json())
    return out


def _vm(vp: Vmpool, name: str, pool_id: int, **extra: Any) -> Any:
    return vp.client.post(
        "/v1/vms",
        json={"name": name, "vcpus": 1, "memory_mib": 64, "pool_id": pool_id, **extra},
    )


def test_pool_policy_crud_is_validated_and_audited(vmpool: Vmpool) -> None:
    c = vmpool.client
    pool = _pool(vmpool, "tight", cpu_allocation_ratio=1.0, strategy="pack")
    assert pool["cpu_allocation_ratio"] == 1.0 and pool["ram_allocation_ratio"] == 1.0
    assert pool["strategy"] == "pack" and pool["reserved_memory_mib"] == 512
    r = c.patch(f"/v1/pools/{pool['id']}", json={"cpu_allocation_ratio": 2.0, "reserved_vcpus": 1})
    assert r.status_code == 200 and r.json()["cpu_allocation_ratio"] == 2.0
    events = c.get("/v1/events", params={"kind": "pool.updated"}).json()["items"]
    assert events[0]["actor"] == "test-admin"
    assert events[0]["details"]["before"]["cpu_allocation_ratio"] == 1.0
    assert events[0]["details"]["after"] == {"cpu_allocation_ratio": 2.0, "reserved_vcpus": 1}
    for bad in [{"cpu_allocation_ratio": 0}, {"cpu_allocation_ratio": -1},
                {"ram_allocation_ratio": 1000}, {"strategy": "random"}, {"reserved_vcpus": -2},
                {"unknown": 1}]:  # fmt: skip
        assert c.patch(f"/v1/pools/{pool['id']}", json=bad).status_code == 422, bad
    assert c.post("/v1/pools", json={"name": "tight"}).status_code == 409
    assert c.post("/v1/pools", json={"name": "Bad Name"}).status_code == 422
    assert c.get(f"/v1/pools/{pool['id']}").json()["cpu_allocation_ratio"] == 2.0
    default = c.get("/v1/pools").json()["items"][0]
    assert c.delete(f"/v1/pools/{default['id']}").status_code == 409
    assert c.delete(f"/v1/pools/{pool['id']}").status_code == 204


def test_ratios_reservations_and_overrides_bound_placement(
    vmpool_sqlite: Vmpool, lab: list[LabHost]
) -> None:
    vp = vmpool_sqlite
    pool = _pool(vp, "ratio-one", cpu_allocation_ratio=1.0, reserved_vcpus=0)
    (h,) = _hosts_in(vp, pool["id"], lab, 1)
    cpus = h["cpus"]
    assert h["capacity"]["vcpus"] == cpus * 1.0
    for i in range(cpus):
        assert _vm(vp, f"r-{i}", pool["id"]).status_code == 201
    r = _vm(vp, "r-over", pool["id"])
    assert r.status_code == 409
    assert "1 host: not enough vCPUs (need 1, best has 0 free)" in r.json()["error"]["message"]
    assert "r-over" not in domains_on(lab[0])
    # A per-host override of the ratio makes room; clearing it takes the room away again.
    r = vp.client.patch(f"/v1/hosts/{h['id']}", json={"cpu_allocation_ratio": 2.0})
    assert r.status_code == 200 and r.json()["capacity"]["vcpus"] == cpus * 2.0
    assert _vm(vp, "r-over", pool["id"]).status_code == 201
    vp.client.patch(f"/v1/hosts/{h['id']}", json={"cpu_allocation_ratio": None})
    assert _vm(vp, "r-over-2", pool["id"]).status_code == 409
    # Reserving (almost) all memory for the host leaves none for VMs.
    mem = h["memory_mib"]
    vp.client.patch(f"/v1/hosts/{h['id']}", json={"cpu_allocation_ratio": 8.0,
                                                  "reserved_memory_mib": mem - 100})  # fmt: skip
    r = _vm(vp, "r-mem", pool["id"])
    assert r.status_code == 409 and "not enough memory" in r.json()["error"]["message"]


def test_pack_and_spread(vmpool_sqlite: Vmpool, lab: list[LabHost]) -> None:
    vp = vmpool_sqlite
    pack = _pool(vp, "packed", strategy="pack")
    _hosts_in(vp, pack["id"], lab, 2)
    hosts = {_vm(vp, f"p-{i}", pack["id"]).json()["host_name"] for i in range(3)}
    assert hosts == {lab[0].name}  # tie broken by name, then the fullest host
    vp.client.patch(f"/v1/pools/{pack['id']}", json={"strategy": "spread"})
    assert _vm(vp, "s-1", pack["id"]).json()["host_name"] == lab[1].name


def test_filters_traits_hosts_state_and_kvm(vmpool_sqlite: Vmpool, lab: list[LabHost]) -> None:
    vp = vmpool_sqlite
    pool = _pool(vp, "filters")
    h1, h2, h3 = _hosts_in(vp, pool["id"], lab, 3)
    r = vp.client.patch(f"/v1/hosts/{h2['id']}", json={"operator_traits": ["gpu:a100"]})
    assert "gpu:a100" in r.json()["traits"]
    assert _vm(vp, "t-gpu", pool["id"], traits=["gpu:a100"]).json()["host_name"] == lab[1].name
    r = _vm(vp, "t-sgx", pool["id"], traits=["sgx", "gpu:a100"])
    assert r.status_code == 409
    assert "lack trait" in r.json()["error"]["message"]
    assert (
        vp.client.patch(
            f"/v1/hosts/{h2['id']}", json={"operator_traits": ["Bad Trait"]}
        ).status_code
        == 422
    )
    assert _vm(vp, "t-pin", pool["id"], hosts=[lab[2].name]).json()["host_name"] == lab[2].name
    assert _vm(vp, "t-nohost", pool["id"], hosts=["no-such-host"]).status_code == 409
    # A host in maintenance is never chosen.
    with vp.ctx.uow() as uow:
        uow.hosts.get(h3["id"]).state = "maintenance"
        uow.commit()
    r = _vm(vp, "t-maint", pool["id"], hosts=[lab[2].name])
    assert r.status_code == 409 and "1 host: in maintenance" in r.json()["error"]["message"]
    # kvm_only: a host without KVM is filtered out; with KVM the domain is a kvm domain.
    r = _vm(vp, "t-kvm", pool["id"], kvm_only=True)
    if "kvm" in h1["domain_types"]:
        assert r.status_code == 201, r.text
        assert r.json()["domain_type"] == "kvm"
    else:
        assert r.status_code == 409 and "cannot run kvm domains" in r.json()["error"]["message"]
    assert _vm(vp, "t-arm", pool["id"], arch="aarch64").status_code == 409


def test_hard_and_soft_anti_affinity(vmpool_sqlite: Vmpool, lab: list[LabHost]) -> None:
    vp = vmpool_sqlite
    pool = _pool(vp, "groups", strategy="pack")  # pack would put them all together
    _hosts_in(vp, pool["id"], lab, 3)
    spec = {"name": "web", "policy": "anti-affinity", "hard": True, "pool_id": pool["id"]}
    g = vp.client.post("/v1/placement-groups", json=spec)
    assert g.status_code == 201
    placed = [_vm(vp, f"web-{i}", pool["id"], placement_group="web").json() for i in range(3)]
    assert len({v["host_name"] for v in placed}) == 3
    r = _vm(vp, "web-3", pool["id"], placement_group="web")
    assert r.status_code == 409
    assert "3 hosts: anti-affinity with vm web-0, web-1, web-2" in r.json()["error"]["message"]
    members = vp.client.get(f"/v1/placement-groups/{g.json()['id']}").json()["members"]
    assert sorted(members) == sorted(h.name for h in lab[:3])
    assert vp.client.delete(f"/v1/placement-groups/{g.json()['id']}").status_code == 409

    vp.client.post("/v1/placement-groups", json={"name": "soft", "policy": "anti-affinity",
                                                 "hard": False, "pool_id": pool["id"]})  # fmt: skip
    soft = [_vm(vp, f"soft-{i}", pool["id"], placement_group="soft") for i in range(4)]
    assert all(r.status_code == 201 for r in soft)
    assert len({r.json()["host_name"] for r in soft[:3]}) == 3  # spread while it can
    assert _vm(vp, "x", pool["id"], placement_group="nope").status_code == 404


def test_hard_affinity_keeps_a_group_together(vmpool_sqlite: Vmpool, lab: list[LabHost]) -> None:
    vp = vmpool_sqlite
    pool = _pool(vp, "together")  # spread would scatter them
    _hosts_in(vp, pool["id"], lab, 2)
    vp.client.post("/v1/placement-groups", json={"name": "db", "policy": "affinity",
                                                 "hard": True, "pool_id": pool["id"]})  # fmt: skip
    hosts = {_vm(vp, f"db-{i}", pool["id"], placement_group="db").json()["host_name"]
             for i in range(3)}  # fmt: skip
    assert len(hosts) == 1


def test_guaranteed_vms_count_at_ratio_one(vmpool_sqlite: Vmpool, lab: list[LabHost]) -> None:
    vp = vmpool_sqlite
    pool = _pool(vp, "dedicated", cpu_allocation_ratio=4.0, reserved_vcpus=0)
    (h,) = _hosts_in(vp, pool["id"], lab, 1)
    cpus = h["cpus"]
    r = vp.client.post("/v1/vms", json={"name": "db-1", "vcpus": cpus, "memory_mib": 64,
                                        "pool_id": pool["id"], "guaranteed": True})  # fmt: skip
    assert r.status_code == 201 and r.json()["guaranteed"] is True
    host = vp.client.get(f"/v1/hosts/{h['id']}").json()
    assert host["allocated"]["vcpus"] == host["capacity"]["vcpus"]  # all physical CPUs taken
    r = _vm(vp, "shared-1", pool["id"])
    assert r.status_code == 409 and "not enough vCPUs" in r.json()["error"]["message"]


def test_capacity_endpoint(vmpool: Vmpool, lab: list[LabHost]) -> None:
    vp = vmpool
    pool = _pool(vp, "cap", cpu_allocation_ratio=2.0, reserved_vcpus=0)
    h1, _ = _hosts_in(vp, pool["id"], lab, 2)
    per_host = h1["cpus"] * 2
    r = vp.client.get(f"/v1/pools/{pool['id']}/capacity", params={"vcpus": 1, "memory_mib": 64})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2 * per_host
    assert {x["host"]: x["count"] for x in body["per_host"]} == {
        lab[0].name: per_host,
        lab[1].name: per_host,
    }
    _vm(vp, "c-1", pool["id"])
    after = vp.client.get(f"/v1/pools/{pool['id']}/capacity",
                          params={"vcpus": 1, "memory_mib": 64}).json()  # fmt: skip
    assert after["total"] == 2 * per_host - 1
    bad = vp.client.get(f"/v1/pools/{pool['id']}/capacity", params={"vcpus": 0, "memory_mib": 64})
    assert bad.status_code == 422
    assert (
        vp.client.get("/v1/pools/999/capacity", params={"vcpus": 1, "memory_mib": 64}).status_code
        == 404
    )
