"""What this process measures as it runs, in Prometheus histograms (the `Metrics` port).

Each runtime owns its registry (not prometheus_client's global one), so several apps in one
process (the tests) never clash. The object is itself a collector: the `/metrics` route
registers it beside the collector of the model's figures, read from the database."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.metrics_core import Metric

# Seconds: from sub-millisecond placements to migrations of large, busy VMs.
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CYCLE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
MIGRATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
DOWNTIME_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LAG_BUCKETS = (0.01, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class PrometheusMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.placement = Histogram(
            "vmpool_placement_duration_seconds",
            "Time to choose a host (reading the pool's hosts included), by use.",
            ["use"], registry=r, buckets=FAST_BUCKETS,
        )  # fmt: skip
        self.cycle = Histogram(
            "vmpool_cycle_duration_seconds",
            "Duration of background cycles: sync (all due hosts), host_sync (one host), "
            "sample (load sampling of all hosts).",
            ["cycle"], registry=r, buckets=CYCLE_BUCKETS,
        )  # fmt: skip
        self.migration = Histogram(
            "vmpool_migration_duration_seconds",
            "Duration of the migrations this process ran, by outcome.",
            ["outcome"], registry=r, buckets=MIGRATION_BUCKETS,
        )  # fmt: skip
        self.downtime = Histogram(
            "vmpool_migration_downtime_seconds",
            "Downtime of the completed migrations this process ran.",
            registry=r, buckets=DOWNTIME_BUCKETS,
        )  # fmt: skip
        self.lag = Histogram(
            "vmpool_job_lag_seconds",
            "How late a scheduled job started after it was due, by job.",
            ["job"], registry=r, buckets=LAG_BUCKETS,
        )  # fmt: skip

    def placement_timed(self, use: str, seconds: float) -> None:
        self.placement.labels(use=use).observe(seconds)

    def cycle_finished(self, cycle: str, seconds: float) -> None:
        self.cycle.labels(cycle=cycle).observe(seconds)

    def migration_finished(
        self, outcome: str, total_s: float | None, downtime_s: float | None
    ) -> None:
        if total_s is not None:
            self.migration.labels(outcome=outcome).observe(total_s)
        if downtime_s is not None:
            self.downtime.observe(downtime_s)

    def job_started(self, job_id: str, lag_s: float) -> None:
        self.lag.labels(job=job_id).observe(max(0.0, lag_s))

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()
