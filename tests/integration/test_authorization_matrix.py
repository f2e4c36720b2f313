"""The authorization matrix: every route of the OpenAPI document by every kind of caller, on
resources of project A, against the policy table the code enforces (`vmpool.api.policy`).

Callers: no token, a malformed one, an expired one, a revoked one, a reader of A, a member of
A, a member of B, an admin. What each cell must answer follows from the route's access:

- any route but a public one: 401 without a valid token;
- ADMIN: 403 for every project's caller; the admin gets past authorization (not 401/403);
- WRITE: 403 for A's reader; A's member and the admin get past authorization (the member
  never 404: the resource is its own); B's member gets 404 where the path names A's
  resource (ids leak nothing), and past authorization elsewhere (it acts in B);
- READ: as WRITE, with A's reader allowed too.

A route missing from the table fails `test_every_route_has_a_policy`. Each mutating route
runs on a world of its own (fake hosts, SQLite), so that one cell's change (a delete) does
not decide another's; within a route the callers that must be refused go first.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.support.fake_world import World, open_world, wait_until
from vmpool.adapters.db.tables import ApiTokenRow
from vmpool.api.app import ROUTERS, create_app
from vmpool.api.openapi import openapi_json
from vmpool.api.policy import POLICY, Access
from vmpool.domain.model import GroupPolicy
from vmpool.services import (
    disks,
    groups,
    images,
    migrations,
    networks,
    nics,
    pools,
    projects,
    snapshots,
    tokens,
    vms,
)
from vmpool.services.tokens import Role, create_token, hash_token

SPEC = json.loads(openapi_json())
# The routes of the spec, and those left out of it (the dashboard's pages, /ui).
ROUTES = sorted(
    [
        (method.upper(), path, op["operationId"])
        for path, ops in SPEC["paths"].items()
        for method, op in ops.items()
    ]
    + [
        (method, route.path, route.name)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and not route.include_in_schema
        for method in route.methods
    ]
)
CALLERS = ("none", "malformed", "expired", "revoked", "reader_a", "member_b", "member_a", "admin")
# Path parameters that name project A's own resources: B's member must get 404 for them.
OWNED = {"vm_id", "disk_id", "nic_id", "group_id", "migration_id", "project_id", "snapshot_id"}
BODIES: dict[str, Any] = {
    "register_host": {"uri": "qemu+tls://c.example/system", "name": "c"},
    "update_host": {"operator_traits": ["gpu"]},
    "update_host_device": {"alias": "gpu:a100"},
    "upload_image": b"\0" * 65536,
    "create_network": {"name": "other", "kind": "bridge", "bridge": "br9"},
    "create_placement_group": {"name": "g2", "policy": "affinity", "hard": False},
    "create_pool": {"name": "p2"},
    "update_pool": {"strategy": "pack"},
    "create_plan": {"dry_run": True},
    "create_project": {"name": "c"},
    "update_project": {"quota_vms": 50},
    "create_token": {"name": "t2", "role": "admin"},
    "create_vm": {"name": "new-vm", "vcpus": 1, "memory_mib": 64},
    "add_disk": {"size_gib": 1},
    "resize_disk": {"size_gib": 2},
    "migrate_vm": {},
    "renew_vm_lease": {"lease_s": 3600},
    "resize_vm": {"vcpus": 1},
    "add_nic": {"network": "lab"},
    "create_snapshot": {"name": "auth-snap"},
}
QUERIES = {"upload_image": {"name": "img2", "format": "raw"}}


@dataclass
class Seeded:
    client: TestClient
    tokens: dict[str, str]
    ids: dict[str, int]


def _seed(world: World) -> Seeded:
    ctx = world.ctx
    world.add_host("a")
    world.add_host("b")
    a = projects.create_project(ctx, "team-a").id
    b = projects.create_project(ctx, "team-b").id
    pools.update_pool(ctx, 1, pools.PolicyChange(members_may_migrate=True), "test")
    net = networks.create_network(ctx, networks.CreateNetwork(name="lab", kind="bridge",
                                                              bridge="br0"))  # fmt: skip
    image = images.upload_image(ctx, "img", None, None, iter([b"\0" * 65536]))
    a_ctx = ctx.in_project(a)

    group = groups.create_group(a_ctx, "a-group", GroupPolicy.AFFINITY, False, None, "t")
    vm = vms.create_vm(a_ctx, vms.CreateVm(name="a-vm", vcpus=1, memory_mib=64,
                                          placement_group="a-group",
                                          nics=(nics.NicRequest("lab"),)))  # fmt: skip
    disk = disks.add_disk(a_ctx, vm.id, 1)
    moved = migrations.request_migration(ctx, vm.id, migrations.MigrateOptions())
    wait_until(
        lambda: migrations.get_migration(ctx, moved.id).state == "completed", "the migration"
    )
    secrets = {
        "admin": create_token(ctx, Role.ADMIN, "admin"),
        "reader_a": create_token(ctx, Role.READER, "reader-a", project_id=a),
        "member_a": create_token(ctx, Role.MEMBER, "member-a", project_id=a),
        "member_b": create_token(ctx, Role.MEMBER, "member-b", project_id=b),
        "expired": create_token(ctx, Role.ADMIN, "expired"),
        "revoked": create_token(ctx, Role.ADMIN, "revoked"),
        "malformed": "vmp_not-a-token",
    }
    with ctx.uow() as uow:
        row = uow.tokens.by_hash(hash_token(secrets["expired"]))
        assert isinstance(row, ApiTokenRow)
        row.expires_at = ctx.clock() - timedelta(seconds=1)
        revoked = uow.tokens.by_hash(hash_token(secrets["revoked"]))
        assert revoked is not None
        revoked_id = revoked.id
        uow.commit()
    tokens.revoke_token(ctx, revoked_id)
    snap = snapshots.create_snapshot(a_ctx, vm.id, "seeded")
    client = TestClient(create_app(ctx), raise_server_exceptions=False)
    ids = {
        "snapshot_id": snap.id,
        "vm_id": vm.id, "disk_id": disk.id, "nic_id": vm.nics[0].id, "group_id": group.id,
        "migration_id": moved.id, "project_id": a, "host_id": 1, "pool_id": 1,
        "plan_id": 999, "image_id": image.id, "network_id": net.id, "token_id": revoked_id,
        "name": "dashboard.js", "address": "0000:3b:00.0",
    }  # fmt: skip
    return Seeded(client, secrets, ids)


@contextlib.contextmanager
def _seeded_world(tmp: Path, migrated: Path) -> Iterator[Seeded]:
    with open_world(tmp, migrated) as world:
        seeded = _seed(world)
        try:
            yield seeded
        finally:
            seeded.client.close()


def expected(access: Access, caller: str, path: str) -> str:
    """What the cell must show: "401", "403", "404", "pass" (past authorization: not 401
    or 403) or "own" (past authorization and not 404)."""
    if access is Access.PUBLIC:
        return "own"
    if caller in ("none", "malformed", "expired", "revoked"):
        return "401"
    if caller == "admin":
        return "pass"
    if access is Access.ADMIN:
        return "403"
    if caller == "reader_a" and access is Access.WRITE:
        return "403"
    if caller == "member_b":
        named = {p.strip("{}") for p in path.split("/") if p.startswith("{")}
        return "404" if named & OWNED else "pass"
    return "own"


def _call(s: Seeded, method: str, path: str, op: str, caller: str) -> int:
    url = path.format(**s.ids)
    headers = {}
    if caller != "none":
        headers["Authorization"] = f"Bearer {s.tokens[caller]}"
    body = BODIES.get(op)
    kwargs: dict[str, Any] = {"headers": headers, "params": QUERIES.get(op)}
    if isinstance(body, bytes):
        kwargs["content"] = body
        headers["content-type"] = "application/octet-stream"
    elif body is not None:
        kwargs["json"] = body
    return s.client.request(method, url, **kwargs).status_code


def _check(s: Seeded, method: str, path: str, op: str) -> list[str]:
    access = POLICY[(method, path)]
    wrong = []
    for caller in CALLERS:  # the refused first: the allowed may change what they act on
        want = expected(access, caller, path)
        got = _call(s, method, path, op, caller)
        ok = {
            "401": got == 401,
            "403": got == 403,
            "404": got == 404,
            "pass": got not in (401, 403),
            "own": got not in (401, 403, 404),
        }[want]
        if not ok:
            wrong.append(f"{method} {path} as {caller}: {got}, expected {want}")
    return wrong


def test_every_route_has_a_policy() -> None:
    routes = {(m, p) for m, p, _ in ROUTES}
    assert routes - set(POLICY) == set(), "routes without a policy"
    assert set(POLICY) - routes == set(), "policies without a route"
    for op in {o for m, _, o in ROUTES if m != "GET"}:
        path_item = next(ops for ops in SPEC["paths"].values() for o in ops.values()
                         if o["operationId"] == op)  # fmt: skip
        needs_body = any("requestBody" in o for o in path_item.values() if o["operationId"] == op)
        assert not needs_body or op in BODIES, f"{op} needs a body in BODIES"


def test_reading_routes(tmp_path: Path, migrated_sqlite: Path) -> None:
    wrong: list[str] = []
    with _seeded_world(tmp_path, migrated_sqlite) as s:
        for method, path, op in ROUTES:
            if method == "GET":
                wrong += _check(s, method, path, op)
    assert wrong == []


@pytest.mark.parametrize(
    ("method", "path", "op"),
    [r for r in ROUTES if r[0] != "GET"],
    ids=[r[2] for r in ROUTES if r[0] != "GET"],
)
def test_changing_routes(
    method: str, path: str, op: str, tmp_path: Path, migrated_sqlite: Path
) -> None:
    with _seeded_world(tmp_path, migrated_sqlite) as s:
        assert _check(s, method, path, op) == []
