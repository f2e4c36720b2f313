"""Placement speed: the pure function at 1,000 hosts / 20,000 VMs, and POST /v1/vms end to end.

    .venv/bin/python -m bench.placement [--quick]

Prints p50/p99 per placement and placements per second for the pure function; then the p50/p99
of POST /v1/vms through a real uvicorn server with a fake hypervisor (so that only vmpool's own
cost is measured) on SQLite and on a throwaway PostgreSQL. Targets: pure p50 <= 2 ms, p99 <= 10 ms;
API p50 <= 30 ms.
"""

from __future__ import annotations

import argparse
import platform
import random
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.fake_hypervisor import FakeConnector
from vmpool.domain.host import HostState
from vmpool.domain.model import (
    AllocationPolicy,
    PlacementHost,
    PlacementRequirements,
    Resources,
    make_placement_host,
)
from vmpool.domain.placement import place

SEED = 20261124


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def vm_sizes(rng: random.Random) -> tuple[int, int]:
    vcpus = rng.choice([1, 1, 2, 2, 2, 4, 4, 8])
    return vcpus, vcpus * rng.choice([1024, 2048, 4096])


def build_pool(
    n_hosts: int, n_vms: int, rng: random.Random
) -> tuple[AllocationPolicy, list[PlacementHost]]:
    policy = AllocationPolicy()
    used = [[0.0, 0.0] for _ in range(n_hosts)]
    for _ in range(n_vms):
        h = rng.randrange(n_hosts)
        vcpus, mem = vm_sizes(rng)
        used[h][0] += vcpus
        used[h][1] += mem
    hosts = [
        make_placement_host(
            id=i,
            name=f"node-{i:04d}",
            state=HostState.UP if i % 50 else HostState.MAINTENANCE,
            physical=Resources(64, 393216, 4000),
            policy=policy,
            shared_use=Resources(used[i][0], used[i][1], 0),
        )
        for i in range(n_hosts)
    ]
    return policy, hosts


def bench_pure(n_hosts: int, n_vms: int, n_place: int) -> dict[str, float]:
    rng = random.Random(SEED)
    policy, hosts = build_pool(n_hosts, n_vms, rng)
    index = {h.name: i for i, h in enumerate(hosts)}
    times: list[float] = []
    placed = 0
    t_all = time.perf_counter()
    for _ in range(n_place):
        vcpus, mem = vm_sizes(rng)
        req = PlacementRequirements(vcpus=vcpus, memory_mib=mem)
        t0 = time.perf_counter()
        result = place(hosts, req, policy)
        times.append(time.perf_counter() - t0)
        if result.host is not None:
            i = index[result.host.name]
            hosts[i] = replace(hosts[i], used=hosts[i].used + req.claim_on(hosts[i]))
            placed += 1
    elapsed = time.perf_counter() - t_all
    return {
        "p50_ms": percentile(times, 50) * 1000,
        "p99_ms": percentile(times, 99) * 1000,
        "placed": placed,
        "per_s": n_place / elapsed,
    }


def _seed_database(url: str, n_hosts: int, n_vms: int) -> None:
    from sqlalchemy import insert

    from vmpool.adapters.db.engine import make_engine
    from vmpool.adapters.db.migrations import upgrade
    from vmpool.adapters.db.tables import HostRow, VmRow

    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    hosts = [
        {"id": i + 1, "pool_id": 1, "name": f"node-{i:04d}", "uri": f"fake:///node-{i:04d}",
         "host_uuid": str(uuid.UUID(int=i + 1)), "hostname": f"node-{i:04d}", "state": "up",
         "arch": "x86_64", "cpus": 64, "memory_mib": 393216, "disk_gib": 4000,
         "domain_types": "qemu", "traits": "", "operator_traits": "", "cpu_model": "",
         "libvirt_version": "", "hypervisor_version": "", "failures": 0, "created_at": now}
        for i in range(n_hosts)
    ]  # fmt: skip
    vms = []
    for j in range(n_vms):
        vcpus, mem = vm_sizes(rng)
        vms.append(
            {"pool_id": 1, "host_id": rng.randrange(n_hosts) + 1, "name": f"seed-{j:05d}",
             "uuid": str(uuid.uuid4()), "vcpus": vcpus, "memory_mib": mem, "max_vcpus": vcpus,
             "max_memory_mib": mem, "disk_gib": 0,
             "guaranteed": False, "domain_type": "qemu", "state": "running",
             "state_changed_at": now, "created_at": now, "updated_at": now}
        )  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(HostRow), hosts)
        for k in range(0, len(vms), 5000):
            conn.execute(insert(VmRow), vms[k : k + 5000])
    # A long-running database has fresh statistics (autovacuum does it on PostgreSQL);
    # a freshly bulk-loaded one does not until asked.
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def bench_api(
    url: str, n_hosts: int, n_vms: int, n_create: int, data_dir: Path
) -> dict[str, float]:
    from tests.integration.live_server import serve_in_thread

    from vmpool.api.app import create_app
    from vmpool.config import Settings
    from vmpool.services.tokens import Role, create_token
    from vmpool.wiring import build_runtime

    _seed_database(url, n_hosts, n_vms)
    settings = Settings(data_dir=data_dir, database_url=url, serial_log_dir=None)
    runtime = build_runtime(settings, connector=FakeConnector())
    runtime = replace(runtime, ctx=replace(runtime.ctx, serial_log_dir=None))
    token = create_token(runtime.ctx, Role.ADMIN, "bench")
    rng = random.Random(SEED + 1)
    times: list[float] = []
    with (
        serve_in_thread(create_app(runtime.ctx)) as base,
        httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client,
    ):
        for i in range(n_create):
            vcpus, mem = vm_sizes(rng)
            body = {"name": f"bench-{i:05d}", "vcpus": vcpus, "memory_mib": mem}
            t0 = time.perf_counter()
            r = client.post("/v1/vms", json=body)
            times.append(time.perf_counter() - t0)
            assert r.status_code == 201, r.text
    runtime.engine.dispose()
    return {"p50_ms": percentile(times, 50) * 1000, "p99_ms": percentile(times, 99) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    hosts, vms, more, api_n = (1000, 20000, 10000, 300) if not args.quick else (100, 2000, 500, 50)

    print(f"machine: {platform.node()} {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}")  # fmt: skip
    r = bench_pure(hosts, vms, more)
    print(f"pure placement, {hosts} hosts / {vms} VMs, {more} placed one after another:")
    print(f"  p50 {r['p50_ms']:.3f} ms  p99 {r['p99_ms']:.3f} ms  "
          f"{r['per_s']:.0f} placements/s  ({r['placed']:.0f} placed)")  # fmt: skip

    from tests.support.postgres import create_database, throwaway_postgres

    sizes = [(100, 2000)] if args.quick else [(100, 2000), (hosts, vms)]
    with tempfile.TemporaryDirectory() as tmp:
        for n_hosts, n_vms in sizes:
            url = f"sqlite:///{tmp}/bench-{n_hosts}.db"
            _report(
                "SQLite", n_hosts, n_vms, api_n, bench_api(url, n_hosts, n_vms, api_n, Path(tmp))
            )
        with throwaway_postgres() as admin:
            for n_hosts, n_vms in sizes:
                url = create_database(admin, f"bench_{n_hosts}")
                _report(
                    "PostgreSQL",
                    n_hosts,
                    n_vms,
                    api_n,
                    bench_api(url, n_hosts, n_vms, api_n, Path(tmp)),
                )


def _report(db: str, n_hosts: int, n_vms: int, n: int, figures: dict[str, float]) -> None:
    print(
        f"POST /v1/vms, {db}, {n_hosts} hosts / {n_vms} VMs, {n} creates: "
        f"p50 {figures['p50_ms']:.1f} ms  p99 {figures['p99_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()
