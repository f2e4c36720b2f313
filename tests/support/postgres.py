"""A throwaway PostgreSQL server for tests and benchmarks, from the installed binaries.

PostgreSQL refuses to run as root, so as root the server runs as the
`postgres` system user (which the Debian package creates).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PG_BIN_CANDIDATES = [Path("/usr/lib/postgresql/15/bin"), Path("/usr/local/bin"), Path("/usr/bin")]


def _pg_bin(name: str) -> str:
    for d in PG_BIN_CANDIDATES:
        if (d / name).exists():
            return str(d / name)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_pg_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class PgServer:
    """A throwaway server that a test may stop and start again (same port, same data)."""

    def __init__(self, base: Path, port: int) -> None:
        self.base, self.data, self.port = base, base / "data", port
        self.url = f"postgresql+psycopg://vmpool@127.0.0.1:{port}/postgres"

    def start(self) -> None:
        """Start the server and return once it takes connections."""
        opts = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c max_connections=200"
        )
        subprocess.run(
            _as_pg_user([_pg_bin("pg_ctl"), "-D", str(self.data), "-o", opts,
                         "-l", str(self.base / "log"), "-w", "start"]),
            check=True,
            capture_output=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server (`immediate`: as a crash would, every session cut at once)."""
        subprocess.run(
            _as_pg_user([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"]),
            capture_output=True,
        )


@contextlib.contextmanager
def throwaway_postgres_server() -> Iterator[PgServer]:
    """Start a private server on 127.0.0.1 and yield its handle (a superuser URL, stop() and
    start()); remove it all afterwards."""
    base = Path(tempfile.mkdtemp(prefix="vmpool-pg-"))
    server = PgServer(base, _free_port())
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    subprocess.run(
        _as_pg_user(
            [_pg_bin("initdb"), "-D", str(server.data), "-U", "vmpool", "-A", "trust", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a private server on 127.0.0.1 and yield a superuser URL; remove it all afterwards."""
    with throwaway_postgres_server() as server:
        yield server.url


def create_database(admin_url: str, name: str, template: str | None = None) -> str:
    """A fresh database on the throwaway server: empty, or a copy of the database `template`
    (which nobody may be connected to meanwhile)."""
    import psycopg

    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"
