"""Regression tests for what the outside probe found (issue 17), on SQLite and PostgreSQL.

Each answered 500, or broke the API's own contract. The host here is libvirt's test
driver (`allow_test_driver`), so these run without lab hosts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import Vmpool, make_vmpool
from tests.support.rows import add_host, add_migration, add_vm
from vmpool.api.schemas import MAX_ID

HUGE = 2**63  # past SQLite's INTEGER and PostgreSQL's BIGINT
JUST_PAST = MAX_ID + 1  # past PostgreSQL's INTEGER


@pytest.fixture
def vp(migrated_url: str, tmp_path: Path) -> Iterator[Vmpool]:
    yield from make_vmpool(migrated_url, tmp_path, allow_test_driver=True)


def _host(vp: Vmpool) -> int:
    r = vp.client.post("/v1/hosts", json={"uri": "test:///default", "name": None})
    assert r.status_code == 201, r.text  # "name": null means "take the host's"
    return int(r.json()["id"])


PATH_ROUTES = [
    ("GET", "/v1/hosts/{}"),
    ("DELETE", "/v1/hosts/{}"),
    ("PATCH", "/v1/hosts/{}"),
    ("POST", "/v1/hosts/{}/maintenance"),
    ("DELETE", "/v1/hosts/{}/maintenance"),
    ("GET", "/v1/hosts/{}/metrics"),
    ("GET", "/v1/vms/{}"),
    ("DELETE", "/v1/vms/{}"),
    ("POST", "/v1/vms/{}/start"),
    ("POST", "/v1/vms/{}/shutdown"),
    ("POST", "/v1/vms/{}/stop"),
    ("POST", "/v1/vms/{}/reboot"),
    ("POST", "/v1/vms/{}/migrate"),
    ("GET", "/v1/vms/{}/metrics"),
    ("GET", "/v1/migrations/{}"),
    ("POST", "/v1/migrations/{}/cancel"),
    ("GET", "/v1/pools/{}"),
    ("PATCH", "/v1/pools/{}"),
    ("DELETE", "/v1/pools/{}"),
    ("GET", "/v1/pools/{}/capacity?vcpus=1&memory_mib=64"),
    ("GET", "/v1/pools/{}/score"),
    ("GET", "/v1/pools/{}/plans"),
    ("POST", "/v1/pools/{}/plans"),
    ("GET", "/v1/plans/{}"),
    ("POST", "/v1/plans/{}/approve"),
    ("POST", "/v1/plans/{}/cancel"),
    ("GET", "/v1/placement-groups/{}"),
    ("DELETE", "/v1/placement-groups/{}"),
]


def test_ids_out_of_range_are_404_in_the_path_and_422_in_a_query(vp: Vmpool) -> None:
    for method, template in PATH_ROUTES:
        for bad in (HUGE, JUST_PAST, -HUGE, 0, "null", "1.5"):
            json = {} if method in ("POST", "PATCH") else None
            r = vp.client.request(method, template.format(bad), json=json)
            assert r.status_code == 404, (method, template, bad, r.text)
            assert r.json()["error"]["code"] == "not_found"
    for query in (
        f"/v1/vms?after={HUGE}",
        f"/v1/vms?host_id={HUGE}",
        f"/v1/vms?pool_id={JUST_PAST}",
        f"/v1/migrations?after={HUGE}",
        f"/v1/migrations?vm_id={HUGE}",
        f"/v1/migrations?host_id={JUST_PAST}",
        f"/v1/hosts?pool_id={HUGE}",
        f"/v1/pools/1/plans?before={HUGE}",
    ):
        r = vp.client.get(query)
        assert r.status_code == 422, (query, r.text)
    for body in ({"target_host_id": HUGE},):
        r = vp.client.post("/v1/vms/1/migrate", json=body)
        assert r.status_code == 422, r.text
    r = vp.client.post("/v1/vms", json={"name": "a", "vcpus": 1, "memory_mib": 64, "pool_id": HUGE})
    assert r.status_code == 422, r.text


def test_ratios_outside_their_range_are_refused_and_the_score_stays_finite(vp: Vmpool) -> None:
    host_id = _host(vp)
    for ratio in (5e-324, 0.0, -1.0, 0.09, 100.5, 1e308):
        for field in ("cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio"):
            r = vp.client.post("/v1/pools", json={"name": "p1", field: ratio})
            assert r.status_code == 422, (field, ratio, r.text)
            assert vp.client.patch("/v1/pools/1", json={field: ratio}).status_code == 422
            assert vp.client.patch(f"/v1/hosts/{host_id}", json={field: ratio}).status_code == 422
    # The extremes that are allowed, with reservations larger than the host.
    r = vp.client.patch(
        "/v1/pools/1",
        json={"cpu_allocation_ratio": 0.1, "ram_allocation_ratio": 100, "reserved_vcpus": 10**6},
    )
    assert r.status_code == 200, r.text
    r = vp.client.patch(f"/v1/hosts/{host_id}", json={"reserved_memory_mib": 10**9})
    assert r.status_code == 200, r.text
    score = vp.client.get("/v1/pools/1/score")
    assert score.status_code == 200, score.text
    assert score.json()["score"] >= 0
    assert vp.client.get("/v1/pools/1/capacity?vcpus=1&memory_mib=64").json()["total"] == 0
    r = vp.client.post("/v1/pools/1/plans", json={"dry_run": True})
    assert r.status_code == 201, r.text


def test_json_types_are_taken_as_the_schema_states_them(vp: Vmpool) -> None:
    for body in (
        {"name": "g1", "policy": "affinity", "hard": 0},
        {"name": "g1", "policy": "affinity", "hard": "true"},
        {"name": "g1", "policy": "sideways", "hard": True},
    ):
        r = vp.client.post("/v1/placement-groups", json=body)
        assert r.status_code == 422, (body, r.text)
    for field, value in (("vcpus", True), ("vcpus", "2"), ("memory_mib", 64.5), ("kvm_only", 1)):
        body = {"name": "vm-1", "vcpus": 1, "memory_mib": 64, field: value}
        r = vp.client.post("/v1/vms", json=body)
        assert r.status_code == 422, (body, r.text)
    r = vp.client.patch("/v1/pools/1", json={"rebalance_max_moves": False})
    assert r.status_code == 422, r.text
    # An integral number is an integer, as in JSON Schema.
    r = vp.client.patch("/v1/pools/1", json={"rebalance_max_moves": 3.0})
    assert r.status_code == 200 and r.json()["rebalance_max_moves"] == 3, r.text


def test_bodies_must_be_utf8_json(vp: Vmpool) -> None:
    text = '{"name": "g2", "policy": "affinity", "hard": true}'
    for raw in (
        b"\xef\xbb\xbf" + text.encode(),
        text.encode("utf-16"),
        text.encode("utf-16-le"),
        text.encode("utf-32"),
        b'{"name": "\xff"}',
    ):
        r = vp.client.post(
            "/v1/placement-groups", content=raw, headers={"content-type": "application/json"}
        )
        assert r.status_code == 400, (raw[:8], r.text)
        assert r.json()["error"]["code"] == "malformed_json"
    r = vp.client.post(
        "/v1/placement-groups", content=text.encode(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 201, r.text


def test_oversized_chunked_body_is_413(vp: Vmpool) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(160):  # 10 MiB, no Content-Length
            yield b"x" * 65536
        yield b'"}'

    r = vp.client.post("/v1/vms", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "too_large"


def test_undeclared_methods_answer_405_with_every_allowed_method(vp: Vmpool) -> None:
    for method, path, allowed in (
        ("PUT", "/v1/hosts", "GET, POST"),
        ("TRACE", "/v1/hosts/1", "DELETE, GET, PATCH"),
        ("PATCH", "/v1/vms", "GET, POST"),
        ("OPTIONS", "/v1/pools/1", "DELETE, GET, PATCH"),
        ("GET", "/v1/vms/1/start", "POST"),
        ("DELETE", "/healthz", "GET"),
    ):
        r = vp.client.request(method, path)
        assert r.status_code == 405, (method, path, r.text)
        assert r.headers["allow"] == allowed, (method, path)
        assert r.json()["error"]["code"] == "method_not_allowed"


def test_pool_with_a_placement_group_is_not_deleted_409(vp: Vmpool) -> None:
    pool = vp.client.post("/v1/pools", json={"name": "p2"}).json()
    r = vp.client.post(
        "/v1/placement-groups",
        json={"name": "g3", "policy": "affinity", "hard": True, "pool_id": pool["id"]},
    )
    assert r.status_code == 201, r.text
    r = vp.client.delete(f"/v1/pools/{pool['id']}")
    assert r.status_code == 409, r.text
    assert r.json()["error"]["details"]["still_has"] == ["placement groups"]
    assert vp.client.delete(f"/v1/placement-groups/{r_id(vp, 'g3')}").status_code == 204
    assert vp.client.delete(f"/v1/pools/{pool['id']}").status_code == 204


def r_id(vp: Vmpool, group: str) -> int:
    items = vp.client.get("/v1/placement-groups").json()["items"]
    return int(next(g["id"] for g in items if g["name"] == group))


def test_plans_with_no_moves_and_plan_ids(vp: Vmpool) -> None:
    _host(vp)
    r = vp.client.post("/v1/pools/1/plans", json={"max_moves": 0})
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["steps"] == []
    assert vp.client.get(f"/v1/plans/{plan['id']}").status_code == 200
    assert vp.client.post(f"/v1/plans/{plan['id']}/approve").status_code in (200, 409)
    assert vp.client.get(f"/v1/plans/{plan['id'] + 1000}").status_code == 404
    assert vp.client.post(f"/v1/plans/{plan['id'] + 1000}/approve").status_code == 404


def test_a_host_with_migration_history_can_be_deleted_and_the_history_stays(vp: Vmpool) -> None:
    with vp.ctx.uow() as uow:
        old, new = add_host(uow, "old"), add_host(uow, "new")
        vm = add_vm(uow, "moved", new)
        add_migration(uow, vm, old, new, "completed")
        busy = add_migration(uow, vm, new, old, "queued")
        uow.commit()
        old_id, busy_id = old.id, busy.id
    # A migration in flight still refers to it: 409, saying which.
    r = vp.client.delete(f"/v1/hosts/{old_id}")
    assert r.status_code == 409, r.text
    assert r.json()["error"]["details"]["migration_ids"] == [busy_id]
    with vp.ctx.uow() as uow:
        uow.migrations.get(busy_id).state = "cancelled"
        uow.commit()
    r = vp.client.delete(f"/v1/hosts/{old_id}")
    assert r.status_code == 204, r.text
    (event,) = vp.client.get("/v1/events?kind=host.deleted").json()["items"]
    assert event["actor"] == "test-admin"
    items = vp.client.get("/v1/migrations").json()["items"]
    assert [(m["source_host_id"], m["source_host"], m["target_host"]) for m in items] == [
        (None, "old", "new"),
        (items[1]["source_host_id"], "new", "old"),
    ]
    assert items[1]["target_host_id"] is None
