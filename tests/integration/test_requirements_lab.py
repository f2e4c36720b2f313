"""A VM's placement requirements are kept after create (issue 9): migration, evacuation and
rebalance never put it on a host it could not have been created on."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.conftest import Vmpool
from vmpool.lab.hosts import LabHost

pytestmark = pytest.mark.lab

TRAIT = "gpu:a1"


def _wait(vp: Vmpool, migration_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        m: dict[str, Any] = vp.client.get(f"/v1/migrations/{migration_id}").json()
        if m["state"] in ("completed", "failed", "cancelled"):
            return m
        time.sleep(0.3)
    raise AssertionError(f"migration {migration_id} did not finish")


def test_a_vm_needing_a_trait_only_ever_moves_between_hosts_that_have_it(
    vmpool_sqlite: Vmpool, lab: list[LabHost]
) -> None:
    vp = vmpool_sqlite
    hosts = [vp.register(h) for h in lab]
    for h in hosts[:2]:
        r = vp.client.patch(f"/v1/hosts/{h['id']}", json={"operator_traits": [TRAIT]})
        assert r.status_code == 200, r.text
    plain = hosts[2]
    r = vp.client.post("/v1/vms", json={"name": "needs-gpu", "vcpus": 2, "memory_mib": 64,
                                        "traits": [TRAIT], "kvm_only": False})  # fmt: skip
    assert r.status_code == 201, r.text
    vm = r.json()
    assert vm["host_id"] != plain["id"]

    # An explicit move to the host without the trait: refused, naming the filter.
    r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={"target_host_id": plain["id"]})
    assert r.status_code == 409, r.text
    assert f"lack trait {TRAIT}" in r.json()["error"]["message"]
    assert vp.client.get("/v1/vms", params={"state": "migrating"}).status_code == 200

    # Placement chooses: the other host with the trait, though the plain one is emptier.
    r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={})
    assert r.status_code == 202, r.text
    assert r.json()["target_host_id"] not in (plain["id"], vm["host_id"])
    assert _wait(vp, r.json()["id"])["state"] == "completed"
    here = vp.client.get(f"/v1/vms/{vm['id']}").json()["host_id"]

    # Evacuation of its host: onto the other host with the trait, never the plain one.
    r = vp.client.post(f"/v1/hosts/{here}/maintenance")
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 120
    while vp.client.get(f"/v1/vms/{vm['id']}").json()["host_id"] == here:
        assert time.monotonic() < deadline, "not evacuated"
        time.sleep(0.5)
    got = vp.client.get(f"/v1/vms/{vm['id']}").json()
    assert got["host_id"] not in (plain["id"], here), got
    assert vp.client.delete(f"/v1/hosts/{here}/maintenance").status_code == 200

    # Rebalance: load both hosts with the trait with VMs that cannot move, then plan. The
    # plain host is where the balance is best; a VM without requirements is planned there,
    # the one needing the trait is not.
    x = got["host_id"]
    names = {h["id"]: h["name"] for h in hosts}
    for name, host_id in (("pin-x", x), ("pin-h", here)):
        body = {"name": name, "vcpus": 4, "memory_mib": 64, "migratable": False}
        r = vp.client.post("/v1/vms", json={**body, "hosts": [names[host_id]]})
        assert r.status_code == 201, r.text
    # `hosts` picks the first host only: free-1 may go anywhere afterwards.
    r = vp.client.post("/v1/vms", json={"name": "free-1", "vcpus": 2, "memory_mib": 64,
                                        "hosts": [names[x]]})  # fmt: skip
    assert r.status_code == 201, r.text
    r = vp.client.post("/v1/pools/1/plans", json={"dry_run": True, "max_moves": 5})
    assert r.status_code == 201, r.text
    steps = {s["vm_name"]: s["target_host"] for s in r.json()["steps"]}
    assert steps.get("free-1") == plain["name"], steps
    assert steps.get("needs-gpu") != plain["name"], steps
