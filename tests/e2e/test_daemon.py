"""End to end: `vmpool serve` with its scheduler, over HTTP, against real lab hosts."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Daemon, vmpool_cli
from tests.integration.conftest import wipe_lab_domains
from vmpool.lab.hosts import LabHost

pytestmark = pytest.mark.lab


def virsh(uri: str, *args: str) -> str:
    out = subprocess.run(["virsh", "-c", uri, *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def wait_for(predicate: object, seconds: float = 30.0) -> bool:
    """Poll until true; a bound on waiting, not a timing assertion."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.3)
    return False


def test_vm_created_over_http_runs_and_outside_changes_show_up(
    daemon: Daemon, lab: list[LabHost]
) -> None:
    try:
        with daemon.client() as c:
            for h in lab[:2]:
                assert c.post("/v1/hosts", json=h.registration()).status_code == 201
            r = c.post("/v1/vms", json={"name": "e2e-1", "vcpus": 1, "memory_mib": 64})
            assert r.status_code == 201, r.text
            vm = r.json()
            host = next(h for h in lab if h.name == vm["host_name"])
            listing = virsh(host.uri, "list", "--name")
            assert "e2e-1" in listing.split()

            virsh(host.uri, "destroy", "e2e-1")  # behind vmpool's back
            assert wait_for(lambda: c.get(f"/v1/vms/{vm['id']}").json()["state"] == "stopped")

            assert c.post(f"/v1/vms/{vm['id']}/start").json()["state"] == "running"
            assert "e2e-1" in virsh(host.uri, "list", "--name").split()
            assert c.delete(f"/v1/vms/{vm['id']}").status_code == 204
            assert "e2e-1" not in virsh(host.uri, "list", "--all", "--name").split()
    finally:
        wipe_lab_domains(lab)


def test_openapi_and_docs_are_served(daemon: Daemon) -> None:
    spec = httpx.get(f"{daemon.url}/openapi.json").json()
    assert spec["paths"]["/v1/vms"]["post"]["operationId"] == "create_vm"
    assert httpx.get(f"{daemon.url}/docs").status_code == 200
    assert httpx.get(f"{daemon.url}/v1/vms").status_code == 401


def test_serve_refuses_an_unmigrated_database(daemon_env: dict[str, str]) -> None:
    out = vmpool_cli(daemon_env, "serve", "--port", "1")
    assert out.returncode != 0
    assert "vmpool db upgrade" in out.stderr
    assert "Traceback" not in out.stderr


def test_settings_come_from_a_toml_file(daemon_env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "from-toml"
    cfg = tmp_path / "vmpool.toml"
    cfg.write_text(f'data_dir = "{data}"\n')
    env = {k: v for k, v in daemon_env.items() if k != "VMPOOL_DATA_DIR"}
    out = vmpool_cli(env, "db", "upgrade", "--config", str(cfg))
    assert out.returncode == 0, out.stderr
    assert (data / "vmpool.db").is_file()
    # The environment wins over the file.
    env["VMPOOL_DATA_DIR"] = str(tmp_path / "from-env")
    assert vmpool_cli(env, "db", "upgrade", "--config", str(cfg)).returncode == 0
    assert (tmp_path / "from-env" / "vmpool.db").is_file()
    bad = tmp_path / "bad.toml"
    bad.write_text("no_such_setting = 1\n")
    out = vmpool_cli(env, "db", "upgrade", "--config", str(bad))
    assert out.returncode != 0 and "no_such_setting" in out.stderr


def test_a_second_daemon_on_the_same_database_is_refused(
    daemon: Daemon, daemon_env: dict[str, str]
) -> None:
    out = vmpool_cli(daemon_env, "serve", "--port", "1")
    assert out.returncode != 0
    assert "another vmpool daemon" in out.stderr and "Traceback" not in out.stderr
    assert httpx.get(f"{daemon.url}/healthz").status_code == 200  # the first one is unharmed
