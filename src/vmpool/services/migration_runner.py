"""Runs migrations on worker threads: the in-process side of the migration queue."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from vmpool.services import migration_execution
from vmpool.services.unit_of_work import ServiceContext

log = logging.getLogger(__name__)

# A migration's work: (context, migration id, poll period, whether the daemon is leaving).
Work = Callable[[ServiceContext, int, float, Callable[[], bool]], None]


class MigrationRunner:
    def __init__(self, ctx: ServiceContext, max_workers: int = 16, poll_s: float = 0.5) -> None:
        self._ctx = ctx
        self._poll_s = poll_s
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="migrate")
        self._owned: set[int] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._active = True  # a replica that is not the leader runs nothing (pause)
        self._leaving = threading.Event()  # the daemon stops: migrations are left to libvirt

    def bind(self, ctx: ServiceContext) -> None:
        """Use the context that points back at this runner (wiring builds them in turn)."""
        self._ctx = ctx

    def kick(self) -> None:
        """Start what the limits allow now."""
        with self._lock:
            if self._closed or not self._active:
                return
            for mid in migration_execution.dispatch(self._ctx):
                self._owned.add(mid)
                self._pool.submit(self._run, mid, migration_execution.execute)

    def adopt(self, mid: int) -> None:
        """Watch a migration whose libvirt job outlived the vmpool that started it."""
        with self._lock:
            if self._closed or not self._active or mid in self._owned:
                return
            self._owned.add(mid)
            self._pool.submit(self._run, mid, migration_execution.watch)

    def pause(self) -> None:
        """Start nothing more (this replica is no longer the leader). Migrations in flight
        run on in libvirt; their outcome is fenced off here and recorded by the leader."""
        with self._lock:
            self._active = False

    def resume(self) -> None:
        with self._lock:
            self._active = True

    def owned(self) -> set[int]:
        with self._lock:
            return set(self._owned)

    def _run(self, mid: int, work: Work) -> None:
        try:
            work(self._ctx, mid, self._poll_s, self._leaving.is_set)
        except Exception:
            log.exception("migration %s failed unexpectedly", mid)
        finally:
            with self._lock:
                self._owned.discard(mid)
        self.kick()  # a slot is free: start the next one

    def close(self, wait: bool = True, leave_running: bool = False) -> list[int]:
        """Start nothing more; `wait` for the workers. `leave_running` (the daemon stops
        gracefully): the migrations in flight are not followed to their end: libvirt carries
        each on (a managed peer-to-peer migration needs no client), its record stays as it
        is, and the next start watches it (`migration_recovery`); the workers end within a
        poll. Answers the migrations left so."""
        with self._lock:
            self._closed = True
            left = sorted(self._owned) if leave_running else []
        if leave_running:
            self._leaving.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)
        return left
