"""`vmpool export-pool` output is what `vmpool plan` reads, on both databases."""

from __future__ import annotations

from sqlalchemy import Engine

from vmpool.adapters.db.engine import make_session_factory
from vmpool.adapters.db.tables import HostRow, VmRow
from vmpool.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from vmpool.domain.cluster_state import parse_cluster
from vmpool.domain.rebalance import PlannerConfig, plan
from vmpool.services.cluster_export import export_pool
from vmpool.services.unit_of_work import ServiceContext


def test_exported_pool_plans_offline(migrated_engine: Engine) -> None:
    factory = make_session_factory(migrated_engine)
    ctx = ServiceContext(uow=lambda: SqlAlchemyUnitOfWork(factory), hypervisors=None, images=None)  # type: ignore[arg-type]
    with ctx.uow() as uow:
        pool = uow.pools.by_name("default")
        assert pool is not None
        hosts = [
            uow.hosts.add(
                HostRow(
                    pool_id=pool.id,
                    name=f"h{i}",
                    uri=f"test:///{i}",
                    host_uuid=f"u{i}",
                    cpus=16,
                    memory_mib=65536,
                    disk_gib=500,
                    state="maintenance" if i == 2 else "up",
                )
            )
            for i in range(3)
        ]
        for j in range(8):
            uow.vms.add(
                VmRow(
                    pool_id=pool.id,
                    host_id=hosts[0].id,
                    name=f"v{j}",
                    uuid=f"x{j}",
                    vcpus=2,
                    memory_mib=4096,
                    state="running",
                    migratable=j != 0,
                )
            )
        uow.commit()
    data = export_pool(ctx)
    assert {h["name"]: h["state"] for h in data["hosts"]} == {
        "h0": "up",
        "h1": "up",
        "h2": "maintenance",
    }
    assert data["policy"]["reserved_memory_mib"] == 512
    assert data["policy"]["strategy"] == "balance" and data["policy"]["min_gain"] == 0.01
    # No load sample yet: no cpu_usage, so each VM counts as fully busy.
    assert all("cpu_usage" not in v for v in data["vms"])
    snapshot = parse_cluster(data)
    result = plan(snapshot, PlannerConfig(strategy="balance", max_moves=10))
    assert result.moves and result.score_after < result.score_before
    assert all(m.target == "h1" and m.vm != "v0" for m in result.moves)  # not onto maintenance
