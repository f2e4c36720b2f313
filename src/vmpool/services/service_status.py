"""What the daemon tells the service manager that started it (systemd, `Type=notify`):
that it is ready, a status line, and that it stops (the `ServiceManager` port).

Ready means: the database is checked (the daemon refuses to start otherwise), the HTTP
server listens, and the first sync of the hosts has run, so the API answers with what the
hosts run; on PostgreSQL, a replica is ready once it knows whether it leads (a follower runs
no sync; a leader waits for its first one).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from vmpool.domain.migration import ACTIVE_MIGRATION_STATES
from vmpool.domain.ports import NoServiceManager, ServiceManager
from vmpool.errors import VmpoolError
from vmpool.services.unit_of_work import ServiceContext

log = logging.getLogger(__name__)

LISTENING = "listening"
FIRST_SYNC = "first-sync"
LEADERSHIP = "leadership"


class StartupGate:
    """READY=1 once every condition required is met. Conditions are named; each may be met
    from any thread, once or more; READY=1 is sent once. Conditions required after READY=1
    was sent are ignored."""

    def __init__(
        self, manager: ServiceManager | None = None, conditions: Iterable[str] = ()
    ) -> None:
        self.manager: ServiceManager = manager or NoServiceManager()
        self._pending = set(conditions)
        self._lock = threading.Lock()
        self._ready = False
        self.status: Callable[[], str] = lambda: "ready"

    @property
    def ready(self) -> bool:
        with self._lock:
            return self._ready

    def require(self, condition: str) -> None:
        with self._lock:
            if not self._ready:
                self._pending.add(condition)

    def met(self, condition: str) -> None:
        with self._lock:
            if self._ready:
                return
            self._pending.discard(condition)
            if self._pending:
                return
            self._ready = True
        try:
            status = self.status()
        except Exception:  # the status is a courtesy: READY=1 goes out whatever it says
            log.exception("the status line could not be made")
            status = "ready"
        log.info("ready: %s", status)
        self.manager.ready(status)


def status_line(ctx: ServiceContext, role: str) -> str:
    """`leader: 2/3 hosts up (1 unreachable), 1 migration in flight`; the database being
    away is said too (the status is only read, never written)."""
    try:
        with ctx.read_uow() as uow:
            hosts = uow.hosts.count_by_state()
            migrations = uow.migrations.count_by_state()
    except VmpoolError as exc:
        return f"{role}: {exc.message}"
    up = hosts.get("up", 0)
    others = ", ".join(f"{n} {state}" for state, n in sorted(hosts.items()) if state != "up")
    line = f"{role}: {up}/{sum(hosts.values())} hosts up" + (f" ({others})" if others else "")
    moving = sum(migrations.get(s.value, 0) for s in ACTIVE_MIGRATION_STATES)
    if moving:
        line += f", {moving} migration{'s' if moving > 1 else ''} in flight"
    return line
