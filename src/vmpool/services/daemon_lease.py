"""One daemon per database runs the background jobs.

Several daemons sharing one PostgreSQL database must never sync, migrate or
rebalance twice over. Until leader election exists, the first daemon holds a
lease (a row it refreshes); a second one is refused with a clear message. A
lease whose holder stopped refreshing it, or whose process is gone from this
same machine (a crash), is taken over.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from vmpool.adapters.db.tables import DaemonLeaseRow
from vmpool.errors import AlreadyExists, Conflict
from vmpool.services.unit_of_work import ServiceContext

LEASE_ID = 1


class DaemonAlreadyRunning(Conflict):
    code = "daemon_already_running"


def acquire(
    ctx: ServiceContext,
    owner: str,
    hostname: str,
    pid: int,
    stale_s: float,
    pid_alive: Callable[[int], bool],
) -> None:
    now = ctx.clock()
    with ctx.uow() as uow:
        lease = uow.leases.get(LEASE_ID, for_update=True)
        if lease is not None and lease.owner != owner:
            fresh = (now - lease.heartbeat_at) < timedelta(seconds=stale_s)
            crashed_here = lease.hostname == hostname and not pid_alive(lease.pid)
            if fresh and not crashed_here:
                raise DaemonAlreadyRunning(
                    f"another vmpool daemon (host {lease.hostname}, pid {lease.pid}) already "
                    "runs the background jobs on this database; two would sync and migrate "
                    "twice over. Stop it first, or point this one at another database.",
                    holder_host=lease.hostname,
                    holder_pid=lease.pid,
                )
            uow.events.record(
                "daemon", "lease.taken_over", "daemon", previous=lease.owner, stale=not fresh
            )
            uow.leases.delete(lease)
        if lease is None or lease.owner != owner:
            uow.leases.add(
                DaemonLeaseRow(
                    id=LEASE_ID,
                    owner=owner,
                    hostname=hostname,
                    pid=pid,
                    acquired_at=now,
                    heartbeat_at=now,
                )
            )
        try:
            uow.commit()
        except AlreadyExists as exc:  # another daemon inserted it first
            raise DaemonAlreadyRunning("another vmpool daemon started at the same time") from exc


def heartbeat(ctx: ServiceContext, owner: str) -> bool:
    """Refresh the lease; False if another daemon holds it now (this one lost it)."""
    with ctx.uow() as uow:
        lease = uow.leases.get(LEASE_ID)
        if lease is None or lease.owner != owner:
            return False
        lease.heartbeat_at = ctx.clock()
        uow.commit()
        return True


def release(ctx: ServiceContext, owner: str) -> None:
    with ctx.uow() as uow:
        lease = uow.leases.get(LEASE_ID)
        if lease is not None and lease.owner == owner:
            uow.leases.delete(lease)
            uow.commit()
