"""Measured load: turning cumulative CPU counters into smoothed utilisation."""

from __future__ import annotations

import math


def cpu_fraction(prev_ns: int, now_ns: int, seconds: float, cpus: int) -> float | None:
    """The share of `cpus` CPUs kept busy between two readings of a cumulative CPU-time
    counter; None when the readings cannot be compared (counter reset, no time passed)."""
    if seconds <= 0 or cpus <= 0 or now_ns < prev_ns:
        return None
    return min(1.0, max(0.0, (now_ns - prev_ns) / 1e9 / seconds / cpus))


def ewma(previous: float | None, value: float, seconds: float, window_s: float) -> float:
    """An exponentially weighted average whose weight decays with time, not with the number
    of samples, so that irregular sampling does not bias it (window = its time constant)."""
    if previous is None:
        return value
    alpha = 1.0 - math.exp(-max(seconds, 0.0) / window_s)
    return previous + alpha * (value - previous)
