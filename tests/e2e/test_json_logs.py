"""The real daemon with `log_format = "json"`: every line of its log is a JSON object; each
request is one line (request id, route, status, duration), each job run one line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.e2e.conftest import start_daemon, wait_until


def json_lines(log: Path) -> list[dict[str, Any]]:
    """The log's lines, each parsed (a line that is not JSON fails the test)."""
    lines = log.read_text().splitlines()
    parsed = [json.loads(line) for line in lines]
    assert all(isinstance(p, dict) for p in parsed)
    return parsed


def test_the_daemon_logs_json_lines(daemon_env: dict[str, str], tmp_path: Path) -> None:
    d = start_daemon({**daemon_env, "VMPOOL_LOG_FORMAT": "json"}, tmp_path)
    try:
        with d.client() as c:
            assert c.get("/v1/hosts", headers={"X-Request-ID": "e2e-json-1"}).status_code == 200
            r = c.get("/v1/vms/424242")
            assert r.status_code == 404
            made_up = r.headers["X-Request-ID"]

        def requests_and_a_sync_run() -> list[dict[str, Any]] | None:
            lines = json_lines(d.log)
            access = [x for x in lines if x["logger"] == "vmpool.access"]
            runs = [x for x in lines if x["logger"] == "vmpool.jobs" and x["job"] == "sync-hosts"]
            return lines if len(access) >= 2 and runs else None

        lines = wait_until("the request and job lines", requests_and_a_sync_run, 30)
    finally:
        d.proc.terminate()
        try:
            d.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            d.proc.kill()

    by_id = {x["request_id"]: x for x in lines if x["logger"] == "vmpool.access"}
    hosts = by_id["e2e-json-1"]
    assert (hosts["method"], hosts["route"], hosts["path"]) == ("GET", "/v1/hosts", "/v1/hosts")
    assert hosts["status"] == 200 and hosts["level"] == "INFO"
    assert isinstance(hosts["duration_ms"], float) and hosts["duration_ms"] > 0
    missing = by_id[made_up]
    assert (missing["route"], missing["path"]) == ("/v1/vms/{vm_id}", "/v1/vms/424242")
    assert missing["status"] == 404
    assert all("time" in x and "message" in x for x in lines)
    # uvicorn's access log is off: one line per request, vmpool's
    assert not [x for x in lines if x["logger"] == "uvicorn.access"]
    run = next(x for x in lines if x["logger"] == "vmpool.jobs" and x["job"] == "sync-hosts")
    assert run["outcome"] == "ok" and isinstance(run["duration_ms"], float)
    # uvicorn's own lines are JSON too
    assert any(x["logger"] == "uvicorn.error" and "Started server" in x["message"] for x in lines)
