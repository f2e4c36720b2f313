"""Three daemons on one PostgreSQL (issue 13): every replica serves the API, one leads. The
leader is killed (SIGKILL) during a migration: another takes over within the lease time,
adopts the running migration, and it completes once. A leader that is only paused
(SIGSTOP, then SIGCONT after the takeover) does not act again."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import fresh_db_url
from tests.e2e.conftest import Daemon, launch_daemon, wait_healthy, wait_until
from tests.integration.conftest import where, wipe_lab_domains
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage

pytestmark = [pytest.mark.lab, pytest.mark.postgres]

LEADER_TIMEOUT_S = 3


def role(d: Daemon) -> str | None:
    try:
        return str(httpx.get(f"{d.url}/readyz", timeout=2).json()["role"])
    except httpx.HTTPError:
        return None


def leader_of(daemons: list[Daemon]) -> Daemon:
    def one() -> Daemon | None:
        leaders = [d for d in daemons if d.proc.poll() is None and role(d) == "leader"]
        return leaders[0] if len(leaders) == 1 else None

    found: Daemon = wait_until("exactly one leader", one, seconds=60)
    return found


@pytest.fixture
def replicas(
    daemon_env: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest, lab: list[LabHost]
) -> Iterator[list[Daemon]]:
    url = fresh_db_url("postgresql", tmp_path, request)
    daemons: list[Daemon] = []
    for i in range(3):
        folder = tmp_path / f"replica{i}"
        folder.mkdir()
        env = dict(daemon_env, VMPOOL_DATABASE_URL=url, VMPOOL_DATA_DIR=str(folder / "data"),
                   VMPOOL_SERIAL_LOG_DIR=str(tmp_path / "serial"),
                   VMPOOL_LEADER_TIMEOUT_S=str(LEADER_TIMEOUT_S), VMPOOL_LEADER_POLL_S="0.5",
                   VMPOOL_MIGRATION_QUEUE_INTERVAL_S="1")  # fmt: skip
        # one database: the first replica's token serves for all; the three start side by side
        daemons.append(launch_daemon(env, folder, daemons[0].token if daemons else None))
    try:
        for d in daemons:
            wait_healthy(d)
        yield daemons
    finally:
        _stop(daemons, lab)


def _stop(daemons: list[Daemon], lab: list[LabHost]) -> None:
    """All told to stop first, then waited for: they shut down side by side."""
    running = [d for d in daemons if d.proc.poll() is None]
    for d in running:
        d.proc.send_signal(signal.SIGCONT)
        d.proc.terminate()
    for d in running:
        try:
            d.proc.wait(timeout=30)
        except Exception:
            d.proc.kill()
    wipe_lab_domains(lab)


def _migration(
    c: httpx.Client, vm: dict[str, Any], target: dict[str, Any], bandwidth_mib_s: int = 8
) -> int:
    """At 8 MiB/s a migration lasts long enough for its leader to be killed while it copies."""
    r = c.post(f"/v1/vms/{vm['id']}/migrate",
               json={"target_host_id": target["id"], "bandwidth_mib_s": bandwidth_mib_s,
                     "completion_timeout_s_per_gib": 120})  # fmt: skip
    assert r.status_code == 202, r.text
    return int(r.json()["id"])


def _copying(c: httpx.Client, mid: int) -> bool:
    m = c.get(f"/v1/migrations/{mid}").json()
    return bool(m["state"] == "running" and (m["data_processed"] or 0) > 0)


def _ended(c: httpx.Client, mid: int) -> dict[str, Any] | None:
    m: dict[str, Any] = c.get(f"/v1/migrations/{mid}").json()
    return m if m["state"] in ("completed", "failed", "cancelled") else None


def test_the_leader_dies_mid_migration_and_another_finishes_it_once(
    replicas: list[Daemon], lab: list[LabHost], tiny_image: GuestImage
) -> None:
    leader = leader_of(replicas)
    follower = next(d for d in replicas if d is not leader)
    assert {role(d) for d in replicas if d is not leader} == {"follower"}
    with follower.client() as c:  # the whole API works on a follower
        hosts = [c.post("/v1/hosts", json=h.registration()).json() for h in lab[:2]]
        body = {"name": "ha-mover", "vcpus": 1, "memory_mib": 256, "image": tiny_image.name,
                "hosts": [lab[0].name]}  # fmt: skip
        vm = c.post("/v1/vms", json=body).json()
        assert vm["state"] == "running", vm
        time.sleep(4)  # let it boot
        mid = _migration(c, vm, hosts[1])  # queued here, run by the leader
        wait_until("the migration to run", lambda: _copying(c, mid), seconds=60)

        leader.proc.send_signal(signal.SIGKILL)
        leader.proc.wait(timeout=10)
        killed_at = time.monotonic()
        new_leader = leader_of([d for d in replicas if d is not leader])
        took_over_s = time.monotonic() - killed_at
        print(f"\ntakeover after SIGKILL: {took_over_s:.1f} s")
        m = wait_until("the migration to end", lambda: _ended(c, mid), seconds=240)
        assert m["state"] == "completed", m
        running, defined = where(lab, vm["uuid"])
        assert running == [lab[1].name] and defined == [lab[1].name]
        assert c.get(f"/v1/vms/{vm['id']}").json()["host_name"] == lab[1].name
        # recorded once: one migration, one outcome
        events = c.get(f"/v1/events?subject=migration/{mid}&limit=1000").json()["items"]
        assert [e["kind"] for e in events].count("migration.completed") == 1
        assert len(c.get(f"/v1/migrations?vm_id={vm['id']}").json()["items"]) == 1
        elections = c.get("/v1/events?kind=leader.elected").json()["items"]
        assert len(elections) == 2 and elections[0]["details"]["generation"] == 2

        # The new leader is paused: another takes over; woken, the old one does not act.
        new_leader.proc.send_signal(signal.SIGSTOP)
        third = leader_of([d for d in replicas if d not in (leader, new_leader)])
        new_leader.proc.send_signal(signal.SIGCONT)
        wait_until("the woken leader to follow", lambda: role(new_leader) == "follower", 30)
        assert role(third) == "leader"
        # (nobody dies during this one: it need not be slow)
        mid2 = _migration(c, vm, hosts[0], bandwidth_mib_s=256)
        m2 = wait_until("the second migration to end", lambda: _ended(c, mid2), seconds=240)
        assert m2["state"] == "completed", m2
        events = c.get(f"/v1/events?subject=migration/{mid2}&limit=1000").json()["items"]
        assert [e["kind"] for e in events].count("migration.completed") == 1
        running, _ = where(lab, vm["uuid"])
        assert running == [lab[0].name]
