"""PostgreSQL restarted under load (issue 13): the real daemon (`vmpool serve`, no hosts) on
a throwaway PostgreSQL serves a few clients at once; the server is stopped as a crash would
(`pg_ctl stop -m immediate`) and started again on the same port and data. While it is down
every request answers 503 `database_unavailable` (with Retry-After) at once, `/readyz` is
503 and `/healthz` 200; once it is back requests succeed again and the daemon leads again
(a new generation), all without restarting the daemon, and no request ever gets a 500."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Daemon, start_daemon, wait_until
from tests.support.postgres import create_database, throwaway_postgres_server

pytestmark = pytest.mark.postgres

CLIENTS = 4
HANG_GUARD_S = 30.0  # the clients' timeout: a request that hangs fails the test


@dataclass
class Answer:
    sent: float  # time.monotonic() when sent
    took: float
    what: str
    status: int  # -1: no answer (transport error or timeout)
    code: str | None = None
    retry_after: str | None = None


def _client_load(d: Daemon, worker: int, stop: threading.Event, out: list[Answer]) -> None:
    """Reads and writes, one after the other, until told to stop."""
    with httpx.Client(base_url=d.url, headers={"Authorization": f"Bearer {d.token}"},
                      timeout=HANG_GUARD_S) as c:  # fmt: skip
        i = 0
        while not stop.is_set():
            i += 1
            what = ("GET /v1/vms", "POST /v1/projects", "GET /v1/projects")[i % 3]
            t0 = time.monotonic()
            try:
                if what == "POST /v1/projects":
                    r = c.post("/v1/projects", json={"name": f"load-{worker}-{i}"})
                else:
                    r = c.get(what.split()[1])
            except httpx.HTTPError as exc:
                out.append(Answer(t0, time.monotonic() - t0, f"{what}: {exc!r}", -1))
                continue
            took = time.monotonic() - t0
            code = r.json().get("error", {}).get("code") if r.status_code >= 400 else None
            out.append(Answer(t0, took, what, r.status_code, code, r.headers.get("retry-after")))
            time.sleep(0.02)


def _ready(d: Daemon) -> httpx.Response:
    return httpx.get(f"{d.url}/readyz", timeout=HANG_GUARD_S)


def _leader_generation(d: Daemon) -> int | None:
    r = _ready(d)
    body = r.json()
    if r.status_code == 200 and body["role"] == "leader":
        return int(body["generation"])
    return None


def test_postgres_restarted_under_load_fails_fast_and_recovers_without_a_restart(
    daemon_env: dict[str, str], tmp_path: Path
) -> None:
    answers: list[Answer] = []
    stop = threading.Event()
    with throwaway_postgres_server() as pg:
        env = dict(daemon_env, VMPOOL_DATABASE_URL=create_database(pg.url, "vmpool"),
                   VMPOOL_LEADER_POLL_S="0.5", VMPOOL_LEADER_TIMEOUT_S="3")  # fmt: skip
        d = start_daemon(env, tmp_path)
        pid = d.proc.pid
        threads = [
            threading.Thread(target=_client_load, args=(d, w, stop, answers), daemon=True)
            for w in range(CLIENTS)
        ]
        try:
            first = wait_until("the daemon to lead", lambda: _leader_generation(d), 30)
            for t in threads:
                t.start()
            wait_until("answers on a healthy database", lambda: len(answers) >= 20, 30)

            down_at = time.monotonic()
            pg.stop("immediate")
            wait_until("a 503", lambda: any(a.status == 503 for a in answers), 30)
            time.sleep(1)  # the outage, under load
            ready = _ready(d)
            assert ready.status_code == 503, ready.text
            assert ready.json()["error"]["code"] == "database_unavailable"
            assert httpx.get(f"{d.url}/healthz", timeout=HANG_GUARD_S).status_code == 200

            pg.start()  # returns once it takes connections
            up_at = time.monotonic()
            with d.client() as c:
                wait_until("requests to succeed again",
                           lambda: c.get("/v1/vms").status_code == 200, 60)  # fmt: skip
                served_again_s = time.monotonic() - up_at
                second = wait_until("the daemon to lead again",
                                    lambda: _leader_generation(d), 60)  # fmt: skip
                led_again_s = time.monotonic() - up_at
                n = len(answers)
                wait_until("answers on the database back", lambda: len(answers) >= n + 20, 30)
                elections = c.get("/v1/events?kind=leader.elected").json()["items"]
            stop.set()
            for t in threads:
                t.join(timeout=HANG_GUARD_S + 5)
            assert d.proc.poll() is None, d.log.read_text()  # the same process throughout
            assert d.proc.pid == pid
        finally:
            stop.set()
            d.proc.terminate()
            try:
                d.proc.wait(timeout=20)
            except Exception:
                d.proc.kill()

    log = d.log.read_text()
    assert second > first, (first, second)
    # both elections by this one daemon (its owner names its PID and a token of the run)
    assert [e["details"]["generation"] for e in elections] == [second, first]
    assert len({e["details"]["owner"] for e in elections}) == 1, elections
    assert f":{pid}:" in elections[0]["details"]["owner"]

    assert not [a for a in answers if a.status == -1], "requests without an answer"
    assert not [a for a in answers if a.status >= 500 and a.status != 503], log[-5000:]
    unavailable = [a for a in answers if a.status == 503]
    assert unavailable and all(
        a.code == "database_unavailable" and a.retry_after is not None for a in unavailable
    ), unavailable[:5]
    assert {a.status for a in answers} <= {200, 201, 503}, {a.status for a in answers}
    during = [a for a in unavailable if down_at <= a.sent < up_at]
    after = [a for a in answers if a.sent >= up_at + served_again_s and a.status < 300]
    assert during and after

    took = sorted(a.took for a in during)
    print(
        f"\n{len(answers)} requests by {CLIENTS} clients; {len(unavailable)} answered 503 "
        f"({len(during)} while the server was down): median {statistics.median(took) * 1000:.0f}"
        f" ms, max {took[-1] * 1000:.0f} ms; served again {served_again_s:.2f} s after the "
        f"server was started, leader again (generation {first} -> {second}) after "
        f"{led_again_s:.2f} s"
    )
