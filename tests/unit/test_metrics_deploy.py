"""deploy/grafana-dashboard.json and deploy/prometheus.yml (issue 14): valid, and every
metric the dashboard asks for is one vmpool's `/metrics` exposes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from vmpool.adapters.prometheus_metrics import PrometheusMetrics
from vmpool.api.routes.metrics import model_metrics
from vmpool.services.pool_metrics import HostFigures, PoolFigures
from vmpool.services.views import ResourceFigures

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


class _Model:
    def collect(self) -> Iterator[Metric]:
        figures = ResourceFigures(vcpus=4.0, memory_mib=1024.0, disk_gib=10.0)
        host = HostFigures("a", "default", "up", figures, figures, 1, 0.5)
        return model_metrics(
            PoolFigures(
                hosts=[host], hosts_by_state={"up": 1}, vms={("p", "running"): 1},
                migrations={"completed": 1}, plans={("default", "completed"): 1},
                scores={"default": 0.1},
            )
        )  # fmt: skip


def exposed_names() -> set[str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Model())
    registry.register(PrometheusMetrics())
    names: set[str] = set()
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        names.add(family.name)
        if family.type == "histogram":
            names |= {f"{family.name}{suffix}" for suffix in ("_bucket", "_sum", "_count")}
    return names


def test_every_dashboard_expression_names_exposed_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert exprs
    used = {name for e in exprs for name in re.findall(r"\bvmpool_[a-z_]+", e)}
    assert used, exprs
    assert used <= exposed_names(), used - exposed_names()
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_the_scrape_config_sends_a_bearer_token_file() -> None:
    yaml = pytest.importorskip("yaml")  # PyYAML comes with the dev extras (schemathesis)
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
    assert job["authorization"]["credentials_file"]
