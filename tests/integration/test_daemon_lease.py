"""One daemon per database: the lease, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from vmpool.adapters.db.engine import make_session_factory
from vmpool.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from vmpool.services import daemon_lease
from vmpool.services.daemon_lease import DaemonAlreadyRunning
from vmpool.services.unit_of_work import ServiceContext


def _ctx(engine: Engine, now: list[datetime]) -> ServiceContext:
    factory = make_session_factory(engine)
    return ServiceContext(
        uow=lambda: SqlAlchemyUnitOfWork(factory),
        hypervisors=None,
        images=None,  # type: ignore[arg-type]
        clock=lambda: now[0],
    )


def test_a_second_daemon_is_refused_until_the_first_is_gone(migrated_engine: Engine) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    ctx = _ctx(migrated_engine, now)
    alive = {100: True, 200: True}
    daemon_lease.acquire(ctx, "a:100:x", "a", 100, 15, lambda p: alive[p])
    with pytest.raises(DaemonAlreadyRunning, match="host a, pid 100"):
        daemon_lease.acquire(ctx, "b:200:y", "b", 200, 15, lambda p: alive[p])
    # The holder keeps it fresh: still refused later.
    now[0] += timedelta(seconds=10)
    assert daemon_lease.heartbeat(ctx, "a:100:x")
    now[0] += timedelta(seconds=10)
    with pytest.raises(DaemonAlreadyRunning):
        daemon_lease.acquire(ctx, "b:200:y", "b", 200, 15, lambda p: alive[p])
    # The holder stops refreshing: after the stale time, the lease is taken over.
    now[0] += timedelta(seconds=16)
    daemon_lease.acquire(ctx, "b:200:y", "b", 200, 15, lambda p: alive[p])
    assert not daemon_lease.heartbeat(ctx, "a:100:x")  # a learns it lost it
    assert daemon_lease.heartbeat(ctx, "b:200:y")


def test_a_crashed_daemon_on_the_same_host_is_replaced_at_once(migrated_engine: Engine) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    ctx = _ctx(migrated_engine, now)
    daemon_lease.acquire(ctx, "h:100:x", "h", 100, 15, lambda p: True)
    # Same host, the old pid is gone (SIGKILL): no need to wait for the lease to go stale.
    daemon_lease.acquire(ctx, "h:300:z", "h", 300, 15, lambda p: p != 100)
    assert daemon_lease.heartbeat(ctx, "h:300:z")
    daemon_lease.release(ctx, "h:300:z")
    daemon_lease.acquire(ctx, "other:1:q", "other", 1, 15, lambda p: True)
