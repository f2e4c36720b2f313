"""Hot-plug and resize (issue 15) through the API on fake hosts, on SQLite and PostgreSQL:
the maxima set at create, the claim that follows a growth at once and a shrink once the host
confirmed it, refusals (capacity with placement's per-filter explanation, quota, bad input,
a VM in transition) that change nothing, and a host failure that gives the claim back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.fake_hypervisor import FakeHost
from tests.support.fake_world import fake_runtime, wait_until
from vmpool.api.app import create_app
from vmpool.errors import HypervisorFailure, HypervisorOperationInvalid
from vmpool.services import hosts
from vmpool.services.tokens import Role, create_token
from vmpool.wiring import Runtime


@dataclass
class Api:
    runtime: Runtime
    client: TestClient
    a: FakeHost
    b: FakeHost
    a_id: int
    b_id: int

    def create(self, name: str, **extra: Any) -> dict[str, Any]:
        body = {"name": name, "vcpus": 1, "memory_mib": 1024, "hosts": ["a"], **extra}
        r = self.client.post("/v1/vms", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def vm(self, vm_id: int) -> dict[str, Any]:
        return dict(self.client.get(f"/v1/vms/{vm_id}").json())

    def allocated(self, host_id: int) -> dict[str, float]:
        return dict(self.client.get(f"/v1/hosts/{host_id}").json()["allocated"])

    def domain(self, vm: dict[str, Any]) -> tuple[int, int]:
        dom = self.a.get_domain(vm["uuid"])
        return dom.vcpus, dom.memory_mib


@pytest.fixture
def api(migrated_url: str, tmp_path: Path) -> Iterator[Api]:
    with fake_runtime(tmp_path, migrated_url, migration_poll_s=0.02) as (runtime, cloud):
        ids = []
        fakes = []
        for name in ("a", "b"):
            uri = f"qemu+tls://{name}.example/system"
            fakes.append(cloud.add_host(uri, hostname=f"{name}.example", cpus=8, memory_mib=16384))
            ids.append(hosts.register_host(runtime.ctx, uri, name).id)
        client = TestClient(create_app(runtime.ctx), raise_server_exceptions=False)
        client.headers["Authorization"] = f"Bearer {create_token(runtime.ctx, Role.ADMIN, 'admin')}"
        yield Api(runtime, client, fakes[0], fakes[1], ids[0], ids[1])
        client.close()


def test_maxima_are_set_at_create_and_shown(api: Api) -> None:
    plain = api.create("plain")
    assert (plain["max_vcpus"], plain["max_memory_mib"]) == (1, 1024)
    vm = api.create("elastic", max_vcpus=4, max_memory_mib=4096)
    assert (vm["vcpus"], vm["memory_mib"], vm["max_vcpus"], vm["max_memory_mib"]) == (
        1, 1024, 4, 4096,
    )  # fmt: skip
    spec = api.a.get_domain(vm["uuid"]).spec
    assert spec is not None and (spec.max_vcpus, spec.max_memory_mib) == (4, 4096)
    # Placement counts the current sizes: 1 vCPU and 1024 MiB each, not the maxima.
    assert api.allocated(api.a_id)["vcpus"] == 2.0
    assert api.allocated(api.a_id)["memory_mib"] == 2048.0


@pytest.mark.parametrize(
    "extra",
    [
        {"max_vcpus": 0},
        {"max_vcpus": 513},
        {"max_vcpus": "4"},
        {"max_vcpus": 2.5},
        {"max_vcpus": True},
        {"vcpus": 2, "max_vcpus": 1},  # below the initial size
        {"max_memory_mib": 512},  # below memory_mib
        {"max_memory_mib": 2**40},
        {"max_memory_mib": -1},
    ],
)
def test_bad_maxima_are_refused_and_create_nothing(api: Api, extra: dict[str, Any]) -> None:
    body = {"name": "bad", "vcpus": 1, "memory_mib": 1024, **extra}
    r = api.client.post("/v1/vms", json=body)
    assert r.status_code == 422, r.text
    assert api.client.get("/v1/vms").json()["items"] == []
    assert api.a.domains == {} and api.b.domains == {}


def test_growth_is_claimed_and_a_shrink_frees_it_once_confirmed(api: Api) -> None:
    vm = api.create("web", max_vcpus=4, max_memory_mib=4096)
    url = f"/v1/vms/{vm['id']}"

    r = api.client.patch(url, json={"vcpus": 3, "memory_mib": 3072})
    assert r.status_code == 200, r.text
    assert (r.json()["vcpus"], r.json()["memory_mib"], r.json()["state"]) == (3, 3072, "running")
    assert api.domain(vm) == (3, 3072)
    assert api.allocated(api.a_id)["vcpus"] == 3.0
    assert api.allocated(api.a_id)["memory_mib"] == 3072.0

    r = api.client.patch(url, json={"vcpus": 2})  # memory stays
    assert r.status_code == 200, r.text
    assert (r.json()["vcpus"], r.json()["memory_mib"]) == (2, 3072)
    assert api.domain(vm) == (2, 3072)

    r = api.client.patch(url, json={"memory_mib": 512})
    assert r.status_code == 200, r.text
    assert api.allocated(api.a_id) == {"vcpus": 2.0, "memory_mib": 512.0, "disk_gib": 0.0}
    assert api.domain(vm) == (2, 512)
    assert api.a.calls.count("set_vcpus") == 2 and api.a.calls.count("set_memory") == 2

    # The audit trail holds the intent and the outcome of each.
    kinds = [e["kind"] for e in api.client.get("/v1/events?limit=100").json()["items"]]
    assert kinds.count("vm.resize") == 3 and kinds.count("vm.resized") == 3


def test_a_shrink_the_guest_does_not_confirm_keeps_the_larger_claim(api: Api) -> None:
    vm = api.create("tight", memory_mib=2048, max_memory_mib=2048)
    url = f"/v1/vms/{vm['id']}"
    api.a.guest_keeps_memory = True
    r = api.client.patch(url, json={"memory_mib": 1024})
    assert r.status_code == 409, r.text
    assert "PATCH again" in r.json()["error"]["message"]
    after = api.vm(vm["id"])
    assert (after["memory_mib"], after["state"]) == (2048, "running")
    assert "still has 2048 MiB" in after["last_error"]
    assert api.allocated(api.a_id)["memory_mib"] == 2048.0
    # The guest gives it back: the same PATCH confirms it, and frees the claim.
    api.a.guest_keeps_memory = False
    r = api.client.patch(url, json={"memory_mib": 1024})
    assert r.status_code == 200, r.text
    assert api.allocated(api.a_id)["memory_mib"] == 1024.0
    assert api.vm(vm["id"])["last_error"] is None


def test_an_overcommitting_growth_is_refused_per_filter_and_changes_nothing(api: Api) -> None:
    # a: 8 CPUs x 4.0 = 32 vCPUs; 16384 - 512 reserved = 15872 MiB.
    big = api.create("big", vcpus=30, memory_mib=8192, max_vcpus=40, max_memory_mib=16000)
    before_alloc = api.allocated(api.a_id)
    for body, what in [
        ({"vcpus": 33}, "not enough vCPUs"),
        ({"memory_mib": 16000}, "not enough memory"),
    ]:
        r = api.client.patch(f"/v1/vms/{big['id']}", json=body)
        assert r.status_code == 409, r.text
        err = r.json()["error"]
        assert err["code"] == "no_capacity"
        assert "cannot grow" in err["message"] and "its host a" in err["message"]
        assert what in err["message"]
        filters = {x["filter"]: x for x in err["details"]["rejections"]}
        assert filters["capacity"]["hosts"] == 1  # only its own host is asked, never b
        assert "requested_hosts" in filters
    assert api.allocated(api.a_id) == before_alloc
    after = api.vm(big["id"])
    assert (after["vcpus"], after["memory_mib"], after["state"]) == (30, 8192, "running")
    assert api.domain(big) == (30, 8192)
    assert "set_vcpus" not in api.a.calls and "set_memory" not in api.a.calls
    kinds = {e["kind"] for e in api.client.get("/v1/events?limit=1000").json()["items"]}
    assert "vm.resize" not in kinds  # no intent was recorded (the refused calls are audited)


def test_a_growth_beyond_the_projects_quota_is_refused(api: Api) -> None:
    r = api.client.post("/v1/projects", json={"name": "team", "quota_vcpus": 3})
    assert r.status_code == 201, r.text
    project = r.json()["id"]
    vm = api.create("q", project_id=project, max_vcpus=4)
    r = api.client.patch(f"/v1/vms/{vm['id']}", json={"vcpus": 4})
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "quota_exceeded" and err["details"]["quota"] == "vcpus"
    assert api.vm(vm["id"])["vcpus"] == 1 and api.domain(vm) == (1, 1024)
    r = api.client.patch(f"/v1/vms/{vm['id']}", json={"vcpus": 3})  # within it: fine
    assert r.status_code == 200 and r.json()["vcpus"] == 3, r.text


@pytest.mark.parametrize(
    "body",
    [
        {"vcpus": 0},
        {"vcpus": -1},
        {"vcpus": 5},  # above max_vcpus
        {"vcpus": 10**12},
        {"memory_mib": 4097},  # above max_memory_mib
        {"memory_mib": 8},  # below the smallest memory
        {"memory_mib": -1024},
        {"memory_mib": 2**63},
        {"vcpus": "2"},
        {"vcpus": 2.5},
        {"vcpus": True},
        {"memory_mib": [1024]},
        {"vcpus": 2, "name": "renamed"},  # not a field a PATCH sets
        {},
        {"vcpus": None, "memory_mib": None},
    ],
)
def test_bad_sizes_are_refused_and_change_nothing(api: Api, body: dict[str, Any]) -> None:
    vm = api.create("web", max_vcpus=4, max_memory_mib=4096)
    r = api.client.patch(f"/v1/vms/{vm['id']}", json=body)
    assert r.status_code == 422, r.text
    after = api.vm(vm["id"])
    assert (after["vcpus"], after["memory_mib"], after["state"]) == (1, 1024, "running")
    assert api.domain(vm) == (1, 1024)
    assert "set_vcpus" not in api.a.calls and "set_memory" not in api.a.calls


def test_unknown_vm_and_non_json_are_refused(api: Api) -> None:
    assert api.client.patch("/v1/vms/999999", json={"vcpus": 2}).status_code == 404
    assert api.client.patch("/v1/vms/0", json={"vcpus": 2}).status_code == 404  # no such id
    r = api.client.patch("/v1/vms/1", content=b"<vcpus>2</vcpus>",
                         headers={"Content-Type": "application/xml"})  # fmt: skip
    assert r.status_code in (415, 422), r.text


def test_a_host_failure_gives_the_growth_back(api: Api) -> None:
    vm = api.create("web", max_vcpus=4, max_memory_mib=4096)
    api.a.fail_next("set_vcpus", HypervisorFailure("unsupported: vcpu hotplug", uri="a"))
    r = api.client.patch(f"/v1/vms/{vm['id']}", json={"vcpus": 4, "memory_mib": 4096})
    assert r.status_code == 502, r.text
    assert "vcpu hotplug" in r.json()["error"]["message"]
    after = api.vm(vm["id"])
    assert (after["vcpus"], after["memory_mib"], after["state"]) == (1, 1024, "running")
    assert "resize failed" in after["last_error"]
    assert api.allocated(api.a_id)["vcpus"] == 1.0
    assert api.allocated(api.a_id)["memory_mib"] == 1024.0
    assert "set_memory" not in api.a.calls  # stopped at the first failure

    # vCPUs done, memory failed: the vCPUs stay, the memory's claim goes back.
    api.a.fail_next("set_memory")
    r = api.client.patch(f"/v1/vms/{vm['id']}", json={"vcpus": 2, "memory_mib": 2048})
    assert r.status_code == 502, r.text
    after = api.vm(vm["id"])
    assert (after["vcpus"], after["memory_mib"]) == (2, 1024)
    assert api.domain(vm) == (2, 1024)
    assert api.allocated(api.a_id)["memory_mib"] == 1024.0


def test_a_stopped_vm_changes_its_definition_only(api: Api) -> None:
    vm = api.create("cold", max_vcpus=4, max_memory_mib=4096)
    assert api.client.post(f"/v1/vms/{vm['id']}/stop").status_code == 200
    r = api.client.patch(f"/v1/vms/{vm['id']}", json={"vcpus": 4, "memory_mib": 256})
    assert r.status_code == 200, r.text
    assert (r.json()["vcpus"], r.json()["memory_mib"], r.json()["state"]) == (4, 256, "stopped")
    assert api.a.state_of(vm["uuid"]) == "stopped" and api.domain(vm) == (4, 256)
    assert api.allocated(api.a_id)["vcpus"] == 4.0  # a stopped VM keeps its claim


def test_a_vm_in_transition_is_not_resized(api: Api) -> None:
    vm = api.create("moving", max_vcpus=4)
    api.a.hold_migrations()
    r = api.client.post(f"/v1/vms/{vm['id']}/migrate", json={"target_host_id": api.b_id})
    assert r.status_code == 202, r.text
    wait_until(lambda: api.vm(vm["id"])["state"] == "migrating", "the migration to start")
    r = api.client.patch(f"/v1/vms/{vm['id']}", json={"vcpus": 2})
    assert r.status_code == 409, r.text
    assert (
        r.json()["error"]["code"] == "invalid_state" and "migrating" in r.json()["error"]["message"]
    )
    api.a.release_migrations()
    wait_until(lambda: api.vm(vm["id"])["state"] == "running", "the migration to end")
    assert api.vm(vm["id"])["vcpus"] == 1
    # On its new host, it still grows up to its maximum (the definition moved with it).
    r = api.client.patch(f"/v1/vms/{vm['id']}", json={"vcpus": 4})
    assert r.status_code == 200, r.text
    assert api.b.get_domain(vm["uuid"]).vcpus == 4
    assert api.allocated(api.b_id)["vcpus"] == 4.0 and api.allocated(api.a_id)["vcpus"] == 0.0


def test_an_unplug_the_guest_does_not_complete_keeps_the_claim(api: Api) -> None:
    vm = api.create("slow", vcpus=2, max_vcpus=2)
    api.a.fail_next("set_vcpus", HypervisorOperationInvalid(
        "the guest still runs 2 vCPUs, not 1", uri="a", live_vcpus=2))  # fmt: skip
    r = api.client.patch(f"/v1/vms/{vm['id']}", json={"vcpus": 1})
    assert r.status_code == 409, r.text
    after = api.vm(vm["id"])
    assert (after["vcpus"], after["state"]) == (2, "running")
    assert api.allocated(api.a_id)["vcpus"] == 2.0
