"""The API keeps its own contract: a bounded schemathesis run against the real daemon.

The daemon has lab hosts registered, a running VM, a placement group, a finished
migration and a stored plan, so that generated requests meet real rows and real
hosts. Every check is on (server errors, documented status codes, response schema
and content types, undeclared methods and their Allow header, positive and negative
data); tests/e2e/schemathesis.toml states the two documented allowances.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from tests.e2e.conftest import Daemon
from tests.integration.conftest import wipe_lab_domains
from vmpool.lab.hosts import LabHost

pytestmark = pytest.mark.lab

CONFIG = Path(__file__).parent / "schemathesis.toml"
ST = str(Path(sys.executable).parent / "st")
SEED = 1
T = TypeVar("T")
# 12 per operation in the suite (seed 1); VMPOOL_CONTRACT_EXAMPLES=100 for a long run
MAX_EXAMPLES = int(os.environ.get("VMPOOL_CONTRACT_EXAMPLES", "12"))


def _seed_the_pool(daemon: Daemon, lab: list[LabHost]) -> None:
    with daemon.client() as c:
        for h in lab:
            r = c.post("/v1/hosts", json=h.registration())
            assert r.status_code == 201, r.text
        r = c.post(
            "/v1/placement-groups",
            json={"name": "spread", "policy": "anti-affinity", "hard": False},
        )
        assert r.status_code == 201, r.text
        r = c.post(
            "/v1/vms",
            json={"name": "web-1", "vcpus": 1, "memory_mib": 64, "placement_group": "spread"},
        )
        assert r.status_code == 201, r.text
        vm = r.json()
        migration = _until(lambda: _migrate(c, vm["id"]))
        state = _until(lambda: _finished(c, migration))
        assert state == "completed", state
        r = c.post("/v1/pools/1/plans", json={"max_moves": 2})
        assert r.status_code == 201, r.text


def _until(attempt: Callable[[], T | None], seconds: float = 120) -> T:
    deadline = time.monotonic() + seconds
    while (result := attempt()) is None:
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)
    return result


def _migrate(c: httpx.Client, vm_id: int) -> int | None:
    r = c.post(f"/v1/vms/{vm_id}/migrate", json={})
    if r.status_code == 409:  # not running yet
        return None
    assert r.status_code == 202, r.text
    return int(r.json()["id"])


def _finished(c: httpx.Client, migration_id: int) -> str | None:
    state = str(c.get(f"/v1/migrations/{migration_id}").json()["state"])
    return state if state in ("completed", "failed", "cancelled") else None


def test_schemathesis_finds_nothing(daemon: Daemon, lab: list[LabHost], tmp_path: Path) -> None:
    try:
        _seed_the_pool(daemon, lab)
        run = subprocess.run(
            [
                ST,
                "--config-file",
                str(CONFIG),
                "run",
                f"{daemon.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {daemon.token}",
                "--checks",
                "all",
                "--seed",
                str(SEED),
                "--max-examples",
                str(MAX_EXAMPLES),
                "--workers",
                "1",
                "--request-timeout",
                "120",
                "--no-color",
                "--report",
                "junit",
                "--report-dir",
                str(tmp_path / "report"),
            ],
            capture_output=True,
            text=True,
            timeout=1200,
            cwd=tmp_path,  # its cache (.schemathesis/) goes there, not into the checkout
        )
        (tmp_path / "schemathesis.log").write_text(run.stdout + run.stderr)
        failures = run.stdout.split("=== WARNINGS ===")[0][-20000:]
        summary = f"{failures}\n...\n{run.stdout[-1500:]}"
        assert run.returncode == 0, summary
        assert "No issues found" in run.stdout or " passed" in run.stdout, summary
        # The daemon logged no unexpected error while it was probed (each would be a 500).
        assert "unexpected error" not in daemon.log.read_text()
    finally:
        wipe_lab_domains(lab)
