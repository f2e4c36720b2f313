"""Claims under concurrency: 50 simultaneous creates, room for exactly 10, on both databases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.integration.conftest import Vmpool, domains_on
from tests.integration.live_server import serve_in_thread
from vmpool.api.app import create_app
from vmpool.lab.hosts import LabHost

pytestmark = pytest.mark.lab


def test_fifty_concurrent_creates_never_overcommit(vmpool: Vmpool, lab: list[LabHost]) -> None:
    vp = vmpool
    cpus = int(vp.register(lab[0])["cpus"])  # type: ignore[call-overload]
    vp.register(lab[1])
    # Exactly 5 one-vCPU VMs per host: (cpus - 0) * ratio = 5.
    default = vp.client.get("/v1/pools").json()["items"][0]
    r = vp.client.patch(f"/v1/pools/{default['id']}",
                        json={"cpu_allocation_ratio": 5 / cpus, "reserved_vcpus": 0})  # fmt: skip
    assert r.status_code == 200
    with serve_in_thread(create_app(vp.ctx)) as url:
        headers = {"Authorization": f"Bearer {vp.admin_token}"}

        def create(i: int) -> int:
            with httpx.Client(base_url=url, headers=headers, timeout=120) as c:
                body = {"name": f"race-{i:02d}", "vcpus": 1, "memory_mib": 32}
                return c.post("/v1/vms", json=body).status_code

        with ThreadPoolExecutor(max_workers=50) as pool:
            codes = list(pool.map(create, range(50)))
    assert sorted(codes).count(201) == 10, codes
    assert sorted(codes).count(409) == 40, codes
    hosts = vp.client.get("/v1/hosts").json()["items"]
    assert [h["allocated"]["vcpus"] for h in hosts] == [5.0, 5.0]
    assert all(h["allocated"]["vcpus"] <= h["capacity"]["vcpus"] for h in hosts)
    vms = vp.client.get("/v1/vms").json()["items"]
    assert len(vms) == 10 and all(v["state"] == "running" for v in vms)
    on_hosts = set(domains_on(lab[0])) | set(domains_on(lab[1]))
    assert on_hosts == {v["name"] for v in vms}
