"""ETag and If-Match on PATCH (issue 13), through the API on fake hosts, on SQLite and on
PostgreSQL: every host, pool, project and disk read carries a strong ETag; a PATCH given
If-Match applies only while it still matches, checked under the row lock, so of two
PATCHes made from the same read exactly one applies; the sync does not change a host's ETag."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.integration.live_server import serve_in_thread
from tests.support.fake_hypervisor import FakeHost
from tests.support.fake_world import fake_runtime
from vmpool.api.app import create_app
from vmpool.services import disks, hosts, sync, vms
from vmpool.services.tokens import Role, create_token
from vmpool.wiring import Runtime


@dataclass
class Api:
    runtime: Runtime
    client: TestClient
    token: str
    host_id: int
    fake: FakeHost
    vm_id: int
    disk_id: int


@pytest.fixture
def api(migrated_url: str, tmp_path: Path) -> Iterator[Api]:
    """vmpool on the fake cloud (SQLite and PostgreSQL), with a host, a VM and a data disk."""
    with fake_runtime(tmp_path, migrated_url) as (runtime, cloud):
        uri = "qemu+tls://a.example/system"
        fake = cloud.add_host(uri, hostname="a.example", cpus=16, memory_mib=65536)
        host_id = hosts.register_host(runtime.ctx, uri, "a").id
        vm = vms.create_vm(runtime.ctx, vms.CreateVm(name="web", vcpus=1, memory_mib=64))
        disk = disks.add_disk(runtime.ctx, vm.id, 5)
        token = create_token(runtime.ctx, Role.ADMIN, "admin")
        client = TestClient(create_app(runtime.ctx), raise_server_exceptions=False)
        client.headers["Authorization"] = f"Bearer {token}"
        yield Api(runtime, client, token, host_id, fake, vm.id, disk.id)
        client.close()


@dataclass(frozen=True)
class Kind:
    """A resource with PATCH: its URL, and two bodies that change it differently."""

    name: str
    url: Callable[[Api], str]
    first: dict[str, Any]
    second: dict[str, Any]
    field: str  # a field the bodies change, as the resource shows it


KINDS = [
    Kind("host", lambda a: f"/v1/hosts/{a.host_id}",
         {"reserved_vcpus": 1}, {"reserved_vcpus": 2}, "overrides"),
    Kind("pool", lambda a: "/v1/pools/1",
         {"cpu_allocation_ratio": 2.0}, {"cpu_allocation_ratio": 3.0}, "cpu_allocation_ratio"),
    Kind("project", lambda a: "/v1/projects/1",
         {"quota_vcpus": 10}, {"quota_vcpus": 20}, "quota_vcpus"),
    Kind("disk", lambda a: f"/v1/vms/{a.vm_id}/disks/{a.disk_id}",
         {"size_gib": 6}, {"size_gib": 7}, "size_gib"),
]  # fmt: skip
BY_NAME = pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])


def _read(api: Api, kind: Kind) -> tuple[str, dict[str, Any]]:
    r = api.client.get(kind.url(api))
    assert r.status_code == 200, r.text
    return r.headers["ETag"], r.json()


@BY_NAME
def test_get_and_patch_carry_an_etag_and_a_matching_if_match_applies(api: Api, kind: Kind) -> None:
    tag, before = _read(api, kind)
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    assert tag == f'"{kind.name}.{before["id"]}.1"'

    r = api.client.patch(kind.url(api), json=kind.first, headers={"If-Match": tag})
    assert r.status_code == 200, r.text
    new = r.headers["ETag"]
    assert new != tag
    assert r.json()[kind.field] != before[kind.field]
    assert _read(api, kind) == (new, r.json())  # what PATCH answered is what GET reads


@BY_NAME
def test_a_stale_if_match_is_412_and_changes_nothing(api: Api, kind: Kind) -> None:
    stale, _ = _read(api, kind)
    assert api.client.patch(kind.url(api), json=kind.first).status_code == 200  # no If-Match
    tag, current = _read(api, kind)

    r = api.client.patch(kind.url(api), json=kind.second, headers={"If-Match": stale})
    assert r.status_code == 412, r.text
    error = r.json()["error"]
    assert error["code"] == "precondition_failed"
    assert error["details"] == {"etag": tag}
    assert _read(api, kind) == (tag, current)


@BY_NAME
def test_if_match_star_and_a_list_match(api: Api, kind: Kind) -> None:
    r = api.client.patch(kind.url(api), json=kind.first, headers={"If-Match": "*"})
    assert r.status_code == 200, r.text
    tag = r.headers["ETag"]
    # a list matches if any of its tags does; a weak tag never does (strong comparison)
    listed = f'"other.1.1", W/{tag}, {tag}'
    r = api.client.patch(kind.url(api), json=kind.second, headers={"If-Match": listed})
    assert r.status_code == 200, r.text
    tag = r.headers["ETag"]
    r = api.client.patch(kind.url(api), json=kind.first, headers={"If-Match": f"W/{tag}"})
    assert r.status_code == 412, r.text


def test_if_match_sent_on_several_lines_is_one_list(api: Api) -> None:
    tag, _ = _read(api, KINDS[1])
    lines = [("If-Match", '"pool.1.999"'), ("If-Match", tag)]
    r = api.client.patch("/v1/pools/1", json={"strategy": "pack"}, headers=lines)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "value", ["abc", '"unterminated', 'W/"a" "b"', '*, "a"', '"a",,', 'W/ "a"', ""]
)
def test_a_malformed_if_match_is_400_and_changes_nothing(api: Api, value: str) -> None:
    kind = KINDS[1]
    before = _read(api, kind)
    r = api.client.patch(kind.url(api), json=kind.first, headers={"If-Match": value})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_header"
    assert r.json()["error"]["details"] == {"header": "If-Match"}
    assert _read(api, kind) == before


def test_an_etag_names_its_resource(api: Api) -> None:
    """Another resource's tag at the same revision does not match."""
    made = api.client.post("/v1/pools", json={"name": "other"})
    assert made.status_code == 201, made.text
    other, _ = _read(api, Kind("pool", lambda a: f"/v1/pools/{made.json()['id']}", {}, {}, ""))
    own, _ = _read(api, KINDS[1])
    assert other != own
    r = api.client.patch("/v1/pools/1", json={"strategy": "pack"}, headers={"If-Match": other})
    assert r.status_code == 412


def test_if_match_on_a_missing_resource_is_404(api: Api) -> None:
    """RFC 9110 13.2.1: a request that would fail without its preconditions ignores them."""
    r = api.client.patch("/v1/pools/999", json={"strategy": "pack"}, headers={"If-Match": "*"})
    assert r.status_code == 404


def test_a_patch_that_changes_nothing_keeps_the_etag(api: Api) -> None:
    tag, pool = _read(api, KINDS[1])
    same = {"cpu_allocation_ratio": pool["cpu_allocation_ratio"]}
    r = api.client.patch("/v1/pools/1", json=same, headers={"If-Match": tag})
    assert r.status_code == 200 and r.headers["ETag"] == tag


def test_the_sync_and_the_loop_state_leave_the_etags_alone(api: Api) -> None:
    """The sync writes a host's last_seen_at, inventory and state every few seconds, and
    maintenance its own state: a client's ETag of what it sets stays valid across them."""
    host = KINDS[0]
    tag, before = _read(api, host)
    api.fake.cpus = 32  # the host grew: the sync records its inventory
    sync.sync_host(api.runtime.ctx, api.host_id, api.fake.uri, 1.0, 10.0, sync.SyncReport())
    api.fake.unreachable = True
    sync.sync_host(api.runtime.ctx, api.host_id, api.fake.uri, 1.0, 10.0, sync.SyncReport())
    after_tag, after = _read(api, host)
    assert (after["cpus"], after["state"]) == (32, "unreachable")
    assert after["last_seen_at"] != before["last_seen_at"]
    assert after_tag == tag
    r = api.client.patch(host.url(api), json=host.first, headers={"If-Match": tag})
    assert r.status_code == 200, r.text


def test_two_patches_from_the_same_read_one_applies(api: Api) -> None:
    """Sequential: the second, sent with the tag both read, finds it changed."""
    tag, _ = _read(api, KINDS[2])
    first = api.client.patch("/v1/projects/1", json={"quota_vms": 5}, headers={"If-Match": tag})
    second = api.client.patch("/v1/projects/1", json={"quota_vms": 9}, headers={"If-Match": tag})
    assert (first.status_code, second.status_code) == (200, 412)
    assert _read(api, KINDS[2])[1]["quota_vms"] == 5


@BY_NAME
def test_concurrent_patches_with_the_same_if_match_exactly_one_applies(
    api: Api, kind: Kind
) -> None:
    """Eight clients read the same ETag and PATCH at once, each a different value: one
    applies, seven get 412, and the resource holds the winner's value."""
    tag, body = _read(api, kind)
    n = 8
    key, base = next(iter(kind.first.items()))
    current = body["overrides"].get(key) if kind.name == "host" else body[key]
    # Every value differs from the current one: a PATCH that changes nothing keeps the tag
    # (test_a_patch_that_changes_nothing_keeps_the_etag), so one that won first would
    # rightly let a second apply (the pool's default ratio 4.0 once did, 1 run in 8).
    values = [base + (i + 1) * (1 if isinstance(base, int) else 0.5) for i in range(n)]
    values = [
        v + (n + 1) * (1 if isinstance(base, int) else 0.5) if v == current else v for v in values
    ]
    assert current not in values and len(set(values)) == n
    start = threading.Barrier(n)
    codes: list[int] = [0] * n
    with serve_in_thread(create_app(api.runtime.ctx)) as url:

        def patch(i: int) -> None:
            headers = {"Authorization": f"Bearer {api.token}", "If-Match": tag}
            with httpx.Client(base_url=url, headers=headers, timeout=60) as c:
                start.wait()
                codes[i] = c.patch(kind.url(api), json={key: values[i]}).status_code

        threads = [threading.Thread(target=patch, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(codes) == [200] + [412] * (n - 1), codes
    winner = values[codes.index(200)]
    new_tag, body = _read(api, kind)
    shown = body["overrides"][key] if kind.name == "host" else body[key]
    assert shown == winner and new_tag != tag
