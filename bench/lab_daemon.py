"""A bench's vmpool: a lab of its own, the daemon's API served in a thread on a fresh
SQLite database, an admin client, the lab hosts registered; the lab goes down after."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.integration.conftest import wipe_lab_domains
from tests.integration.live_server import serve_in_thread

from vmpool.adapters.db.migrations import upgrade
from vmpool.api.app import create_app
from vmpool.config import Settings
from vmpool.lab.hosts import LabHost, lab_down, lab_up
from vmpool.services.tokens import Role, create_token
from vmpool.wiring import Runtime, build_runtime

LAB_DIR = Path("/var/lib/vmpool-lab-bench")
BASE_PORT = 16810
IMAGE_DIR = Path("/var/cache/vmpool/images")


@dataclass
class BenchPool:
    runtime: Runtime
    client: httpx.Client
    hosts: list[LabHost]
    host_ids: list[int]
    settings: Settings


@contextlib.contextmanager
def bench_pool(n_hosts: int = 2) -> Iterator[BenchPool]:
    hosts = lab_up(n_hosts, LAB_DIR, BASE_PORT)
    wipe_lab_domains(hosts)  # lab_down keeps definitions; start from a clean lab
    tmp = Path(tempfile.mkdtemp(prefix="vmpool-bench-"))
    settings = Settings(
        data_dir=tmp,
        database_url=f"sqlite:///{tmp}/db.sqlite",
        image_dir=IMAGE_DIR,
        serial_log_dir=tmp / "serial",
        domain_type="qemu",
        migration_poll_s=0.5,
        host_uri_socket_dirs=[LAB_DIR],  # the lab's hosts answer on UNIX sockets there
    )
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    token = create_token(runtime.ctx, Role.ADMIN, "bench")
    try:
        with (
            serve_in_thread(create_app(runtime.ctx)) as url,
            httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120
            ) as c,
        ):
            ids = [c.post("/v1/hosts", json=h.registration()).json()["id"] for h in hosts]
            yield BenchPool(runtime, c, hosts, ids, settings)
    finally:
        runtime.close()
        lab_down(LAB_DIR)
