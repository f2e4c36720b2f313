"""The scheduling loop of the real daemon against three lab hosts: three VMs that burn
CPU start on one host; `auto` spreads them by live migration and then stays still;
`recommend` proposes a plan and moves nothing until it is approved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Daemon, start_daemon, wait_until
from tests.integration.conftest import where, wipe_lab_domains
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage

pytestmark = pytest.mark.lab

# A cycle a second (the least interval) and a tick every half second: the hysteresis and
# the "stays still" cycles below are counted in cycles, so short cycles test the same thing.
LOOP = {
    "rebalance_interval_s": 1,
    "rebalance_hysteresis_cycles": 2,
    "rebalance_cooldown_s": 3600,
    "rebalance_max_moves": 3,
    "rebalance_min_gain": 0.01,
}


@pytest.fixture
def loop_daemon(
    daemon_env: dict[str, str], tmp_path: Path, lab: list[LabHost], tiny_image: GuestImage
) -> Iterator[Daemon]:
    env = dict(
        daemon_env,
        VMPOOL_REBALANCE_TICK_S="0.5",
        VMPOOL_MIGRATION_QUEUE_INTERVAL_S="0.5",
        VMPOOL_METRICS_INTERVAL_S="1",
        VMPOOL_METRICS_WINDOW_S="5",
    )
    d = start_daemon(env, tmp_path)
    try:
        yield d
    finally:
        d.proc.terminate()
        d.proc.wait(timeout=30)
        wipe_lab_domains(lab)


def burning_vms(c: httpx.Client, lab: list[LabHost]) -> list[dict[str, Any]]:
    for h in lab:
        assert c.post("/v1/hosts", json=h.registration()).status_code == 201
    vms = []
    for i in range(3):
        r = c.post(
            "/v1/vms",
            json={"name": f"burn-{i}", "vcpus": 1, "memory_mib": 128, "image": "tiny",
                  "kernel_args": ["vmpool.burn_cpu=1"], "hosts": [lab[0].name]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        vms.append(r.json())
    # The loop balances on measured load: wait until every VM has been sampled.
    for vm in vms:
        wait_until(
            f"a load sample of {vm['name']}",
            lambda vm=vm: c.get(f"/v1/vms/{vm['id']}/metrics").json()["cpu_usage_avg"] is not None,
            60,
        )
    return vms


def hosts_of(c: httpx.Client, vms: list[dict[str, Any]]) -> dict[str, str]:
    return {vm["name"]: c.get(f"/v1/vms/{vm['id']}").json()["host_name"] for vm in vms}


def migrations_count(c: httpx.Client) -> int:
    return len(c.get("/v1/migrations").json()["items"])


def cycles_pass(c: httpx.Client, n: int) -> None:
    """Wait until the default pool's loop has run `n` more cycles."""
    seen: list[str] = []

    def another() -> bool:
        last = c.get("/v1/pools/1").json()["rebalance_last_run_at"]
        if last is not None and (not seen or seen[-1] != last):
            seen.append(last)
        return len(seen) > n

    wait_until(f"{n} rebalance cycles", another, 120)


def test_auto_spreads_burning_vms_then_stays_still(loop_daemon: Daemon, lab: list[LabHost]) -> None:
    with loop_daemon.client() as c:
        vms = burning_vms(c, lab)
        assert set(hosts_of(c, vms).values()) == {lab[0].name}
        before = c.get("/v1/pools/1/score").json()
        hot = {h["name"]: h for h in before["hosts"]}[lab[0].name]
        assert hot["cpu_load"] > 0 and before["components"]["cpu_load"] > 0

        r = c.patch("/v1/pools/1", json={"rebalance_mode": "auto", **LOOP})
        assert r.status_code == 200, r.text
        spread = wait_until(
            "the loop to spread the VMs over the three hosts",
            lambda: len(set(hosts_of(c, vms).values())) == 3,
        )
        assert spread
        # Settled: no migration in flight, the plan that did it is complete.
        wait_until(
            "the plan to complete",
            lambda: c.get("/v1/pools/1/plans?state=completed").json()["items"],
        )
        plans = c.get("/v1/pools/1/plans").json()["items"]
        assert [p["state"] for p in plans] == ["completed"]
        done = plans[0]
        assert done["origin"] == "scheduled" and done["approved_by"] == "scheduler"
        assert [s["state"] for s in done["steps"]] == ["completed"] * len(done["steps"])
        assert done["score_final"] < done["score_before"]
        moved = migrations_count(c)
        assert moved == len(done["steps"]) == 2

        # ... and then it stays still: more cycles, no new plan, no new migration.
        cycles_pass(c, 4)  # twice the hysteresis
        assert migrations_count(c) == moved
        assert len(c.get("/v1/pools/1/plans").json()["items"]) == 1
        assert len(set(hosts_of(c, vms).values())) == 3
        pool = c.get("/v1/pools/1").json()
        assert pool["rebalance_streak"] == 0, pool["rebalance_last_result"]
        after = c.get("/v1/pools/1/score").json()
        assert after["score"] < before["score"]
        for vm in vms:
            assert len(where(lab, vm["uuid"])[0]) == 1


def test_recommend_proposes_and_waits_for_approval(loop_daemon: Daemon, lab: list[LabHost]) -> None:
    with loop_daemon.client() as c:
        vms = burning_vms(c, lab)
        r = c.patch("/v1/pools/1", json={"rebalance_mode": "recommend", **LOOP})
        assert r.status_code == 200, r.text
        proposal = wait_until(
            "a proposed plan",
            lambda: c.get("/v1/pools/1/plans?state=proposed").json()["items"],
            120,
        )[0]
        assert proposal["steps"] and all(s["state"] == "pending" for s in proposal["steps"])
        # Nothing moves while it waits, however many cycles pass.
        cycles_pass(c, 4)
        assert migrations_count(c) == 0
        assert set(hosts_of(c, vms).values()) == {lab[0].name}
        still = c.get("/v1/pools/1/plans?state=proposed").json()["items"]
        assert [p["id"] for p in still] == [proposal["id"]]

        r = c.post(f"/v1/plans/{proposal['id']}/approve")
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "running"
        finished = wait_until(
            "the approved plan to finish",
            lambda: (
                (p := c.get(f"/v1/plans/{proposal['id']}").json())["state"] == "completed" and p
            ),
        )
        assert {s["state"] for s in finished["steps"]} == {"completed"}
        assert len(set(hosts_of(c, vms).values())) == 3


def test_consolidate_packs_vms_and_reports_empty_hosts(
    loop_daemon: Daemon, lab: list[LabHost]
) -> None:
    with loop_daemon.client() as c:
        for h in lab:
            assert c.post("/v1/hosts", json=h.registration()).status_code == 201
        vms = []
        for i, h in enumerate(lab):
            r = c.post(
                "/v1/vms",
                json={"name": f"idle-{i}", "vcpus": 1, "memory_mib": 128, "image": "tiny",
                      "hosts": [h.name]},
            )  # fmt: skip
            assert r.status_code == 201, r.text
            vms.append(r.json())
        assert len(set(hosts_of(c, vms).values())) == 3
        assert c.get("/v1/pools/1/score").json()["empty_hosts"] == []

        r = c.patch(
            "/v1/pools/1",
            json={"rebalance_mode": "auto", **LOOP, "rebalance_strategy": "consolidate"},
        )
        assert r.status_code == 200, r.text
        wait_until(
            "the loop to pack the VMs onto one host",
            lambda: len(set(hosts_of(c, vms).values())) == 1,
        )
        wait_until(
            "the consolidation to settle",
            lambda: (
                c.get("/v1/pools/1/plans?state=running").json()["items"] == []
                and c.get("/v1/pools/1/plans?state=completed").json()["items"]
            ),
        )
        plans = c.get("/v1/pools/1/plans?state=completed").json()["items"]
        assert all(p["strategy"] == "consolidate" for p in plans)
        steps = [s for p in plans for s in p["steps"]]
        assert {s["reason"] for s in steps} == {"consolidate"}
        packed_on = set(hosts_of(c, vms).values())
        emptied = {h.name for h in lab} - packed_on
        # A step whose migration failed is retried by a later plan; together they empty
        # the two hosts, and the newest plan sees both empty.
        assert set().union(*(p["emptied_hosts"] for p in plans)) == emptied
        assert set(plans[0]["empty_hosts"]) == emptied
        score = c.get("/v1/pools/1/score").json()
        assert score["strategy"] == "consolidate" and set(score["empty_hosts"]) == emptied
        completed = [
            m for m in c.get("/v1/migrations").json()["items"] if m["state"] == "completed"
        ]
        assert len(completed) == 2
        # Packed, it stays packed.
        moved = migrations_count(c)
        cycles_pass(c, 4)
        assert migrations_count(c) == moved
        for vm in vms:
            assert where(lab, vm["uuid"])[0] == list(packed_on)
