"""How the client commands show things: sizes, durations, one-line summaries and rich tables
of the API's resources, and JSON for scripts. Pure: it only formats what it is given."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from vmpool_client.models import (
        EventOut,
        HostDeviceOut,
        HostOut,
        MigrationOut,
        PlanOut,
        PlanStepOut,
        PoolOut,
        PoolScoreOut,
        VmOut,
    )

MIB = 1024 * 1024
FINAL_MIGRATION_STATES = frozenset({"completed", "failed", "cancelled"})
FINAL_PLAN_STATES = frozenset({"completed", "cancelled", "superseded"})
FINAL_STEP_STATES = frozenset({"completed", "skipped", "failed", "cancelled"})

STATE_STYLES = {
    "running": "green", "up": "green", "completed": "green", "available": "green",
    "stopped": "dim", "skipped": "dim", "superseded": "dim", "pending": "dim", "queued": "dim",
    "migrating": "yellow", "maintenance": "yellow", "preparing": "yellow", "proposed": "yellow",
    "completing": "yellow", "starting": "yellow", "stopping": "yellow", "creating": "yellow",
    "deleting": "yellow", "rebooting": "yellow", "shutting_down": "yellow", "stays": "yellow",
    "resizing": "yellow",
    "error": "red", "crashed": "red", "failed": "red", "unreachable": "red", "unknown": "red",
    "cancelled": "magenta", "fenced": "magenta",
}  # fmt: skip


def make_console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr). Piped into another program, lines are not wrapped at
    80 columns (unless COLUMNS says so), so that grep and awk see whole rows."""
    stream = sys.stderr if stderr else sys.stdout
    wide = not stream.isatty() and "COLUMNS" not in os.environ
    return Console(stderr=stderr, highlight=False, width=200 if wide else None)


# -- values ------------------------------------------------------------------------------


def size(n_bytes: float | None) -> str:
    """1536 -> '1.5 KiB'; binary units, as libvirt and QEMU count memory."""
    if n_bytes is None:
        return "-"
    value = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def mib(n_mib: float) -> str:
    """Memory given in MiB: '256 MiB', '1.5 GiB'."""
    return f"{n_mib:.0f} MiB" if n_mib < 1024 else f"{n_mib / 1024:.1f} GiB"


def rate(bytes_per_s: float | None) -> str:
    return "-" if bytes_per_s is None else f"{size(bytes_per_s)}/s"


def duration_ms(ms: float | None) -> str:
    """42 -> '42 ms', 3400 -> '3.4 s', 125000 -> '2 min 5 s'."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def when(at: datetime | None) -> str:
    """A time as UTC, to the second: '2025-01-31 12:00:05'."""
    if at is None:
        return "-"
    if at.tzinfo is not None:
        at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%d %H:%M:%S")


def ago(at: datetime | None, now: datetime) -> str:
    """'5 s ago', '3 min ago', '2 h ago', '4 d ago'."""
    if at is None:
        return "-"
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    seconds = max(0, int((now - at).total_seconds()))
    for unit, length in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= length:
            return f"{seconds // length} {unit} ago"
    return f"{seconds} s ago"


def state(value: object) -> Text:
    name = str(getattr(value, "value", value))
    return Text(name, style=STATE_STYLES.get(name, ""))


def text_or_dash(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


# -- migrations ----------------------------------------------------------------------------


def migration_route(m: MigrationOut) -> str:
    """'web-1 lab1 → lab2' (a project's token sees no hosts: just the VM)."""
    if m.source_host is None and m.target_host is None:
        return m.vm_name
    target = m.target_host or "(placement)"
    return f"{m.vm_name} {m.source_host or '?'} → {target}"


def migration_copied(m: MigrationOut) -> tuple[float, float | None]:
    """(bytes of memory in sync on the target, bytes in all): what the bar shows. The data
    processed can exceed the total (pages the guest dirtied are sent again), so the bar is
    the total less what remains."""
    if m.data_total is None:
        return 0.0, None
    remaining = m.data_remaining if m.data_remaining is not None else m.data_total
    return float(max(0, m.data_total - remaining)), float(m.data_total)


def migration_detail(m: MigrationOut) -> str:
    """What a migration does now, in a few words: its progress while it copies."""
    name = str(m.state.value)
    if name == "running" and m.data_total is not None:
        parts = [f"processed {size(m.data_processed)}", f"remaining {size(m.data_remaining)}"]
        if m.memory_dirty_rate is not None:
            parts.append(f"dirty {rate(m.memory_dirty_rate)}")
        if m.iteration is not None:
            parts.append(f"pass {m.iteration}")
        if m.post_copy:
            parts.append("post-copy")
        return ", ".join(parts)
    if name == "running":
        return "starting"
    if name == "failed":
        return f"failed: {m.error or 'no reason given'}"
    if name == "completed":
        return f"completed: downtime {duration_ms(m.downtime_ms)}, {duration_ms(m.total_time_ms)}"
    return name + (" (cancel requested)" if m.cancel_requested and name != "cancelled" else "")


def migration_summary(m: MigrationOut) -> str:
    """The last line of a watched migration."""
    name = str(m.state.value)
    if name == "completed":
        return (
            f"{m.vm_name} moved {m.source_host or '?'} → {m.target_host or '?'}: "
            f"downtime {duration_ms(m.downtime_ms)}, total {duration_ms(m.total_time_ms)} "
            f"(migration {m.id})"
        )
    if name == "failed":
        return f"migration {m.id} of {m.vm_name} failed: {m.error or 'no reason given'}"
    if name == "cancelled":
        where = f" on {m.source_host}" if m.source_host else ""
        return f"migration {m.id} cancelled: {m.vm_name} stays{where}"
    return f"migration {m.id} of {m.vm_name}: {name}"


# -- tables --------------------------------------------------------------------------------


def table(*columns: str, title: str | None = None, free: tuple[str, ...] = ()) -> Table:
    """A table whose rows are one line each (for grep and awk), but for its `free` text
    columns: those wrap when the terminal is too narrow, before anything else is cut."""
    t = Table(
        box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False, show_edge=False
    )
    for c in columns:
        if c in free:
            t.add_column(c, overflow="fold")
        else:
            t.add_column(c, no_wrap=True, overflow="ellipsis", min_width=len(c))
    return t


def plural(n: int, word: str) -> str:
    """'1 VM', '2 VMs'."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def fields(rows: Iterable[tuple[str, Any]]) -> Text:
    """A resource's fields, one per line: its name, then its value (rows whose value is
    None are left out)."""
    shown = [(n, v) for n, v in rows if v is not None]
    width = max((len(n) for n, _ in shown), default=0)
    out = Text()
    for i, (name, value) in enumerate(shown):
        if i:
            out.append("\n")
        out.append(name.ljust(width + 2), style="bold")
        out.append(value if isinstance(value, Text) else text_or_dash(value))
    return out


def of(used: float, total: float, unit: str = "") -> str:
    return f"{used:g}/{total:g}{unit}"


def hosts_table(hosts: Sequence[HostOut], now: datetime) -> Table:
    t = table("ID", "NAME", "STATE", "VMS", "VCPUS", "MEMORY", "DISK GiB", "LAST SEEN")
    for h in hosts:
        t.add_row(
            str(h.id), h.name, state(h.state), str(h.vm_count),
            of(h.allocated.vcpus, h.capacity.vcpus),
            f"{mib(h.allocated.memory_mib)} of {mib(h.capacity.memory_mib)}",
            of(h.allocated.disk_gib, h.capacity.disk_gib), ago(h.last_seen_at, now),
        )  # fmt: skip
    return t


def host_fields(h: HostOut, now: datetime) -> Text:
    return fields([
        ("id", h.id), ("name", h.name), ("state", state(h.state)), ("pool", h.pool_id),
        ("uri", h.uri), ("hostname", h.hostname), ("arch", h.arch),
        ("cpus", f"{h.cpus} ({h.cpu_model})"), ("memory", mib(h.memory_mib)),
        ("disk", f"{h.disk_gib} GiB"), ("domain types", ", ".join(h.domain_types)),
        ("vcpus", f"{h.allocated.vcpus:g} allocated of {h.capacity.vcpus:g}"),
        ("memory alloc", f"{mib(h.allocated.memory_mib)} of {mib(h.capacity.memory_mib)}"),
        ("disk alloc", f"{h.allocated.disk_gib:g} of {h.capacity.disk_gib:g} GiB"),
        ("vms", h.vm_count), ("traits", ", ".join(h.traits)),
        ("networks", ", ".join(h.networks)), ("migration address", h.migration_address),
        ("libvirt", f"{h.libvirt_version} (hypervisor {h.hypervisor_version})"),
        ("last seen", f"{when(h.last_seen_at)} ({ago(h.last_seen_at, now)})"
                      if h.last_seen_at else None),
        ("last error", h.last_error),
        ("maintenance since", when(h.maintenance_since) if h.maintenance_since else None),
        ("fenced", f"{when(h.fenced_at)} by {h.fenced_by}" if h.fenced_at else None),
        ("foreign domains", ", ".join(d.name for d in h.foreign_domains) or None),
        ("created", when(h.created_at)),
    ])  # fmt: skip


def devices_table(devices: Sequence[HostDeviceOut]) -> Table:
    t = table("ADDRESS", "VENDOR:PRODUCT", "NAME", "ALIAS", "VM", "IOMMU", "NODE", free=("NAME",))
    for d in devices:
        name = f"{d.vendor} {d.product}".strip() + (" (missing)" if d.missing_since else "")
        t.add_row(
            d.address, f"{d.vendor_id}:{d.product_id}", name, text_or_dash(d.alias),
            text_or_dash(d.vm_name), text_or_dash(d.iommu_group), text_or_dash(d.numa_node),
        )  # fmt: skip
    return t


def evacuation_table(h: HostOut) -> Table | None:
    if h.evacuation is None:
        return None
    ev = h.evacuation
    t = table("VM", "STATE", "MIGRATION", "TARGET", "WHY", free=("WHY",),
              title=f"evacuation: {ev.status}, {ev.vms_remaining} VMs remaining")  # fmt: skip
    for i in ev.items:
        t.add_row(i.vm_name, state(i.state), text_or_dash(i.migration_id),
                  text_or_dash(i.target_host), text_or_dash(i.error))  # fmt: skip
    return t


def vms_table(vms: Sequence[VmOut], now: datetime) -> Table:
    t = table("ID", "NAME", "STATE", "HOST", "VCPUS", "MEMORY", "DISK", "IMAGE", "CREATED")
    for v in vms:
        t.add_row(
            str(v.id), v.name, state(v.state), text_or_dash(v.host_name), str(v.vcpus),
            mib(v.memory_mib), f"{v.disk_gib} GiB" if v.disk_gib else "-",
            text_or_dash(v.image), ago(v.created_at, now),
        )  # fmt: skip
    return t


def vm_fields(v: VmOut, now: datetime) -> Text:
    nics = ", ".join(f"{n.network} {n.mac} {n.ipv4 or ''}".strip() for n in v.nics)
    return fields([
        ("id", v.id), ("name", v.name), ("state", state(v.state)),
        ("since", f"{when(v.state_changed_at)} ({ago(v.state_changed_at, now)})"),
        ("host", v.host_name), ("pool", v.pool_id), ("project", v.project_id),
        ("uuid", v.uuid), ("vcpus", v.vcpus), ("memory", mib(v.memory_mib)),
        ("disk", f"{v.disk_gib} GiB ({v.disk_storage})" if v.disk_gib else None),
        ("image", v.image), ("domain type", v.domain_type),
        ("placement group", v.placement_group),
        ("flags", ", ".join(f for f, on in (("guaranteed", v.guaranteed), ("ha", v.ha),
                                             ("not migratable", not v.migratable)) if on)
                  or None),
        ("hardware", _vm_hardware(v)),
        ("nics", nics or None), ("last error", v.last_error), ("created", when(v.created_at)),
    ])  # fmt: skip


def _vm_hardware(v: VmOut) -> str | None:
    """Its special hardware (docs/hardware.md), or None for a plain VM."""
    parts = [
        "tpm" if v.tpm else "",
        "dedicated CPUs" if v.cpu_policy == "dedicated" else "",
        f"{v.hugepages} huge pages" if isinstance(v.hugepages, str) else "",
        f"SGX EPC {v.sgx_epc_mib} MiB" if v.sgx_epc_mib else "",
        *(f"{d.count} x {d.alias}" for d in (v.devices or [])),
        f"machine {v.machine}" if isinstance(v.machine, str) else "",
    ]
    return ", ".join(p for p in parts if p) or None


def pools_table(pools: Sequence[PoolOut]) -> Table:
    t = table("ID", "NAME", "PLACEMENT", "RATIOS CPU/RAM/DISK", "REBALANCE", "LAST CYCLE",
              free=("LAST CYCLE",))  # fmt: skip
    for p in pools:
        t.add_row(
            str(p.id), p.name, p.strategy,
            f"{p.cpu_allocation_ratio:g}/{p.ram_allocation_ratio:g}/{p.disk_allocation_ratio:g}",
            f"{p.rebalance_mode} ({p.rebalance_strategy})", text_or_dash(p.rebalance_last_result),
        )  # fmt: skip
    return t


def pool_fields(p: PoolOut) -> Text:
    return fields([
        ("id", p.id), ("name", p.name), ("placement", p.strategy),
        ("allocation ratios", f"cpu {p.cpu_allocation_ratio:g}, ram "
                              f"{p.ram_allocation_ratio:g}, disk {p.disk_allocation_ratio:g}"),
        ("reserved per host", f"{p.reserved_vcpus} vcpus, {mib(p.reserved_memory_mib)}, "
                              f"{p.reserved_disk_gib} GiB"),
        ("rebalance", f"{p.rebalance_mode}, {p.rebalance_strategy}, every "
                      f"{p.rebalance_interval_s} s, min gain {p.rebalance_min_gain:g}, "
                      f"at most {p.rebalance_max_moves} moves"),
        ("last cycle", f"{when(p.rebalance_last_run_at)}: {p.rebalance_last_result}"
                       if p.rebalance_last_run_at else None),
        ("migration tls", "yes" if p.migration_tls else "no"),
        ("members may migrate", "yes" if p.members_may_migrate else "no"),
    ])  # fmt: skip


def plan_score(p: PlanOut) -> str:
    final = f", final {p.score_final:.4f}" if p.score_final is not None else ""
    return f"{p.score_before:.4f} → {p.score_after:.4f}{final}"


def plans_table(plans: Sequence[PlanOut], now: datetime) -> Table:
    t = table("ID", "STATE", "ORIGIN", "STRATEGY", "STEPS", "SCORE", "CREATED")
    for p in plans:
        done = sum(1 for s in p.steps if s.state == "completed")
        t.add_row(
            text_or_dash(p.id), state(p.state), p.origin, p.strategy,
            f"{done}/{len(p.steps)} done", plan_score(p), ago(p.created_at, now),
        )  # fmt: skip
    return t


def plan_fields(p: PlanOut) -> Text:
    return fields([
        ("id", p.id if p.id is not None else "(dry run, not stored)"), ("pool", p.pool_id),
        ("state", state(p.state)), ("origin", f"{p.origin} ({p.actor})"),
        ("strategy", p.strategy), ("score", plan_score(p)),
        ("stopped because", p.stopped_because), ("note", p.note),
        ("emptied hosts", ", ".join(p.emptied_hosts) or None),
        ("created", when(p.created_at)),
        ("approved", f"{when(p.approved_at)} by {p.approved_by}" if p.approved_at else None),
        ("finished", when(p.finished_at) if p.finished_at else None),
    ])  # fmt: skip


def step_line(s: PlanStepOut, total: int) -> str:
    """'step 1/3 web-1 lab1 → lab2 (balance)'."""
    return f"step {s.seq}/{total} {s.vm_name} {s.source_host} → {s.target_host} ({s.reason})"


def steps_table(p: PlanOut) -> Table:
    t = table("SEQ", "VM", "FROM", "TO", "REASON", "MEMORY", "STATE", "MIGRATION", "DETAIL",
              free=("DETAIL",))  # fmt: skip
    for s in p.steps:
        t.add_row(
            str(s.seq), s.vm_name, s.source_host, s.target_host, s.reason, mib(s.memory_mib),
            state(s.state), text_or_dash(s.migration_id), text_or_dash(s.detail),
        )  # fmt: skip
    return t


def migrations_table(migrations: Sequence[MigrationOut], now: datetime) -> Table:
    t = table("ID", "VM", "FROM", "TO", "STATE", "REASON", "DOWNTIME", "TOTAL", "CREATED")
    for m in migrations:
        t.add_row(
            str(m.id), m.vm_name, text_or_dash(m.source_host), text_or_dash(m.target_host),
            state(m.state), m.reason, duration_ms(m.downtime_ms), duration_ms(m.total_time_ms),
            ago(m.created_at, now),
        )  # fmt: skip
    return t


def migration_fields(m: MigrationOut) -> Text:
    copied, total = migration_copied(m)
    return fields([
        ("id", m.id), ("vm", f"{m.vm_name} ({m.vm_id})"), ("state", state(m.state)),
        ("from", m.source_host), ("to", m.target_host), ("reason", m.reason),
        ("storage", m.storage), ("bandwidth", f"{m.bandwidth_mib_s} MiB/s"
                                 if m.bandwidth_mib_s else "unlimited"),
        ("memory in sync", f"{size(copied)} of {size(total)}" if total else None),
        ("progress", migration_detail(m)),
        ("downtime", duration_ms(m.downtime_ms) if m.downtime_ms is not None else None),
        ("total time", duration_ms(m.total_time_ms) if m.total_time_ms is not None else None),
        ("error", m.error), ("created", when(m.created_at)),
        ("started", when(m.started_at) if m.started_at else None),
        ("finished", when(m.finished_at) if m.finished_at else None),
    ])  # fmt: skip


def events_table(events: Sequence[EventOut]) -> Table:
    t = table("ID", "AT (UTC)", "ACTOR", "KIND", "SUBJECT", "DETAILS", free=("DETAILS",))
    for e in events:
        details = e.details.to_dict()
        t.add_row(
            str(e.id), when(e.at), e.actor, e.kind, e.subject,
            json.dumps(details, default=str) if details else "",
        )  # fmt: skip
    return t


def score_tables(s: PoolScoreOut) -> list[Table | str]:
    out: list[Table | str] = [
        f"pool {s.pool_id} ({s.strategy}): score {s.score:.4f} (lower is better)"
    ]
    components = table("COMPONENT", "VALUE")
    for name, value in sorted(s.components.to_dict().items()):
        components.add_row(name, f"{value:.4f}")
    out.append(components)
    hosts = table("HOST", "UP", "VMS", "CPU ALLOC", "MEM ALLOC", "CPU LOAD")
    for h in s.hosts:
        hosts.add_row(h.name, "yes" if h.up else "no", str(h.vms), f"{h.cpu_alloc:.0%}",
                      f"{h.mem_alloc:.0%}", f"{h.cpu_load:.0%}")  # fmt: skip
    out.append(hosts)
    if s.empty_hosts:
        out.append(f"empty hosts: {', '.join(s.empty_hosts)}")
    out.extend(f"warning: {w}" for w in s.warnings)
    return out
