"""How the dashboard writes figures (Jinja2 filters): one place, so that the page and its
tests agree on what "1.5 GiB" means."""

from __future__ import annotations

from datetime import datetime
from typing import Any

MIB = 2**20
NONE = "\u2013"  # an en dash: no figure


def number(x: float | None) -> str:
    """A count or an amount: whole numbers without a decimal point, others with one."""
    if x is None:
        return NONE
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.1f}"


def mib(x: float | None) -> str:
    """Memory given in MiB: MiB up to 1 GiB, then GiB with one decimal."""
    if x is None:
        return NONE
    if abs(x) < 1024:
        return f"{number(x)} MiB"
    return f"{number(round(x / 1024, 1))} GiB"


def gib(x: float | None) -> str:
    return NONE if x is None else f"{number(round(x, 1))} GiB"


def size(n: int | None) -> str:
    """Bytes, as a migration's progress counts them."""
    if n is None:
        return NONE
    for unit, scale in (("GiB", 2**30), ("MiB", MIB), ("KiB", 1024)):
        if abs(n) >= scale:
            return f"{number(round(n / scale, 1))} {unit}"
    return f"{n} B"


def percent(part: float | None, whole: float | None) -> str:
    """part of whole, in whole percent (a dash when the whole is unknown or nothing)."""
    if part is None or not whole:
        return NONE
    return f"{round(100 * part / whole)}%"


def share(part: float | None, whole: float | None) -> float:
    """part of whole as 0-1 for a bar (over 1 when overcommitted; 0 when unknown)."""
    if part is None or not whole:
        return 0.0
    return max(0.0, part / whole)


def heat(fraction: float | None) -> str:
    """A CSS class for a utilisation cell: heat-0 (idle) to heat-10 (full or over); none for
    an unknown figure."""
    if fraction is None:
        return "heat-none"
    return f"heat-{min(10, max(0, int(fraction * 10)))}"


def ago(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "never"
    s = max(0, int((now - then).total_seconds()))
    if s < 120:
        return f"{s} s ago"
    if s < 7200:
        return f"{s // 60} min ago"
    if s < 172_800:
        return f"{s // 3600} h ago"
    return f"{s // 86_400} d ago"


def clock(t: datetime | None) -> str:
    return NONE if t is None else t.strftime("%Y-%m-%d %H:%M:%S UTC")


def score(x: float | None) -> str:
    return NONE if x is None else f"{x:.4f}"


FILTERS: dict[str, Any] = {
    "number": number,
    "mib": mib,
    "gib": gib,
    "size": size,
    "heat": heat,
    "score": score,
    "clock": clock,
}
GLOBALS: dict[str, Any] = {"percent": percent, "share": share, "ago": ago}
