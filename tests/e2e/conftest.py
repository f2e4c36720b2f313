"""The real daemon (`vmpool serve`) as a subprocess, driven over HTTP, against lab hosts."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import (  # noqa: F401  (fixtures)
    IMAGE_DIR,
    TEST_LAB_DIR,
    lab,
    tiny_image,
)

VMPOOL = str(Path(sys.executable).parent / "vmpool")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Daemon:
    url: str
    token: str
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60
        )


def wait_until(what: str, predicate: Any, seconds: float = 240.0) -> Any:
    """Poll until `predicate()` is truthy; a bound on waiting, not a timing assertion."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"gave up waiting for {what} ({seconds} s)")


def vmpool_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([VMPOOL, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def daemon_env(tmp_path: Path) -> dict[str, str]:
    return daemon_env_in(tmp_path)


def daemon_env_in(folder: Path) -> dict[str, str]:
    """The environment of a daemon whose data is in `folder`, reaching the test lab."""
    # (nor a service manager's: a test that plays one sets its own)
    service_manager = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"}
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("VMPOOL_") and k not in service_manager
    }
    env.update(
        VMPOOL_DATA_DIR=str(folder / "data"),
        VMPOOL_DOMAIN_TYPE="qemu",
        VMPOOL_IMAGE_DIR=str(IMAGE_DIR),
        VMPOOL_SYNC_INTERVAL_S="1",
        VMPOOL_LOG_LEVEL="info",
        VMPOOL_CONFIG="",
        # the lab's hosts are reached over their UNIX sockets in the lab dir (a list
        # setting is JSON in the environment)
        VMPOOL_HOST_URI_SOCKET_DIRS=json.dumps([str(TEST_LAB_DIR)]),
    )
    return env


_TEMPLATE: dict[str, tuple[Path, str]] = {}  # SQLite: a migrated database and its token


# `vmpool db upgrade` and `vmpool token create --role admin`, the CLI's own commands, in one
# Python process: a second process would pay the CLI's imports again (1-2 s on the lab machine).
_SETUP_DB = """
from vmpool.cli import app
app(["db", "upgrade"], standalone_mode=False)
app(["token", "create", "--role", "admin"], standalone_mode=False)
"""


def _migrated_with_token(env: dict[str, str]) -> str:
    """`vmpool db upgrade` and `vmpool token create --role admin`, by the real CLI; the token."""
    made = subprocess.run([sys.executable, "-c", _SETUP_DB], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def prepare_database(env: dict[str, str]) -> str:
    """The daemon's database migrated, with an admin token (returned). A new SQLite database
    is a copy of one the CLI made once in this test session: the same schema and rows, without
    paying its 7 s (two Python processes, twenty migrations) for every daemon a test starts.
    PostgreSQL, an existing database or one named by a settings file: the CLI each time."""
    data_dir = env.get("VMPOOL_DATA_DIR")
    db = Path(data_dir) / "vmpool.db" if data_dir else None
    if db is None or "VMPOOL_DATABASE_URL" in env or env.get("VMPOOL_CONFIG") or db.exists():
        return _migrated_with_token(env)
    if "sqlite" not in _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="vmpool-e2e-template-"))
        token = _migrated_with_token(dict(env, VMPOOL_DATA_DIR=str(folder)))
        _TEMPLATE["sqlite"] = (folder / "vmpool.db", token)
    template, token = _TEMPLATE["sqlite"]
    db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, db)
    return token


def start_daemon(env: dict[str, str], tmp_path: Path, token: str | None = None) -> Daemon:
    """`token`: the database is prepared already (another replica on it made this token)."""
    return wait_healthy(launch_daemon(env, tmp_path, token))


def launch_daemon(env: dict[str, str], tmp_path: Path, token: str | None = None) -> Daemon:
    """`vmpool serve` started, not yet waited for (wait_healthy): several daemons on one
    database start side by side rather than one after the other."""
    token = token or prepare_database(env)
    port = free_port()
    log = tmp_path / "daemon.log"
    proc = subprocess.Popen(
        [VMPOOL, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return Daemon(url=f"http://127.0.0.1:{port}", token=token, env=env, proc=proc, log=log)


def wait_healthy(d: Daemon) -> Daemon:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{d.url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
        assert d.proc.poll() is None, d.log.read_text()
    return d


@pytest.fixture
def daemon(daemon_env: dict[str, str], tmp_path: Path) -> Iterator[Daemon]:
    d = start_daemon(daemon_env, tmp_path)
    yield d
    d.proc.terminate()
    try:
        d.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        d.proc.kill()
