"""The database layer on SQLite and a real PostgreSQL: migrations, schema checks, repositories."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    Numeric,
    inspect,
    select,
    text,
)

from tests.support.rows import add_host, add_migration, add_vm
from vmpool.adapters.db.engine import make_engine, make_session_factory
from vmpool.adapters.db.migrations import (
    check_schema,
    current_revision,
    head_revision,
    upgrade,
)
from vmpool.adapters.db.repositories import EventQuery
from vmpool.adapters.db.tables import Base, HostRow, VmRow
from vmpool.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from vmpool.config import Settings
from vmpool.domain.model import Resources
from vmpool.errors import SchemaMismatch
from vmpool.services.tokens import hash_token
from vmpool.wiring import build_runtime


def test_migrations_apply_from_empty(db_url: str) -> None:
    engine = make_engine(db_url)
    with pytest.raises(SchemaMismatch, match="vmpool db upgrade"):
        check_schema(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    check_schema(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"pools", "hosts", "vms", "foreign_domains", "api_tokens", "events"} <= tables
    with engine.connect() as conn:
        pools = conn.execute(text("SELECT name, cpu_allocation_ratio FROM pools")).all()
    assert [(p[0], p[1]) for p in pools] == [("default", 4.0)]
    upgrade(engine)  # idempotent
    engine.dispose()


def test_a_newer_schema_is_refused(migrated_engine: Engine) -> None:
    with migrated_engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff-from-the-future'"))
    with pytest.raises(SchemaMismatch, match="newer vmpool"):
        check_schema(migrated_engine)


def _uow(engine: Engine) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(make_session_factory(engine))


def test_unit_of_work_rolls_back_unless_committed(migrated_engine: Engine) -> None:
    with _uow(migrated_engine) as uow:
        uow.events.record("test", "kept", "x")
        uow.commit()
    with _uow(migrated_engine) as uow:
        uow.events.record("test", "dropped", "x")
        # no commit
    with _uow(migrated_engine) as uow:
        kinds = [e.kind for e in uow.events.page(EventQuery())]
    assert kinds == ["kept"]


def test_allocations_sum_the_vms_per_host(migrated_engine: Engine) -> None:
    with _uow(migrated_engine) as uow:
        pool = uow.pools.by_name("default")
        assert pool is not None
        h1 = uow.hosts.add(HostRow(pool_id=pool.id, name="h1", uri="test:///1", host_uuid="u1"))
        h2 = uow.hosts.add(HostRow(pool_id=pool.id, name="h2", uri="test:///2", host_uuid="u2"))
        for i, (host, cpu, mem) in enumerate([(h1, 2, 512), (h1, 1, 256), (h2, 4, 1024)]):
            uow.vms.add(
                VmRow(pool_id=pool.id, host_id=host.id, name=f"v{i}", uuid=f"uuid-{i}",
                      vcpus=cpu, memory_mib=mem, state="running")
            )  # fmt: skip
        uow.commit()
        alloc = uow.hosts.allocations(pool.id)
        h1_id, h2_id = h1.id, h2.id
    assert alloc[h1_id].shared == Resources(3, 768, 0)
    assert alloc[h1_id].vm_count == 2
    assert alloc[h2_id].shared == Resources(4, 1024, 0)
    assert alloc[h2_id].dedicated == Resources(0, 0, 0)


def test_pagination_is_stable_by_id(migrated_engine: Engine) -> None:
    with _uow(migrated_engine) as uow:
        pool = uow.pools.by_name("default")
        assert pool is not None
        for i in range(7):
            uow.vms.add(VmRow(pool_id=pool.id, name=f"p{i}", uuid=f"pu-{i}", vcpus=1,
                              memory_mib=64, state="stopped" if i % 2 else "running"))  # fmt: skip
        uow.commit()
        first = uow.vms.page(limit=3)
        second = uow.vms.page(after_id=first[-1].id, limit=3)
        running = uow.vms.page(state="running", limit=100)
        assert [v.name for v in first] == ["p0", "p1", "p2"]
        assert [v.name for v in second] == ["p3", "p4", "p5"]
        assert [v.name for v in running] == ["p0", "p2", "p4", "p6"]


def test_tokens_are_stored_hashed(migrated_engine: Engine) -> None:
    from vmpool.services.tokens import Role, authenticate, create_token
    from vmpool.services.unit_of_work import ServiceContext

    factory = make_session_factory(migrated_engine)
    ctx = ServiceContext(uow=lambda: SqlAlchemyUnitOfWork(factory), hypervisors=None, images=None)  # type: ignore[arg-type]
    token = create_token(ctx, Role.ADMIN, "t")
    with migrated_engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert stored == [hash_token(token)]
    assert token not in stored[0]
    assert authenticate(ctx, token).role is Role.ADMIN


def test_the_migrations_build_the_schema_the_code_declares(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


ROW_ID = 7  # every table gets a row with this id, every reference points at it


def _dummy(column: Column[Any]) -> object:
    kind = column.type
    if column.primary_key or column.foreign_keys:
        return ROW_ID
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, Float | Numeric):
        return 1.0
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 1, tzinfo=UTC)
    if isinstance(kind, JSON):
        return {}
    return "x"


def test_upgrading_a_populated_database_keeps_every_row_and_reference(db_url: str) -> None:
    """From 0007 (before tables were rebuilt) to head, with a row in every table, each
    referring to the others: nothing lost, no reference cleared by a table rebuild."""
    engine = make_engine(db_url)
    upgrade(engine, "0007")
    old = MetaData()
    old.reflect(engine)
    tables = [t for t in old.sorted_tables if t.name != "alembic_version"]
    keys = {t.name: [c.name for c in t.columns if c.primary_key or c.foreign_keys] for t in tables}
    with engine.begin() as conn:
        for t in tables:
            values = {c.name: _dummy(c) for c in t.columns if c.name in keys[t.name]}
            values.update({c.name: _dummy(c) for c in t.columns if not c.nullable})
            conn.execute(t.insert().values(**values))

    def rows(meta: MetaData) -> dict[str, list[tuple[object, ...]]]:
        with engine.connect() as conn:
            return {
                name: [
                    tuple(r) for r in conn.execute(select(*(meta.tables[name].c[c] for c in cols)))
                ]
                for name, cols in keys.items()
            }

    before = rows(old)
    assert all(before.values())
    upgrade(engine)
    new = MetaData()
    new.reflect(engine)
    assert rows(new) == before
    engine.dispose()


def test_the_sqlite_database_is_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        data = tmp_path / "new" / "data"
        runtime = build_runtime(Settings(data_dir=data, database_url=None, serial_log_dir=None))
        upgrade(runtime.engine)
        runtime.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(data.stat().st_mode) == 0o711  # others may not list it
    for f in data.glob("vmpool.db*"):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_ids_are_never_reused(migrated_engine: Engine) -> None:
    """Delete the newest VM, host and migration, add new ones: the ids go on, on both
    databases, and a final step holding the old id finds nothing."""

    def add_three(uow: SqlAlchemyUnitOfWork, n: int) -> tuple[int, int, int]:
        host = add_host(uow, f"h{n}")
        vm = add_vm(uow, f"v{n}", host)
        migration = add_migration(uow, vm, host, None, "failed")
        uow.commit()
        return host.id, vm.id, migration.id

    with _uow(migrated_engine) as uow:
        first = add_three(uow, 1)
    with _uow(migrated_engine) as uow:
        uow.vms.delete(uow.vms.get(first[1]))  # its migration goes with it (cascade)
        uow.hosts.delete(uow.hosts.get(first[0]))
        uow.commit()
    with _uow(migrated_engine) as uow:
        second = add_three(uow, 2)
        assert all(b > a for a, b in zip(first, second, strict=True)), (first, second)
        # The old id, with the old VM's UUID, names nothing.
        assert uow.vms.same(first[1], "uuid-v1") is None
        assert uow.vms.same(second[1], "uuid-v1") is None
        assert uow.vms.same(second[1], "uuid-v2") is not None
