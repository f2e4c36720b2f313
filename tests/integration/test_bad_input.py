"""Hostile and malformed input: a clear 4xx, and nothing left behind on hosts or in the pool."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Vmpool, domains_on
from vmpool.lab.hosts import LabHost

pytestmark = pytest.mark.lab

BAD_NAMES = ["<script>", "a'b", 'a"b', "x&y", "../../etc/passwd", "a/b", "ünïcödé", "x" * 10_000,
             "", "-lead", "UPPER", "sp ace", "nul\x00l"]  # fmt: skip


def _nothing_left(vmpool: Vmpool, lab: list[LabHost]) -> None:
    assert vmpool.client.get("/v1/vms").json()["items"] == []
    for h in vmpool.client.get("/v1/hosts").json()["items"]:
        assert h["allocated"] == {"vcpus": 0.0, "memory_mib": 0.0, "disk_gib": 0.0}
    for host in lab[:2]:
        assert domains_on(host) == {}


def test_bad_vm_requests(vmpool_sqlite: Vmpool, lab: list[LabHost]) -> None:
    vp = vmpool_sqlite
    vp.register(lab[0])
    vp.register(lab[1])
    for name in BAD_NAMES:
        r = vp.client.post("/v1/vms", json={"name": name, "vcpus": 1, "memory_mib": 64})
        assert r.status_code == 422, (name[:20], r.text)
        assert r.json()["error"]["code"] == "invalid_input"
        assert len(r.text) < 5000  # the hostile value is not echoed back
    bad_bodies = [
        {"name": "ok-1", "vcpus": -1, "memory_mib": 64},
        {"name": "ok-1", "vcpus": 0, "memory_mib": 64},
        {"name": "ok-1", "vcpus": 10**9, "memory_mib": 64},
        {"name": "ok-1", "vcpus": 1, "memory_mib": -5},
        {"name": "ok-1", "vcpus": 1, "memory_mib": 2**63},
        {"name": "ok-1", "vcpus": "two", "memory_mib": 64},
        {"name": "ok-1", "vcpus": 1, "memory_mib": 64, "surprise": True},
        {"name": "ok-1", "vcpus": 1},
        {"name": "ok-1", "vcpus": 1, "memory_mib": 64, "image": "../../etc"},
        ["not", "an", "object"],
    ]
    for body in bad_bodies:
        r = vp.client.post("/v1/vms", json=body)
        assert r.status_code == 422, (body, r.text)
        assert set(r.json()) == {"error"}
    for ref in ({"image": "no-such-image"}, {"placement_group": "no-such-group"}, {"pool_id": 999}):
        r = vp.client.post("/v1/vms", json={"name": "ok-1", "vcpus": 1, "memory_mib": 64, **ref})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (ref, r.text)
    r = vp.client.post(
        "/v1/vms", content=b'{"name": "x", "vcpus": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    r = vp.client.post(
        "/v1/vms",
        content=b'{"name": "' + b"x" * 200_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    _nothing_left(vp, lab)


def test_no_capacity_is_409_with_an_explanation(vmpool_sqlite: Vmpool, lab: list[LabHost]) -> None:
    vp = vmpool_sqlite
    h = vp.register(lab[0])
    too_big = int(h["memory_mib"]) * 2  # type: ignore[call-overload]
    r = vp.client.post("/v1/vms", json={"name": "huge", "vcpus": 1, "memory_mib": too_big})
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "no_capacity"
    assert "not enough memory" in err["message"]
    assert err["details"]["rejections"][0]["filter"] == "capacity"
    _nothing_left(vp, lab)


def test_unknown_ids_are_404(vmpool_sqlite: Vmpool) -> None:
    c = vmpool_sqlite.client
    for method, path in [("get", "/v1/vms/999"), ("delete", "/v1/vms/999"),
                         ("post", "/v1/vms/999/start"), ("get", "/v1/hosts/999"),
                         ("delete", "/v1/hosts/999"), ("get", "/v1/pools/999")]:  # fmt: skip
        r = getattr(c, method)(path)
        assert r.status_code == 404, path
        assert r.json()["error"]["code"] == "not_found"
    assert c.get("/v1/vms/not-a-number").status_code == 404  # names nothing (docs/security.md)
    assert c.get("/v1/nowhere").status_code == 404


def test_bad_host_uris_are_refused_before_libvirt(vmpool_sqlite: Vmpool) -> None:
    for uri in ["", "http://example.com/", "qemu+ssh://h/system; rm -rf /", "qemu:///system\n",
                "qemu+tcp://host/system?x=$(id)", "q" * 600, "file:///etc/passwd"]:  # fmt: skip
        r = vmpool_sqlite.client.post("/v1/hosts", json={"uri": uri})
        assert r.status_code == 422, uri
    assert vmpool_sqlite.client.get("/v1/hosts").json()["items"] == []


def test_auth(vmpool_sqlite: Vmpool) -> None:
    c = vmpool_sqlite.client
    assert c.get("/healthz", headers={"Authorization": ""}).status_code == 200
    r = c.get("/v1/vms", headers={"Authorization": ""})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert c.get("/v1/vms", headers={"Authorization": "Bearer vmp_wrong"}).status_code == 401
    assert c.get("/v1/vms", headers={"Authorization": "Basic abc"}).status_code == 401
    reader = {"Authorization": f"Bearer {vmpool_sqlite.reader_token}"}
    assert c.get("/v1/vms", headers=reader).status_code == 200
    r = c.post("/v1/vms", json={"name": "r", "vcpus": 1, "memory_mib": 64}, headers=reader)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
