"""`GET /metrics`: Prometheus' text format, for admins' tokens (Prometheus sends one with
`authorization: credentials_file:`). The model's figures are read from the database at
scrape time (services/pool_metrics.py); the histograms are this process's own (the runtime's
`Metrics`). Admin only: the hosts and every project's counts are in it, and no per-project
redaction of a scrape is attempted."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from vmpool.api.auth import secured
from vmpool.api.errors import ERROR_RESPONSES
from vmpool.services.pool_metrics import PoolFigures, pool_figures
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(tags=["metrics"], responses=ERROR_RESPONSES, dependencies=secured)

MIB = 2**20
GIB = 2**30


class ModelCollector:
    """The pool as the database describes it, each time Prometheus scrapes."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def collect(self) -> Iterator[Metric]:
        yield from model_metrics(pool_figures(self._ctx))


def model_metrics(f: PoolFigures) -> Iterator[Metric]:
    hosts = GaugeMetricFamily("vmpool_hosts", "Hosts by state.", labels=["state"])
    for state, n in sorted(f.hosts_by_state.items()):
        hosts.add_metric([state], n)
    yield hosts
    vms = GaugeMetricFamily("vmpool_vms", "VMs by project and state.", labels=["project", "state"])
    for (project, state), n in sorted(f.vms.items()):
        vms.add_metric([project, state], n)
    yield vms
    labels = ["host", "pool"]

    def per_host(name: str, doc: str) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, doc, labels=labels)

    cap_cpu = per_host("vmpool_host_capacity_vcpus", "vCPUs placement may allocate.")
    cap_mem = per_host("vmpool_host_capacity_memory_bytes", "Memory placement may allocate.")
    cap_disk = per_host("vmpool_host_capacity_disk_bytes", "Disk placement may allocate.")
    al_cpu = per_host("vmpool_host_allocated_vcpus", "vCPUs allocated to VMs.")
    al_mem = per_host("vmpool_host_allocated_memory_bytes", "Memory allocated to VMs.")
    al_disk = per_host("vmpool_host_allocated_disk_bytes", "Disk allocated to VMs.")
    count = per_host("vmpool_host_vms", "VMs placed on the host.")
    load = per_host(
        "vmpool_host_cpu_load_ratio", "Measured CPU utilisation, smoothed (0-1; sampled hosts)."
    )
    for h in f.hosts:
        key = [h.name, h.pool]
        cap_cpu.add_metric(key, h.capacity.vcpus)
        cap_mem.add_metric(key, h.capacity.memory_mib * MIB)
        cap_disk.add_metric(key, h.capacity.disk_gib * GIB)
        al_cpu.add_metric(key, h.allocated.vcpus)
        al_mem.add_metric(key, h.allocated.memory_mib * MIB)
        al_disk.add_metric(key, h.allocated.disk_gib * GIB)
        count.add_metric(key, h.vm_count)
        if h.cpu_load is not None:
            load.add_metric(key, h.cpu_load)
    yield from (cap_cpu, cap_mem, cap_disk, al_cpu, al_mem, al_disk, count, load)
    migrations = GaugeMetricFamily(
        "vmpool_migrations", "Migrations recorded, by state (final states: outcomes).",
        labels=["state"],
    )  # fmt: skip
    for state, n in sorted(f.migrations.items()):
        migrations.add_metric([state], n)
    yield migrations
    plans = GaugeMetricFamily(
        "vmpool_plans", "Rebalance plans by pool and state (final states: outcomes).",
        labels=["pool", "state"],
    )  # fmt: skip
    for (pool, state), n in sorted(f.plans.items()):
        plans.add_metric([pool, state], n)
    yield plans
    score = GaugeMetricFamily(
        "vmpool_pool_score", "The pool score as the rebalance loop sees it (lower is better).",
        labels=["pool"],
    )  # fmt: skip
    for pool, value in sorted(f.scores.items()):
        score.add_metric([pool], value)
    yield score


class _Collector:
    def __init__(self, source: Any) -> None:
        self._source = source

    def collect(self) -> Iterable[Metric]:
        result: Iterable[Metric] = self._source.collect()
        return result


@router.get(
    "/metrics",
    operation_id="get_metrics",
    response_class=Response,
    # "text/plain": the version parameter of CONTENT_TYPE_LATEST changes with prometheus-client
    # (0.0.4, then 1.0.0: the same text for vmpool's names), and the spec must not.
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus' text exposition format",
        }
    },
)
def metrics(request: Request) -> Response:
    """The pool's figures and this process's histograms, in Prometheus' text format
    (docs/operations.md lists them). Admin only."""
    ctx: ServiceContext = request.app.state.ctx
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ModelCollector(ctx))
    if callable(getattr(ctx.metrics, "collect", None)):  # the Prometheus adapter
        registry.register(_Collector(ctx.metrics))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
