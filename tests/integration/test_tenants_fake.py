"""Projects, quotas, tokens and the audit trail through the API, on fake hosts (issue 12):
what a project's caller sees and may do, what quotas refuse and how concurrent creates
meet them, how tokens expire and are revoked, and what the audit trail records."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.support.fake_world import World, wait_until
from vmpool.adapters.db.tables import VmRow
from vmpool.api.app import create_app
from vmpool.services import pools, projects
from vmpool.services.tokens import Role, create_token, hash_token


@dataclass
class Api:
    world: World
    client: TestClient
    admin: dict[str, str]

    def as_(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def token(self, role: str, project_id: int | None, **extra: object) -> str:
        r = self.client.post("/v1/tokens", headers=self.admin,
                             json={"name": f"{role}-{project_id}", "role": role,
                                   "project_id": project_id, **extra})  # fmt: skip
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    def project(self, name: str, **quotas: int) -> int:
        r = self.client.post("/v1/projects", headers=self.admin, json={"name": name, **quotas})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])


@pytest.fixture
def api(world: World) -> Iterator[Api]:
    world.add_host("a", cpus=64, memory_mib=262144)
    world.add_host("b", cpus=64, memory_mib=262144)
    client = TestClient(create_app(world.ctx), raise_server_exceptions=False)
    admin = {"Authorization": f"Bearer {create_token(world.ctx, Role.ADMIN, 'admin')}"}
    yield Api(world, client, admin)
    client.close()


def _vm(name: str, **extra: object) -> dict[str, object]:
    return {"name": name, "vcpus": 1, "memory_mib": 64, **extra}


def test_a_project_sees_only_its_own(api: Api) -> None:
    a, b = api.project("team-a"), api.project("team-b")
    member_a, member_b = api.as_(api.token("member", a)), api.as_(api.token("member", b))
    reader_a = api.as_(api.token("reader", a))
    c = api.client
    r = c.post("/v1/vms", headers=member_a, json=_vm("a-web"))
    assert r.status_code == 201, r.text
    vm = r.json()
    assert vm["project_id"] == a and vm["host_name"] is None  # where it runs: admins only
    assert c.post("/v1/vms", headers=member_b, json=_vm("b-web")).status_code == 201
    group = {"name": "a-grp", "policy": "affinity", "hard": False}
    assert c.post("/v1/placement-groups", headers=member_a, json=group).status_code == 201

    listed = c.get("/v1/vms", headers=member_b).json()["items"]
    assert [v["name"] for v in listed] == ["b-web"]  # filtered in the query
    assert [v["name"] for v in c.get("/v1/vms", headers=reader_a).json()["items"]] == ["a-web"]
    assert c.get("/v1/placement-groups", headers=member_b).json()["items"] == []
    everything = c.get("/v1/vms", headers=api.admin).json()["items"]
    assert {v["name"] for v in everything} == {"a-web", "b-web"}
    assert all(v["host_name"] is not None for v in everything)  # the admin sees hosts
    # a name filter finds the one VM of that name, within what the caller may see
    assert [v["id"] for v in c.get("/v1/vms?name=a-web", headers=member_a).json()["items"]] == [
        vm["id"]
    ]
    assert c.get("/v1/vms?name=a-web", headers=member_b).json()["items"] == []
    assert [h["name"] for h in c.get("/v1/hosts?name=b", headers=api.admin).json()["items"]] == [
        "b"
    ]
    pools_named = c.get("/v1/pools?name=default", headers=api.admin).json()["items"]
    assert [p["id"] for p in pools_named] == [1]
    assert c.get("/v1/pools?name=nope", headers=api.admin).json()["items"] == []

    # another project's ids answer 404, like ids that do not exist
    for method, url in [("GET", f"/v1/vms/{vm['id']}"), ("DELETE", f"/v1/vms/{vm['id']}"),
                        ("POST", f"/v1/vms/{vm['id']}/stop"), ("GET", f"/v1/projects/{a}"),
                        ("GET", f"/v1/projects/{a}/usage")]:  # fmt: skip
        assert c.request(method, url, headers=member_b).status_code == 404, (method, url)
    assert c.get(f"/v1/vms/{vm['id']}", headers=member_a).status_code == 200
    # a member cannot put a VM into another project, nor pick hosts to filter by
    r = c.post("/v1/vms", headers=member_b, json=_vm("sneaky", project_id=a))
    assert r.status_code == 404
    assert c.get("/v1/vms?host_id=1", headers=member_a).status_code == 403
    # readers read, never change
    assert c.post(f"/v1/vms/{vm['id']}/stop", headers=reader_a).status_code == 403
    # and events: each project its own
    kinds = {e["subject"] for e in c.get("/v1/events", headers=member_b).json()["items"]}
    assert f"vm/{vm['id']}" not in kinds and "/v1/vms" in kinds


def test_quotas_refuse_with_the_quota_its_limit_and_the_use(api: Api) -> None:
    a = api.project("team-a", quota_vms=2, quota_vcpus=3)
    member = api.as_(api.token("member", a))
    c = api.client
    assert c.post("/v1/vms", headers=member, json=_vm("one", vcpus=2)).status_code == 201
    r = c.post("/v1/vms", headers=member, json=_vm("two", vcpus=2))
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert error["details"] == {"quota": "vcpus", "limit": 3, "used": 2, "asked": 2}
    assert c.post("/v1/vms", headers=member, json=_vm("two", vcpus=1)).status_code == 201
    r = c.post("/v1/vms", headers=member, json=_vm("three"))
    assert r.json()["error"]["details"]["quota"] == "vms"
    usage = c.get(f"/v1/projects/{a}/usage", headers=member).json()
    assert (usage["vms"], usage["vcpus"], usage["quota_vms"]) == (2, 3, 2)
    # a refused create leaves nothing: no record, no domain
    assert len(c.get("/v1/vms", headers=member).json()["items"]) == 2
    assert sum(len(h.domains) for h in api.world.cloud.hosts()) == 2

    # disk quota for data disks
    c.patch(f"/v1/projects/{a}", headers=api.admin, json={"quota_disk_gib": 5})
    vm_id = c.get("/v1/vms", headers=member).json()["items"][0]["id"]
    assert c.post(f"/v1/vms/{vm_id}/disks", headers=member, json={"size_gib": 4}).status_code == 201
    r = c.post(f"/v1/vms/{vm_id}/disks", headers=member, json={"size_gib": 2})
    assert r.status_code == 409 and r.json()["error"]["details"]["quota"] == "disk_gib"


def test_concurrent_creates_never_pass_the_quota(api: Api) -> None:
    a = api.project("team-a", quota_vms=10)
    member = api.as_(api.token("member", a))
    results: list[int] = []
    lock = threading.Lock()

    def create(i: int) -> None:
        r = api.client.post("/v1/vms", headers=member, json=_vm(f"race-{i}"))
        refused = r.status_code == 409 and r.json()["error"]["code"] == "quota_exceeded"
        with lock:
            results.append(409 if refused else r.status_code)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] * 10 + [409] * 40
    with api.world.ctx.uow() as uow:
        assert uow.projects.usage(a).vms == 10
    assert sum(len(h.domains) for h in api.world.cloud.hosts()) == 10


def test_tokens_expire_and_are_revoked_at_once(api: Api) -> None:
    a = api.project("team-a")
    c = api.client
    r = c.post("/v1/tokens", headers=api.admin,
               json={"name": "short", "role": "reader", "project_id": a, "ttl_s": 60})  # fmt: skip
    assert r.status_code == 201
    created = r.json()
    secret = created["token"]
    assert created["expires_at"] is not None and created["last_used_at"] is None
    assert c.get("/v1/vms", headers=api.as_(secret)).status_code == 200
    listed = {t["id"]: t for t in c.get("/v1/tokens", headers=api.admin).json()["items"]}
    assert listed[created["id"]]["last_used_at"] is not None
    assert "token" not in listed[created["id"]]  # the secret is never shown again
    with api.world.ctx.uow() as uow:
        row = uow.tokens.by_hash(hash_token(secret))
        assert row is not None
        row.expires_at = api.world.ctx.clock() - timedelta(seconds=1)
        uow.commit()
    r = c.get("/v1/vms", headers=api.as_(secret))
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]

    other = api.token("member", a)
    assert c.get("/v1/vms", headers=api.as_(other)).status_code == 200
    other_id = max(t["id"] for t in c.get("/v1/tokens", headers=api.admin).json()["items"])
    assert c.delete(f"/v1/tokens/{other_id}", headers=api.admin).status_code == 204
    r = c.get("/v1/vms", headers=api.as_(other))
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]
    # bad token requests: 4xx, nothing made
    for body in ({"name": "x", "role": "member"}, {"name": "x", "role": "admin", "project_id": a},
                 {"name": "x", "role": "owner"}, {"name": "x", "role": "reader", "project_id": 999},
                 {"name": "x", "role": "admin", "ttl_s": 10**9}):  # fmt: skip
        assert c.post("/v1/tokens", headers=api.admin, json=body).status_code in (404, 422), body


def test_every_mutating_call_is_audited_with_its_request_id(api: Api) -> None:
    a = api.project("team-a")
    member = api.as_(api.token("member", a))
    c = api.client
    r = c.post("/v1/vms", headers={**member, "X-Request-ID": "req-123"}, json=_vm("web"))
    assert r.status_code == 201 and r.headers["x-request-id"] == "req-123"
    vm_id = r.json()["id"]
    r = c.post(f"/v1/vms/{vm_id}/stop", headers=member)
    stop_id = r.headers["x-request-id"]
    assert len(stop_id) == 32  # made by vmpool when the client gave none
    refused = c.post("/v1/pools", json={"name": "x"})  # no token: recorded too
    assert refused.status_code == 401

    events = c.get("/v1/events?kind=api.call", headers=api.admin).json()["items"]
    calls = {(e["details"]["action"], e["details"]["outcome"], e["actor"], e["project_id"])
             for e in events}  # fmt: skip
    assert ("POST /v1/vms", 201, f"member-{a}", a) in calls
    assert ("POST /v1/vms/{vm_id}/stop", 200, f"member-{a}", a) in calls
    assert ("POST /v1/pools", 401, "anonymous", None) in calls
    same = c.get("/v1/events?request=req-123", headers=api.admin).json()["items"]
    assert {e["kind"] for e in same} == {"api.call", "vm.create"}  # the service's event too
    assert all(e["request_id"] == "req-123" for e in same)

    # keyset pages, newest first
    first = c.get("/v1/events?limit=2", headers=api.admin).json()
    assert len(first["items"]) == 2 and first["next_before"] == first["items"][-1]["id"]
    rest = c.get(f"/v1/events?limit=1000&before={first['next_before']}", headers=api.admin)
    ids = [e["id"] for e in first["items"] + rest.json()["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids))
    mine = c.get(f"/v1/events?actor=member-{a}", headers=api.admin).json()["items"]
    assert mine and all(e["actor"] == f"member-{a}" for e in mine)


def test_members_migrate_only_without_a_target_and_only_if_the_pool_allows(api: Api) -> None:
    a = api.project("team-a")
    member = api.as_(api.token("member", a))
    c = api.client
    vm = c.post("/v1/vms", headers=member, json=_vm("web")).json()
    r = c.post(f"/v1/vms/{vm['id']}/migrate", headers=member, json={})
    assert r.status_code == 403 and "members_may_migrate" in r.json()["error"]["message"]
    pools.update_pool(api.world.ctx, 1, pools.PolicyChange(members_may_migrate=True), "t")
    r = c.post(f"/v1/vms/{vm['id']}/migrate", headers=member, json={"target_host_id": 2})
    assert r.status_code == 403
    r = c.post(f"/v1/vms/{vm['id']}/migrate", headers=member, json={})
    assert r.status_code == 202, r.text
    assert r.json()["target_host"] is None and r.json()["source_host"] is None  # admins only
    mid = r.json()["id"]
    wait_until(lambda: c.get(f"/v1/migrations/{mid}", headers=member).json()["state"]
               == "completed", "the migration")  # fmt: skip


def test_a_project_that_owns_anything_is_not_deleted(api: Api) -> None:
    a = api.project("team-a")
    member = api.as_(api.token("member", a))
    c = api.client
    vm = c.post("/v1/vms", headers=member, json=_vm("web")).json()
    r = c.delete(f"/v1/projects/{a}", headers=api.admin)
    assert r.status_code == 409 and r.json()["error"]["details"]["owned"] == {"vms": 1, "tokens": 1}
    assert c.delete(f"/v1/vms/{vm['id']}", headers=member).status_code == 204
    for t in c.get("/v1/tokens", headers=api.admin).json()["items"]:
        if t["project_id"] == a:
            c.delete(f"/v1/tokens/{t['id']}", headers=api.admin)
    assert c.delete(f"/v1/projects/{a}", headers=api.admin).status_code == 204
    assert c.get(f"/v1/projects/{a}", headers=api.admin).status_code == 404
    # the default project holds what was made before projects, and cannot go while it does
    with api.world.ctx.uow() as uow:
        assert uow.session.get(VmRow, vm["id"]) is None
    assert projects.get_project(api.world.ctx, 1).name == "default"


def test_a_post_repeated_with_its_idempotency_key_is_answered_once(api: Api) -> None:
    c = api.client
    key = {**api.admin, "Idempotency-Key": "create-web-1"}
    first = c.post("/v1/vms", headers=key, json=_vm("web"))
    again = c.post("/v1/vms", headers=key, json=_vm("web"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(c.get("/v1/vms", headers=api.admin).json()["items"]) == 1
    # the same key for another body is refused; another caller's key is its own
    other = c.post("/v1/vms", headers=key, json=_vm("web-2"))
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["error"]["message"]
    a = api.project("team-a")
    member = {**api.as_(api.token("member", a)), "Idempotency-Key": "create-web-1"}
    assert c.post("/v1/vms", headers=member, json=_vm("web-a")).status_code == 201
    # a refusal is kept too (the repeat gets the same 409), a malformed key is 422
    dup = {**api.admin, "Idempotency-Key": "dup"}
    r1, r2 = (c.post("/v1/vms", headers=dup, json=_vm("web")) for _ in range(2))
    assert r1.status_code == r2.status_code == 409 and r1.json() == r2.json()
    bad = c.post("/v1/vms", headers={**api.admin, "Idempotency-Key": "a b"}, json=_vm("x"))
    assert bad.status_code == 422
