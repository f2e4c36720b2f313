"""A project's quota holds under concurrency on real hosts, on SQLite and on PostgreSQL
(issue 12): 50 creates at once against a quota of 10 VMs; exactly 10 succeed, the others
are refused with quota_exceeded, and libvirt runs exactly those 10 domains."""

from __future__ import annotations

import threading

import pytest

from tests.integration.conftest import Vmpool, domains_on
from vmpool.lab.hosts import LabHost

pytestmark = pytest.mark.lab

ATTEMPTS = 50
QUOTA = 10


def test_fifty_concurrent_creates_against_a_quota_of_ten(
    vmpool: Vmpool, lab: list[LabHost]
) -> None:
    vp = vmpool
    for h in lab:
        vp.register(h)
    r = vp.client.post("/v1/projects", json={"name": "racers", "quota_vms": QUOTA})
    assert r.status_code == 201, r.text
    project = r.json()["id"]
    r = vp.client.post("/v1/tokens",
                       json={"name": "racer", "role": "member", "project_id": project})  # fmt: skip
    member = {"Authorization": f"Bearer {r.json()['token']}"}
    answers: dict[str, tuple[int, str]] = {}
    lock = threading.Lock()
    start = threading.Barrier(ATTEMPTS)

    def create(i: int) -> None:
        name = f"race-{i}"
        start.wait()
        r = vp.client.post("/v1/vms", headers=member,
                           json={"name": name, "vcpus": 1, "memory_mib": 32})  # fmt: skip
        code = r.json()["error"]["code"] if r.status_code >= 400 else ""
        with lock:
            answers[name] = (r.status_code, code)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    made = sorted(n for n, (status, _) in answers.items() if status == 201)
    refused = [
        n for n, (status, code) in answers.items() if (status, code) == (409, "quota_exceeded")
    ]
    assert len(made) == QUOTA and len(refused) == ATTEMPTS - QUOTA, answers
    # libvirt agrees: exactly those domains, on the lab hosts
    on_hosts = sorted(n for h in lab for n in domains_on(h) if n.startswith("race-"))
    assert on_hosts == made
    usage = vp.client.get(f"/v1/projects/{project}/usage").json()
    assert (usage["vms"], usage["vcpus"], usage["memory_mib"]) == (QUOTA, QUOTA, 32 * QUOTA)
