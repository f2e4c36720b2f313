"""Leader election among daemons sharing one PostgreSQL database.

Every replica serves the API; the leader alone runs the jobs (sync, sampling, rebalance,
the migration queue). A replica becomes leader by taking the database's leader lock
(a session advisory lock, adapters/db/leader_lock.py) and then raising the generation in
the lease row; the writes that start or settle a migration or a plan step check that
generation (`check`), so a deposed leader that wakes up (paused, then resumed) is refused
before it acts. A leader that finds its lock gone stops its jobs at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from vmpool.adapters.db.tables import DaemonLeaseRow
from vmpool.domain.ports import LeaderLock
from vmpool.errors import Fenced
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork

log = logging.getLogger(__name__)

LEASE_ID = 1


class Leadership:
    def __init__(
        self,
        ctx: ServiceContext,
        lock: LeaderLock,
        owner: str,
        hostname: str,
        pid: int,
        on_elected: Callable[[int], None],
        on_deposed: Callable[[], None],
        timeout_s: float = 5.0,
        on_decided: Callable[[bool], None] | None = None,
    ) -> None:
        """`timeout_s`: how long a silent leader keeps what it holds (the lock's session,
        a fenced transaction) before the database ends it. `on_decided(is_leader)`: called
        once, after the first round that reached the database (the replica knows its role)."""
        self._ctx, self._lock = ctx, lock
        self._owner, self._hostname, self._pid = owner, hostname, pid
        self._on_elected, self._on_deposed = on_elected, on_deposed
        self._timeout_s = timeout_s
        self._on_decided = on_decided
        self.generation: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_leader(self) -> bool:
        return self.generation is not None

    def step(self) -> None:
        """One round: a follower tries to take the lock; a leader checks it still holds it."""
        if self.generation is None:
            if self._lock.try_acquire():
                try:
                    self.generation = self._take_generation()
                except Exception:
                    log.exception("elected, but the generation could not be written")
                    self._lock.release()
                    return
                log.info("this daemon is the leader (generation %s)", self.generation)
                self._on_elected(self.generation)
        elif not self._lock.held():
            log.warning("the leader lock is lost: stopping the jobs (generation %s)",
                        self.generation)  # fmt: skip
            self.generation = None
            self._on_deposed()

    def _take_generation(self) -> int:
        now = self._ctx.clock()
        with self._ctx.uow() as uow:
            # A deposed leader's fenced transaction still open holds the row: it ends within
            # `timeout_s` (hold_for_fence); a longer wait fails and the next round tries again.
            lease = uow.leases.take(LEASE_ID, wait_s=2 * self._timeout_s)
            if lease is None:
                lease = DaemonLeaseRow(id=LEASE_ID, owner=self._owner, hostname=self._hostname,
                                       pid=self._pid, acquired_at=now, heartbeat_at=now,
                                       generation=0)  # fmt: skip
                uow.leases.add(lease)
            previous = lease.owner
            lease.generation += 1
            lease.owner, lease.hostname, lease.pid = self._owner, self._hostname, self._pid
            lease.acquired_at = lease.heartbeat_at = now
            generation = lease.generation
            uow.events.record("daemon", "leader.elected", "daemon", owner=self._owner,
                              previous=previous, generation=generation)  # fmt: skip
            uow.commit()
        return generation

    def check(self, uow: UnitOfWork) -> None:
        """In the caller's transaction: Fenced unless this daemon is still the leader it was
        elected as (no newer generation exists)."""
        mine = self.generation
        lease = uow.leases.hold_for_fence(LEASE_ID, idle_s=self._timeout_s)
        if mine is None or lease is None or lease.generation != mine:
            raise Fenced(
                "this daemon is no longer the leader: another one runs the jobs",
                generation=mine,
                current=lease.generation if lease is not None else None,
            )

    def start(self, poll_s: float) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.step()
                except Exception:
                    log.exception("leader election round failed")
                else:
                    self._decided()
                self._stop.wait(poll_s)

        self._thread = threading.Thread(target=loop, name="leader-election", daemon=True)
        self._thread.start()

    def _decided(self) -> None:
        decided, self._on_decided = self._on_decided, None
        if decided is not None:
            try:
                decided(self.is_leader)
            except Exception:
                log.exception("the replica's role could not be reported")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.generation is not None:
            self.generation = None
            self._on_deposed()
        self._lock.release()
