"""The leader's lock on a shared PostgreSQL: a session-level advisory lock held on a
connection of its own.

PostgreSQL releases a session lock when its session ends: a leader that dies loses it with
its connection. A leader that is only paused (SIGSTOP, a long GC, a frozen VM) keeps its
TCP connection; `idle_session_timeout` makes the server end such a session once it has
been silent that long, so the lock passes on. The leader proves it is alive by a query on
the connection every poll; a query that fails means the lock is gone.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

LOCK_KEY = 0x766D706F6F6C  # "vmpool"


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


class AdvisoryLeaderLock:
    def __init__(self, engine: Engine, idle_timeout_s: float) -> None:
        self._engine = engine
        self._idle_ms = int(idle_timeout_s * 1000)
        self._conn: Connection | None = None
        self._failing = False  # the last try to ask for the lock failed

    def try_acquire(self) -> bool:
        """Take the lock if no other session holds it."""
        try:
            if self._conn is None:
                conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(text(f"SET idle_session_timeout = {self._idle_ms}"))
                conn.execute(text(f"SET statement_timeout = {self._idle_ms}"))
                self._conn = conn
            got = self._conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
            ).scalar()
        except Exception as exc:  # the database is away: not the leader, try again later
            # said once while the database stays away (this runs every poll)
            log.log(logging.DEBUG if self._failing else logging.WARNING,
                    "cannot ask for the leader lock: %s", _first_line(exc))  # fmt: skip
            log.debug("the leader lock's failure", exc_info=True)
            self._failing = True
            self._drop()
            return False
        self._failing = False
        return bool(got)

    def held(self) -> bool:
        """Whether this session still holds the lock (the query also keeps it alive)."""
        if self._conn is None:
            return False
        try:
            mine = self._conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND classid = :high AND objid = :low"
                ),
                {"high": LOCK_KEY >> 32, "low": LOCK_KEY & 0xFFFFFFFF},
            ).scalar()
        except Exception as exc:
            log.warning("the leader lock's session is gone: %s", _first_line(exc))
            log.debug("the leader lock's session", exc_info=True)
            self._drop()
            return False
        return bool(mine)

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
            except Exception:
                log.debug("unlock failed; the session ends anyway", exc_info=True)
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except Exception:
                log.debug("closing the lock's connection failed", exc_info=True)
        self._conn = None
