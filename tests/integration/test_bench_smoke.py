"""The benchmarks that need no lab still run against today's schema: each on a tiny cluster
(a benchmark that breaks silently measures nothing; bench/sync_scale.py once did, after the
VM table gained columns its seed did not fill)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("module", "args", "expect"),
    [
        ("bench.sync_scale", ["--hosts", "5", "--vms", "20", "--delay-ms", "0"], "cycle 1:"),
    ],
)
def test_a_benchmark_runs_on_a_tiny_cluster(module: str, args: list[str], expect: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert expect in out.stdout
