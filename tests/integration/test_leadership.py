"""Leader election on one PostgreSQL (issue 13): one leader at a time, a new generation for
each, a leader that loses its session stops, and a deposed leader's writes are fenced."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Engine, text

from tests.conftest import migrated_db_url
from vmpool.adapters.db.engine import make_engine, make_session_factory
from vmpool.adapters.db.leader_lock import AdvisoryLeaderLock
from vmpool.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from vmpool.errors import Fenced
from vmpool.services.leadership import Leadership
from vmpool.services.unit_of_work import ServiceContext

pytestmark = pytest.mark.postgres

TIMEOUT_S = 1.0  # idle_session_timeout of the lock's session


@pytest.fixture
def engine(tmp_path: object, request: pytest.FixtureRequest) -> Iterator[Engine]:
    url = migrated_db_url("postgresql", tmp_path, request)  # type: ignore[arg-type]
    engine = make_engine(url)
    yield engine
    engine.dispose()


class Replica:
    def __init__(self, engine: Engine, name: str) -> None:
        factory = make_session_factory(engine)
        self.elected: list[int] = []
        self.deposed = 0
        base = ServiceContext(
            uow=lambda: SqlAlchemyUnitOfWork(factory),
            hypervisors=None,  # type: ignore[arg-type]  # no host is asked here
            images=None,  # type: ignore[arg-type]
        )
        self.lock = AdvisoryLeaderLock(engine, TIMEOUT_S)
        self.leadership = Leadership(base, self.lock, name, "here", 1, self.elected.append,
                                     self._deposed, timeout_s=TIMEOUT_S)  # fmt: skip
        self.ctx = replace(base, fence=self.leadership.check)

    def _deposed(self) -> None:
        self.deposed += 1


def _lock_holders(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted")
            ).scalars()
        )


def test_one_leader_at_a_time_and_each_new_one_a_new_generation(engine: Engine) -> None:
    a, b = Replica(engine, "a"), Replica(engine, "b")
    a.leadership.step()
    b.leadership.step()
    assert (a.elected, b.elected) == ([1], [])
    assert a.leadership.is_leader and not b.leadership.is_leader
    with a.ctx.uow() as uow:
        a.ctx.check_leader(uow)  # the leader passes its own fence
    with b.ctx.uow() as uow, pytest.raises(Fenced):
        b.ctx.check_leader(uow)

    # the leader's session ends (a crash, a lost connection): it stops, b takes over
    (holder,) = _lock_holders(engine)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": holder})
    a.leadership.step()
    assert not a.leadership.is_leader and a.deposed == 1
    b.leadership.step()
    assert b.elected == [2]
    a.leadership.step()  # and a does not win it back while b holds it
    assert a.elected == [1] and not a.leadership.is_leader


def test_a_paused_leader_loses_the_lock_and_is_fenced_when_it_wakes(engine: Engine) -> None:
    a, b = Replica(engine, "a"), Replica(engine, "b")
    a.leadership.step()
    assert a.elected == [1]
    # a is paused: it neither checks nor pings; the server ends its silent session
    deadline = time.monotonic() + 30
    while not b.elected:
        assert time.monotonic() < deadline, "b never became the leader"
        time.sleep(0.2)
        b.leadership.step()
    assert b.elected == [2]
    # a wakes believing it leads (generation 1): its next write is refused...
    assert a.leadership.generation == 1
    with a.ctx.uow() as uow, pytest.raises(Fenced) as refused:
        a.ctx.check_leader(uow)
    assert refused.value.details == {"generation": 1, "current": 2}
    # ...and its next round finds the lock gone and stops its jobs
    a.leadership.step()
    assert not a.leadership.is_leader and a.deposed == 1
    with b.ctx.uow() as uow:
        b.ctx.check_leader(uow)


def test_a_leader_paused_inside_a_fenced_transaction_does_not_block_the_takeover(
    engine: Engine,
) -> None:
    """The fence share-locks the lease row until the write commits. A leader frozen between
    its fence and its commit (SIGSTOP, a stalled VM) must not keep the row locked: the server
    ends that idle transaction, and another replica takes over within the timeout."""
    a, b = Replica(engine, "a"), Replica(engine, "b")
    a.leadership.step()
    assert a.elected == [1]
    frozen = a.ctx.uow()
    frozen.__enter__()
    a.ctx.check_leader(frozen)  # fenced, then silence: no commit, no rollback, no ping
    deadline = time.monotonic() + 30
    while not b.elected:
        assert time.monotonic() < deadline, "b never became the leader"
        time.sleep(0.2)
        b.leadership.step()
    assert b.elected == [2]
    # the frozen transaction was ended by the server, not merely outwaited
    with pytest.raises(Exception, match=r"idle-in-transaction|terminat|closed"):
        frozen.leases.get(1)
        frozen.commit()
    frozen.__exit__(None, None, None)
    with b.ctx.uow() as uow:
        b.ctx.check_leader(uow)
