"""The background loop: host sync, load sampling, the daemon lease, the migration queue
and rebalancing. Jobs only call services; each service call is its own unit of work."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_SUBMITTED, EVENT_SCHEDULER_SHUTDOWN
from apscheduler.schedulers.background import BackgroundScheduler

from vmpool.config import Settings
from vmpool.domain.ports import DomainEvents, ServiceManager
from vmpool.errors import DatabaseUnavailable
from vmpool.services import (
    daemon_lease,
    disk_recovery,
    ha,
    maintenance,
    metrics,
    migration_recovery,
    nics,
    plan_execution,
    rebalance,
    reclaim,
    service_status,
    snapshots,
    sync,
)
from vmpool.services.unit_of_work import ServiceContext

log = logging.getLogger(__name__)
jobs_log = logging.getLogger("vmpool.jobs")  # one line per job run (vmpool/logs.py)

SYNC_JOB_ID = "sync-hosts"
MIGRATION_JOB_ID = "migration-queue"
LEASE_JOB_ID = "daemon-lease"
METRICS_JOB_ID = "sample-load"
REBALANCE_JOB_ID = "rebalance"
DISKS_JOB_ID = "settle-disks"
HA_JOB_ID = "ha"
WATCHDOG_JOB_ID = "watchdog"
STATUS_JOB_ID = "service-status"
RECLAIM_JOB_ID = "reclaim"
STATUS_INTERVAL_S = 10.0  # how often the status line (systemd's STATUS=) is renewed


def _job(job_id: str, job: Callable[..., None]) -> Callable[..., None]:
    """A job's run, as one line of the `vmpool.jobs` log: its id, duration and outcome
    (`ok`; `skipped`: the database is away, said in one line, and the job runs again at its
    next tick, where APScheduler would log the whole traceback each time; `error`: raised
    on, for APScheduler to log)."""

    @functools.wraps(job)
    def run(*args: Any) -> None:
        start = time.perf_counter()
        outcome, error = "ok", ""
        try:
            job(*args)
        except DatabaseUnavailable as exc:
            outcome, error = "skipped", exc.message
        except Exception as exc:
            outcome, error = "error", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            ms = round((time.perf_counter() - start) * 1000, 3)
            extra: dict[str, Any] = {"job": job_id, "duration_ms": ms, "outcome": outcome}
            if error:
                extra["error"] = error
            jobs_log.log(
                logging.INFO if outcome == "ok" else logging.WARNING,
                "job %s %s in %.1f ms%s", job_id, outcome, ms, f": {error}" if error else "",
                extra=extra,
            )  # fmt: skip

    return run


def run_sync(syncer: sync.HostSyncer) -> None:
    syncer.round()


def settle_migrations(ctx: ServiceContext) -> None:
    """The migration queue: settle what nobody runs, then start what the limits allow."""
    queue = ctx.migration_queue
    result = migration_recovery.resolve_unowned(ctx, queue.owned if queue is not None else set)
    if result.settled:
        log.info("settled migrations left mid-way: %s", result.settled)
    asked = maintenance.continue_evacuations(ctx)
    if asked:
        log.info("evacuations asked for VMs that were busy at maintenance entry: %s", asked)
    if queue is not None:
        for mid in result.still_running:
            queue.adopt(mid)
        queue.kick()


def settle_disks(ctx: ServiceContext) -> None:
    settled = disk_recovery.settle_stale(ctx)
    if settled:
        log.info("settled disk changes left mid-way: %s", settled)
    nics_settled = nics.settle_stale(ctx)
    if nics_settled:
        log.info("settled NIC changes left mid-way: %s", nics_settled)
    snapshots_settled = snapshots.settle_stale(ctx)
    if snapshots_settled:
        log.info("settled snapshot changes left mid-way: %s", snapshots_settled)
    repaired = snapshots.restore_missing_records(ctx)
    if repaired:
        log.info("snapshot records defined again on the hosts of VMs %s", repaired)


def run_ha(ctx: ServiceContext) -> None:
    """Fence the failed hosts that have a fence command, then restart their `ha` VMs."""
    report = ha.HaReport()
    ha.run_fence_commands(ctx, report)
    ha.restart_fenced(ctx, report)
    if report.fenced or report.fence_failed or report.restarted or report.not_restarted:
        log.info("ha: %s", report)


def sample_load(ctx: ServiceContext, window_s: float) -> None:
    metrics.sample_all(ctx, window_s)


def run_rebalance(ctx: ServiceContext) -> None:
    """Move running plans on, then run the cycle of each pool whose interval has passed."""
    plan_execution.advance_all(ctx)
    for r in rebalance.run_due_cycles(ctx):
        log.info("rebalance pool %s: %s", r.pool_id, r.result)


def run_reclaim(ctx: ServiceContext, warnings_s: list[int]) -> None:
    """Leases and the idle rule (services/reclaim.py)."""
    report = reclaim.run(ctx, warnings_s)
    if report:
        log.info("reclaim: %s", report)


def refresh_lease(ctx: ServiceContext, owner: str) -> None:
    if not daemon_lease.heartbeat(ctx, owner):
        log.error("this daemon lost its lease to another daemon on the same database")


def build_scheduler(
    ctx: ServiceContext,
    settings: Settings,
    lease_owner: str | None = None,
    started_at: datetime | None = None,
    events: DomainEvents | None = None,
    on_first_sync: Callable[[], None] | None = None,
) -> BackgroundScheduler:
    """`started_at`: when this daemon started; intents written before it are settled at once.
    `events`: the hosts' domain events; a host that reports a change is synced at once (the
    periodic sync stays, as the safety net). `on_first_sync`: called once the first sync
    round has run (at once if the sync is off)."""
    scheduler = _scheduler()

    def job_lag(event: Any) -> None:
        """A job handed to its executor: how late after its (earliest coalesced) due time."""
        due = getattr(event, "scheduled_run_times", None)
        if due:
            lag = (datetime.now(UTC) - min(due)).total_seconds()
            ctx.metrics.job_started(event.job_id, lag)

    scheduler.add_listener(job_lag, EVENT_JOB_SUBMITTED)
    if settings.sync_enabled:
        syncer = sync.HostSyncer(
            ctx,
            settings.sync_interval_s,
            settings.host_backoff_max_s,
            owner_since=started_at or ctx.clock(),
            max_workers=settings.sync_workers,
            on_first_round=on_first_sync,
        )
        unsubscribe = events.subscribe(syncer.host_changed) if events is not None else None

        def stop_syncing(_event: object) -> None:
            if unsubscribe is not None:
                unsubscribe()
            syncer.close()

        scheduler.add_listener(stop_syncing, EVENT_SCHEDULER_SHUTDOWN)
        scheduler.add_job(
            _job(DISKS_JOB_ID, settle_disks),
            "interval",
            seconds=max(settings.sync_interval_s, settings.stale_intent_s / 4),
            args=[ctx],
            id=DISKS_JOB_ID,
        )
        scheduler.add_job(
            _job(HA_JOB_ID, run_ha),
            "interval",
            seconds=settings.ha_interval_s,
            args=[ctx],
            id=HA_JOB_ID,
        )
        scheduler.add_job(
            _job(SYNC_JOB_ID, run_sync),
            "interval",
            seconds=settings.sync_interval_s,
            args=[syncer],
            id=SYNC_JOB_ID,
            next_run_time=datetime.now(UTC),
        )
    elif on_first_sync is not None:
        on_first_sync()
    if settings.metrics_enabled:
        scheduler.add_job(
            _job(METRICS_JOB_ID, sample_load),
            "interval",
            seconds=settings.metrics_interval_s,
            args=[ctx, settings.metrics_window_s],
            id=METRICS_JOB_ID,
        )
    if lease_owner is not None:
        scheduler.add_job(
            _job(LEASE_JOB_ID, refresh_lease),
            "interval",
            seconds=settings.lease_stale_s / 3,
            args=[ctx, lease_owner],
            id=LEASE_JOB_ID,
        )
    if settings.migration_queue_enabled:
        scheduler.add_job(
            _job(MIGRATION_JOB_ID, settle_migrations),
            "interval",
            seconds=settings.migration_queue_interval_s,
            args=[ctx],
            id=MIGRATION_JOB_ID,
            next_run_time=datetime.now(UTC),  # adopts what an earlier leader left running
        )
    if settings.rebalance_enabled:
        scheduler.add_job(
            _job(REBALANCE_JOB_ID, run_rebalance),
            "interval",
            seconds=settings.rebalance_tick_s,
            args=[ctx],
            id=REBALANCE_JOB_ID,
        )
    if settings.reclaim_enabled:
        scheduler.add_job(
            _job(RECLAIM_JOB_ID, run_reclaim),
            "interval",
            seconds=settings.reclaim_interval_s,
            args=[ctx, list(settings.lease_warnings_s)],
            id=RECLAIM_JOB_ID,
        )
    return scheduler


def _scheduler() -> BackgroundScheduler:
    # A job that overruns its interval is never started twice (max_instances=1),
    # and missed runs collapse into one (coalesce).
    return BackgroundScheduler(
        timezone=UTC,
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30},
    )


def report_status(ctx: ServiceContext, manager: ServiceManager, role: Callable[[], str]) -> None:
    manager.status(service_status.status_line(ctx, role()))


def add_service_manager_jobs(
    scheduler: BackgroundScheduler,
    ctx: ServiceContext,
    manager: ServiceManager,
    role: Callable[[], str],
) -> None:
    """If a service manager listens: WATCHDOG=1 at the period it asks for (from this
    scheduler: a scheduler that no longer runs its jobs stops it, and systemd restarts the
    daemon), and the status line (STATUS=) every few seconds. The watchdog needs nothing
    else (no database), so a database that is away does not get the daemon restarted."""
    if not manager.enabled:
        return
    interval = manager.watchdog_interval_s
    if interval is not None:
        scheduler.add_job(
            _job(WATCHDOG_JOB_ID, manager.watchdog), "interval", seconds=interval,
            id=WATCHDOG_JOB_ID, next_run_time=datetime.now(UTC),
        )  # fmt: skip
    scheduler.add_job(
        _job(STATUS_JOB_ID, report_status), "interval", seconds=STATUS_INTERVAL_S,
        args=[ctx, manager, role], id=STATUS_JOB_ID,
    )  # fmt: skip


def build_service_scheduler(
    ctx: ServiceContext, manager: ServiceManager, role: Callable[[], str]
) -> BackgroundScheduler | None:
    """A replica's own scheduler for the watchdog and the status, which runs whether it
    leads or not (the jobs' scheduler runs on the leader only); None if no service manager
    listens."""
    if not manager.enabled:
        return None
    scheduler = _scheduler()
    add_service_manager_jobs(scheduler, ctx, manager, role)
    return scheduler
