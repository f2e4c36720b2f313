"""The daemon is killed (SIGKILL) during a migration; after a restart the record matches
where the VM really runs."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import start_daemon
from tests.integration.conftest import where, wipe_lab_domains
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage

pytestmark = pytest.mark.lab


def test_sigkill_mid_migration_is_settled_after_restart(
    daemon_env: dict[str, str], tmp_path: Path, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    env = dict(daemon_env, VMPOOL_SERIAL_LOG_DIR=str(tmp_path / "serial"),
               VMPOOL_MIGRATION_QUEUE_INTERVAL_S="1")  # fmt: skip
    d = start_daemon(env, tmp_path)
    try:
        with d.client() as c:
            hosts = [c.post("/v1/hosts", json=h.registration()).json() for h in lab[:2]]
            vm = c.post("/v1/vms", json={
                "name": "crashy", "vcpus": 1, "memory_mib": 256, "image": tiny_image.name,
                "hosts": [lab[0].name]}).json()  # fmt: skip
            time.sleep(4)  # let it boot
            r = c.post(f"/v1/vms/{vm['id']}/migrate",
                       json={"target_host_id": hosts[1]["id"], "bandwidth_mib_s": 8,
                             "completion_timeout_s_per_gib": 120})  # fmt: skip
            assert r.status_code == 202, r.text
            mid = r.json()["id"]
            deadline = time.monotonic() + 60
            m: dict[str, Any] = {}
            while time.monotonic() < deadline:
                m = c.get(f"/v1/migrations/{mid}").json()
                if m["state"] == "running" and (m["data_processed"] or 0) > 0:
                    break
                time.sleep(0.2)
            assert m["state"] == "running", m
        d.proc.send_signal(signal.SIGKILL)  # mid-migration
        d.proc.wait(timeout=10)

        d2 = start_daemon(env, tmp_path)
        try:
            with d2.client() as c:
                deadline = time.monotonic() + 180
                while time.monotonic() < deadline:
                    m = c.get(f"/v1/migrations/{mid}").json()
                    if m["state"] in ("completed", "failed"):
                        break
                    time.sleep(0.5)
                assert m["state"] in ("completed", "failed"), m
                running, _ = where(lab, vm["uuid"])
                assert len(running) == 1  # never on two hosts
                got = c.get(f"/v1/vms/{vm['id']}").json()
                assert got["host_name"] == running[0]
                expected = lab[1].name if m["state"] == "completed" else lab[0].name
                assert running[0] == expected, (m, running)
                assert got["state"] == "running"
        finally:
            d2.proc.terminate()
            d2.proc.wait(timeout=30)
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
        wipe_lab_domains(lab)
