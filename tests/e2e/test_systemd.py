"""systemd on a hypervisor host: the unit in deploy/ verifies, its security exposure is the
one docs/operations.md records, its sysusers.d and tmpfiles.d entries apply, and the real
`vmpool serve` speaks the notify protocol to a test playing the service manager. No running
systemd is needed."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import fresh_db_url
from tests.e2e.conftest import VMPOOL, free_port, vmpool_cli

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "vmpool.service"
INSTALLED = "/opt/vmpool/.venv/bin/vmpool"  # where docs/operations.md installs vmpool


def run(*args: str, stdin: Path | None = None) -> subprocess.CompletedProcess[str]:
    with stdin.open() if stdin is not None else open(os.devnull) as given:
        return subprocess.run(args, stdin=given, capture_output=True, text=True, timeout=60)


def test_the_unit_verifies(tmp_path: Path) -> None:
    # verify wants ExecStart's program to exist: this checkout's vmpool stands in for it
    text = UNIT.read_text()
    assert f"ExecStart={INSTALLED} serve" in text
    unit = tmp_path / "vmpool.service"
    unit.write_text(text.replace(INSTALLED, VMPOOL))
    out = run("systemd-analyze", "verify", str(unit))
    assert out.returncode == 0 and out.stdout + out.stderr == "", out.stdout + out.stderr
    assert "Type=notify" in text and "WatchdogSec=" in text


def test_the_documented_security_exposure_is_the_units() -> None:
    out = run("systemd-analyze", "security", "--offline=yes", "--no-pager", str(UNIT))
    found = re.search(r"Overall exposure level for vmpool\.service: (\d+\.\d)", out.stdout)
    assert found, out.stdout + out.stderr
    docs = (ROOT / "docs" / "operations.md").read_text()
    assert f"exposure level **{found.group(1)}**" in docs


def test_the_user_and_its_folders_are_made(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    made = run("systemd-sysusers", f"--root={tmp_path}", "-",
               stdin=DEPLOY / "sysusers.d" / "vmpool.conf")  # fmt: skip
    assert made.returncode == 0, made.stderr
    passwd = (tmp_path / "etc" / "passwd").read_text()
    assert re.search(r"^vmpool:x:\d+:\d+:vmpool daemon:/var/lib/vmpool:", passwd, re.M)
    group = (tmp_path / "etc" / "group").read_text()
    assert re.search(r"^libvirt:x:\d+:vmpool$", group, re.M)  # reaches qemu:///system
    made = run("systemd-tmpfiles", f"--root={tmp_path}", "--create", "-",
               stdin=DEPLOY / "tmpfiles.d" / "vmpool.conf")  # fmt: skip
    assert made.returncode == 0, made.stderr
    uid = int(re.search(r"^vmpool:x:(\d+):", passwd, re.M).group(1))  # type: ignore[union-attr]
    state = (tmp_path / "var" / "lib" / "vmpool").stat()
    assert (state.st_uid, oct(state.st_mode & 0o777)) == (uid, "0o711")
    config = (tmp_path / "etc" / "vmpool").stat()
    assert (config.st_uid, oct(config.st_mode & 0o777)) == (0, "0o750")


def listening() -> tuple[socket.socket, str]:
    """A service manager's socket (abstract, as NOTIFY_SOCKET names it: `@name`)."""
    name = f"vmpool-e2e-{os.getpid()}-{time.monotonic_ns()}"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + name)
    return s, "@" + name


@pytest.fixture
def manager_socket() -> Iterator[tuple[socket.socket, str]]:
    s, address = listening()
    yield s, address
    s.close()


def receive(s: socket.socket, seconds: float) -> str | None:
    s.settimeout(seconds)
    try:
        return s.recv(4096).decode()
    except TimeoutError:
        return None


def test_the_daemon_tells_its_service_manager(
    daemon_env: dict[str, str], tmp_path: Path, manager_socket: tuple[socket.socket, str]
) -> None:
    sock, address = manager_socket
    env = {
        **daemon_env,
        "NOTIFY_SOCKET": address,
        "WATCHDOG_USEC": "1000000",  # WATCHDOG=1 every 0.5 s
        "VMPOOL_LOG_FORMAT": "json",
        # its first start registers "the local host": libvirt's test driver stands in
        "VMPOOL_REGISTER_LOCAL_HOST": "true",
        "VMPOOL_LOCAL_HOST_URI": "test:///default",
        "VMPOOL_ALLOW_TEST_DRIVER": "true",
    }
    assert vmpool_cli(env, "db", "upgrade").returncode == 0
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "daemon.log"
    proc = subprocess.Popen(
        [VMPOOL, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        # READY=1, once the database is checked, the API listens and the first sync ran
        deadline = time.monotonic() + 60
        said: list[str] = []
        while not any("READY=1" in m.split("\n") for m in said):
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            message = receive(sock, 0.05)
            if message is not None:
                said.append(message)
        # /readyz answers 200 by then: the first try, no retry
        assert httpx.get(f"{url}/readyz", timeout=5).status_code == 200
        ready = next(m for m in said if "READY=1" in m.split("\n"))
        # the database was empty: the one host is the local host, registered at the start
        assert "STATUS=single daemon: 1/1 hosts up" in ready.split("\n")

        # WATCHDOG=1 keeps arriving (the scheduler sends it at half of WATCHDOG_USEC)
        pings, until = 0, time.monotonic() + 2.0
        while time.monotonic() < until:
            message = receive(sock, max(0.01, until - time.monotonic()))
            pings += message is not None and "WATCHDOG=1" in message.split("\n")
        assert pings >= 3

        # SIGTERM: STOPPING=1, and the daemon ends
        proc.send_signal(signal.SIGTERM)
        stopping = None
        deadline = time.monotonic() + 20
        while stopping is None and time.monotonic() < deadline:
            message = receive(sock, 1)
            if message is not None and "STOPPING=1" in message.split("\n"):
                stopping = message
        assert stopping is not None
        assert proc.wait(timeout=20) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    # The log says READY came after the first sync had synced the host (its foreign
    # domain, the test driver's "test", is reported by that sync).
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    messages = [x["message"] for x in lines]
    synced = next(i for i, m in enumerate(messages) if "foreign ['test']" in m)
    ready_line = next(i for i, m in enumerate(messages) if m.startswith("ready: "))
    assert synced < ready_line
    assert any(m.startswith("registered the local host test:///default") for m in messages)


def until_said(
    s: socket.socket, line: str, proc: subprocess.Popen[bytes], log: Path, alive: bool = True
) -> str:
    """The first datagram with `line`, within 60 s (`alive`: while the daemon runs)."""
    deadline = time.monotonic() + 60
    while True:
        message = receive(s, 0.1)
        if message is not None and line in message.split("\n"):
            return message
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        assert not alive or proc.poll() is None, log.read_text()[-3000:]


@pytest.mark.postgres
def test_replicas_are_ready_once_they_know_their_role(
    daemon_env: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """On PostgreSQL: READY=1 with the role in STATUS=; a follower, which runs no jobs,
    still sends WATCHDOG=1 (from a scheduler of its own)."""
    url = fresh_db_url("postgresql", tmp_path, request)
    base = {**daemon_env, "VMPOOL_DATABASE_URL": url, "WATCHDOG_USEC": "1000000",
            "VMPOOL_LEADER_POLL_S": "0.5"}  # fmt: skip
    assert vmpool_cli(base, "db", "upgrade").returncode == 0
    started = []
    try:
        for i in range(2):
            sock, address = listening()
            log = tmp_path / f"replica{i}.log"
            env = {**base, "NOTIFY_SOCKET": address, "VMPOOL_DATA_DIR": str(tmp_path / f"d{i}")}
            proc = subprocess.Popen(
                [VMPOOL, "serve", "--host", "127.0.0.1", "--port", str(free_port())],
                env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
            )  # fmt: skip
            started.append((sock, proc, log))
            if i == 0:  # the first is the leader: its READY says so before the second starts
                ready = until_said(sock, "READY=1", proc, log)
                assert "STATUS=leader (generation 1): 0/0 hosts up" in ready.split("\n")
        sock, proc, log = started[1]
        ready = until_said(sock, "READY=1", proc, log)
        assert "STATUS=follower: 0/0 hosts up" in ready.split("\n")
        until_said(sock, "WATCHDOG=1", proc, log)
        until_said(sock, "WATCHDOG=1", proc, log)
        for sock, proc, log in started:
            proc.send_signal(signal.SIGTERM)
            until_said(sock, "STOPPING=1", proc, log, alive=False)
            assert proc.wait(timeout=20) in (0, -signal.SIGTERM)
    finally:
        for sock, proc, _ in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            sock.close()
