"""Measured load: sample each host and its VMs, keep smoothed utilisation."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from vmpool.adapters.db.tables import LoadRow
from vmpool.domain.metrics import cpu_fraction, ewma
from vmpool.errors import VmpoolError
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadView:
    kind: str
    subject_id: int
    sampled_at: datetime | None
    cpu_usage: float | None
    cpu_usage_avg: float | None
    memory_used_mib: int | None
    samples: int
    window_s: float


def _update(
    uow: UnitOfWork,
    kind: str,
    subject_id: int,
    now: datetime,
    busy_ns: int,
    total_ns: int | None,
    cpus: int,
    memory_mib: int | None,
    window_s: float,
) -> None:
    row = uow.load.get(kind, subject_id)
    if row is None:
        uow.load.add(
            LoadRow(
                kind=kind,
                subject_id=subject_id,
                sampled_at=now,
                cpu_time_ns=busy_ns,
                cpu_total_ns=total_ns,
                memory_used_mib=memory_mib,
                samples=1,
            )
        )
        return
    seconds = (now - row.sampled_at).total_seconds()
    if total_ns is not None and row.cpu_total_ns is not None:
        # A host: busy over all CPU time, from the host's own counters.
        span = total_ns - row.cpu_total_ns
        usage = (busy_ns - row.cpu_time_ns) / span if span > 0 else None
    else:
        usage = cpu_fraction(row.cpu_time_ns, busy_ns, seconds, cpus)
    if usage is not None:
        usage = min(1.0, max(0.0, usage))
        row.cpu_usage = usage
        row.cpu_usage_avg = ewma(row.cpu_usage_avg, usage, seconds, window_s)
    row.sampled_at = now
    row.cpu_time_ns = busy_ns
    row.cpu_total_ns = total_ns
    row.memory_used_mib = memory_mib
    row.samples += 1


def sample_all(ctx: ServiceContext, window_s: float) -> int:
    """Sample every reachable host; answers how many were sampled."""
    start = time.perf_counter()
    try:
        return _sample_reachable(ctx, window_s)
    finally:
        ctx.metrics.cycle_finished("sample", time.perf_counter() - start)


def _sample_reachable(ctx: ServiceContext, window_s: float) -> int:
    with ctx.uow() as uow:
        hosts = [(h.id, h.uri) for h in uow.hosts.list() if not h.silent]
    done = 0
    for host_id, uri in hosts:
        try:
            sample = ctx.hypervisors.connect(uri).sample_load()
        except VmpoolError as exc:
            log.info("no load sample from %s: %s", uri, exc.message)
            continue
        now = ctx.clock()
        with ctx.uow() as uow:
            by_uuid = {v.uuid: v.id for v in uow.vms.on_host(host_id)}
            _update(
                uow,
                "host",
                host_id,
                now,
                sample.cpu_busy_ns,
                sample.cpu_total_ns,
                sample.cpus,
                None,
                window_s,
            )
            for d in sample.domains:
                vm_id = by_uuid.get(d.uuid)
                if vm_id is not None:
                    _update(
                        uow,
                        "vm",
                        vm_id,
                        now,
                        d.cpu_time_ns,
                        None,
                        d.vcpus,
                        d.memory_used_mib,
                        window_s,
                    )
            uow.commit()
        done += 1
    return done


def load_of(ctx: ServiceContext, kind: str, subject_id: int, window_s: float) -> LoadView:
    with ctx.uow() as uow:
        if kind == "host":
            uow.hosts.get(subject_id)
        else:
            uow.vms.get(subject_id)
        row = uow.load.get(kind, subject_id)
        if row is None:
            return LoadView(kind, subject_id, None, None, None, None, 0, window_s)
        return LoadView(
            kind,
            subject_id,
            row.sampled_at,
            row.cpu_usage,
            row.cpu_usage_avg,
            row.memory_used_mib,
            row.samples,
            window_s,
        )
