"""Waiting on long operations, live: a migration's progress bar, one line per VM of an
evacuation, one per step of a plan. In a terminal they are rich progress bars fed by each
migration's progress; otherwise (a pipe, a log) a plain line whenever something changes
state. Ctrl-C offers to cancel the operation, to stop watching (it goes on), or to watch on."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column

from vmpool.cli_client import render
from vmpool.cli_client.session import EXIT_INTERRUPTED, CliError, Session

if TYPE_CHECKING:
    from vmpool_client.models import HostOut, MigrationOut, PlanOut

POLL_S = 0.5  # the daemon refreshes a running migration's progress every 0.5 s
Choice = Literal["cancel", "stop", "watch"]
CHOICES: dict[str, Choice] = {"c": "cancel", "s": "stop", "w": "watch", "": "stop"}


class Display:
    """Progress bars, one per key, in a terminal; else a line per change of a key's status.
    `quiet` (for --json) shows nothing."""

    def __init__(self, console: Console, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self.live = console.is_terminal and not console.is_dumb_terminal and not quiet
        # In a narrow terminal the detail wraps; the name, the bar and the numbers stay whole.
        fixed = Column(no_wrap=True)
        self.progress = Progress(
            TextColumn("{task.description}", table_column=fixed),
            BarColumn(bar_width=24, table_column=Column(no_wrap=True, min_width=24)),
            TaskProgressColumn(table_column=fixed),
            TimeElapsedColumn(table_column=fixed),
            TextColumn("{task.fields[detail]}", table_column=Column(overflow="fold")),
            console=console,
            refresh_per_second=8,
        )
        self._tasks: dict[str, TaskID] = {}
        self._status: dict[str, str] = {}

    def start(self) -> None:
        if self.live:
            self.progress.start()

    def stop(self) -> None:
        if self.live:
            self.progress.stop()

    def note(self, text: str) -> None:
        """A line above the bars (or just a line)."""
        if not self.quiet:
            self.console.print(text)

    def show(
        self,
        key: str,
        description: str,
        status: str,
        detail: str,
        completed: float = 0.0,
        total: float | None = None,
    ) -> None:
        """Key's bar now reads `completed` of `total` (None: not known yet) with `detail`; as
        plain lines, `description: detail` is printed when `status` changes."""
        if self.quiet:
            return
        if not self.live:
            if self._status.get(key) != status:
                self._status[key] = status
                self.console.print(f"{description}: {detail}")
            return
        if key not in self._tasks:
            self._tasks[key] = self.progress.add_task(description, total=total, detail=detail)
        self.progress.update(
            self._tasks[key], description=description, total=total, completed=completed,
            detail=detail,
        )  # fmt: skip

    def migration(self, key: str, m: MigrationOut, description: str | None = None) -> None:
        """Key's line from a migration: the memory in sync on the target of all of it."""
        completed, total = render.migration_copied(m)
        name = str(m.state.value)
        if name == "completed":
            completed, total = (total, total) if total else (1.0, 1.0)
        status = name + ("+cancel" if m.cancel_requested else "")
        self.show(key, description or render.migration_route(m), status,
                  render.migration_detail(m), completed, total)  # fmt: skip


class Watched(Protocol):
    """An operation being waited on."""

    name: str  # "migration 4"
    again: str  # the command that watches it again
    cancel_label: str  # what cancelling it does, for the question

    def poll(self) -> bool:
        """Read its state once and show it; True once it has ended."""

    def cancel(self) -> str:
        """Ask the API to cancel it; a line saying what that does."""


def ask(what: str, cancel_label: str, console: Console, read: Callable[[str], str]) -> Choice:
    """Ctrl-C's question. Without a terminal to answer on, stop watching (never cancel)."""
    console.print(
        f"\nCtrl-C: [c] {cancel_label}, [s] stop watching ({what} goes on), [w] watch on",
        markup=False,
    )
    while True:
        try:
            answer = read("choice [c/s/w] (s): ").strip().lower()
        except (EOFError, KeyboardInterrupt):
            return "stop"
        if answer[:1] in CHOICES:
            return CHOICES[answer[:1]]


def follow(
    op: Watched,
    display: Display,
    interval: float = POLL_S,
    read: Callable[[str], str] | None = None,
) -> bool:
    """Poll `op` until it ends, showing it; whether it was cancelled from here. Ctrl-C asks
    what to do; stopping to watch ends the command (exit 130) and says how to watch again."""
    interactive = read is not None or sys.stdin.isatty()
    reader = read or (lambda prompt: display.console.input(prompt, markup=False))
    cancelled = False
    display.start()
    try:
        while True:
            try:
                while not op.poll():
                    time.sleep(interval)
                return cancelled
            except KeyboardInterrupt:
                display.stop()
                choice: Choice = "stop"
                if interactive and not cancelled:
                    choice = ask(op.name, op.cancel_label, display.console, reader)
                if choice == "stop":
                    raise CliError(
                        f"stopped watching; {op.name} goes on (watch it: {op.again})",
                        EXIT_INTERRUPTED,
                    ) from None
                if choice == "cancel":
                    display.console.print(op.cancel())
                    cancelled = True
                display.start()
    finally:
        display.stop()


class MigrationWatch:
    cancel_label = "cancel the migration (the VM stays on its source)"

    def __init__(self, session: Session, m: MigrationOut, display: Display) -> None:
        self.session, self.m, self.display = session, m, display
        self.name = f"migration {m.id}"
        self.again = f"vmpool migration watch {m.id}"

    def poll(self) -> bool:
        from vmpool_client.api.migrations import get_migration

        self.m = self.session.call(get_migration.sync_detailed, self.m.id)
        self.display.migration("m", self.m)
        return str(self.m.state.value) in render.FINAL_MIGRATION_STATES

    def cancel(self) -> str:
        from vmpool_client.api.migrations import cancel_migration

        try:
            self.session.call(cancel_migration.sync_detailed, self.m.id)
        except CliError as exc:  # it ended meanwhile (409)
            return f"not cancelled: {exc.message}"
        return f"cancelling {self.name}: libvirt aborts the job, the VM stays on its source"


class EvacuationWatch:
    """A host entering maintenance: one line per VM it evacuates, with its migration."""

    def __init__(self, session: Session, host: HostOut, display: Display) -> None:
        self.session, self.host, self.display = session, host, display
        self.name = f"the evacuation of {host.name}"
        self.again = f"vmpool host show {host.name}"
        self.cancel_label = (
            f"leave maintenance: {host.name} takes VMs again, queued evacuations are "
            "cancelled and so are those under way"
        )
        self._ended: dict[int, MigrationOut] = {}  # finished migrations, read once

    def poll(self) -> bool:
        from vmpool_client.api.hosts import get_host
        from vmpool_client.api.migrations import list_migrations
        from vmpool_client.models import MigrationState

        self.host = self.session.call(get_host.sync_detailed, self.host.id)
        ev = self.host.evacuation
        if ev is None:  # it left maintenance
            return True
        moving = {i.migration_id for i in ev.items if i.state in ("preparing", "running")}
        live: dict[int, MigrationOut] = {}
        if moving:
            page = self.session.call(
                list_migrations.sync_detailed,
                host_id=self.host.id,
                state=MigrationState.RUNNING,
                limit=1000,
            )
            live = {m.id: m for m in page.items}
        for item in ev.items:
            key = f"vm{item.vm_id}"
            description = item.vm_name + (f" → {item.target_host}" if item.target_host else "")
            mid = item.migration_id
            if mid is not None and mid in live:
                self.display.migration(key, live[mid], description)
            elif mid is not None and item.state in render.FINAL_MIGRATION_STATES:
                self.display.migration(key, self._final(mid), description)
            elif item.state == "stays":
                self.display.show(key, item.vm_name, "stays", f"stays: {item.error}")
            else:
                detail = item.state + (f": {item.error}" if item.error else "")
                self.display.show(key, description, item.state, detail)
        return ev.status != "evacuating"

    def _final(self, mid: int) -> MigrationOut:
        from vmpool_client.api.migrations import get_migration

        if mid not in self._ended:
            self._ended[mid] = self.session.call(get_migration.sync_detailed, mid)
        return self._ended[mid]

    def cancel(self) -> str:
        from vmpool_client.api.hosts import leave_host_maintenance
        from vmpool_client.api.migrations import cancel_migration

        self.session.call(leave_host_maintenance.sync_detailed, self.host.id)
        ev = self.host.evacuation
        under_way = [
            i.migration_id
            for i in (ev.items if ev else [])
            if i.migration_id is not None and i.state in ("queued", "preparing", "running")
        ]
        for mid in under_way:  # (409: it ended meanwhile, or leaving cancelled it)
            with contextlib.suppress(CliError):
                self.session.call(cancel_migration.sync_detailed, mid)
        return f"{self.host.name} left maintenance; {len(under_way)} migrations cancelled"


class PlanWatch:
    """An approved plan: one line per step, a running step's migration as a bar."""

    cancel_label = "cancel the plan (steps not started are cancelled; a running one finishes)"

    def __init__(self, session: Session, plan: PlanOut, display: Display) -> None:
        self.session, self.plan, self.display = session, plan, display
        self.name = f"plan {plan.id}"
        self.again = f"vmpool plan show {plan.id}"
        self._ended: dict[int, MigrationOut] = {}

    def poll(self) -> bool:
        from vmpool_client.api.migrations import get_migration
        from vmpool_client.api.plans import get_plan

        assert self.plan.id is not None
        self.plan = self.session.call(get_plan.sync_detailed, self.plan.id)
        total = len(self.plan.steps)
        for s in self.plan.steps:
            key, description = f"step{s.seq}", render.step_line(s, total)
            if s.migration_id is not None and s.state in ("running", "completed"):
                if s.migration_id in self._ended:
                    m = self._ended[s.migration_id]
                else:
                    m = self.session.call(get_migration.sync_detailed, s.migration_id)
                    if str(m.state.value) in render.FINAL_MIGRATION_STATES:
                        self._ended[s.migration_id] = m
                self.display.migration(key, m, description)
            else:
                detail = s.state + (f": {s.detail}" if s.detail else "")
                done = 1.0 if s.state in render.FINAL_STEP_STATES else 0.0
                self.display.show(key, description, s.state, detail, done, 1.0)
        return self.plan.state in render.FINAL_PLAN_STATES

    def cancel(self) -> str:
        from vmpool_client.api.plans import cancel_plan

        assert self.plan.id is not None
        try:
            self.session.call(cancel_plan.sync_detailed, self.plan.id)
        except CliError as exc:
            return f"not cancelled: {exc.message}"
        return f"{self.name} cancelled: steps not started are cancelled, a running one finishes"
