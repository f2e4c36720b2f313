"""The live migration entity: its states, the one table of allowed transitions, its events.

A migration is queued with its target claimed, dispatched within the limits (preparing),
started (running: libvirt's job), and ends completed, failed or cancelled. `completing`
is the short moment between "the target runs it" and the record of the outcome.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from vmpool.domain.lifecycle import Transition, allowed, transition
from vmpool.domain.ports import JobProgress
from vmpool.errors import InvalidState


class MigrationState(enum.StrEnum):
    QUEUED = "queued"
    PREPARING = "preparing"
    RUNNING = "running"
    COMPLETING = "completing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_MIGRATION_STATES


FINAL_MIGRATION_STATES = frozenset(
    {MigrationState.COMPLETED, MigrationState.FAILED, MigrationState.CANCELLED}
)
# The target's capacity stays claimed while a migration is in one of these.
ACTIVE_MIGRATION_STATES = frozenset(MigrationState) - FINAL_MIGRATION_STATES
# libvirt may be moving the VM (or is about to): these count against the limits.
RUNNING_MIGRATION_STATES = ACTIVE_MIGRATION_STATES - {MigrationState.QUEUED}

_M = MigrationState

MIGRATION_TRANSITIONS: dict[str, Transition[MigrationState]] = {
    "dispatch": allowed({_M.QUEUED}, _M.PREPARING),
    "start": allowed({_M.PREPARING}, _M.RUNNING),
    # Recovery: it was dispatched but libvirt never started it; it may run again.
    "requeue": allowed({_M.PREPARING}, _M.QUEUED),
    "begin_completing": allowed({_M.RUNNING}, _M.COMPLETING),
    # From preparing: settled after the fact (vmpool died as it started the job).
    "complete": allowed({_M.PREPARING, _M.RUNNING, _M.COMPLETING}, _M.COMPLETED),
    "fail": allowed(ACTIVE_MIGRATION_STATES, _M.FAILED),
    "cancel": allowed(ACTIVE_MIGRATION_STATES, _M.CANCELLED),
}


class Migration:
    """A migration's state and its rules. The persistence mapping supplies the attributes."""

    if TYPE_CHECKING:
        id: int
        state: str
        cancel_requested: bool
        error: str | None
        started_at: datetime | None
        finished_at: datetime | None
        current_max_downtime_ms: int | None
        post_copy: bool
        data_total: int | None
        data_processed: int | None
        data_remaining: int | None
        memory_dirty_rate: int | None
        iteration: int | None
        downtime_ms: int | None
        total_time_ms: int | None

    INITIAL: ClassVar[MigrationState] = MigrationState.QUEUED

    @property
    def migration_state(self) -> MigrationState:
        return MigrationState(self.state)

    @property
    def is_final(self) -> bool:
        return self.migration_state.is_final

    def _go(self, event: str) -> None:
        target = transition(
            MIGRATION_TRANSITIONS, "migration", str(self.id), event, self.migration_state
        )
        self.state = target.value

    def dispatch(self) -> None:
        self._go("dispatch")

    def start(self, now: datetime, max_downtime_ms: int) -> None:
        self._go("start")
        self.started_at = now
        self.current_max_downtime_ms = max_downtime_ms

    def requeue(self) -> None:
        self._go("requeue")
        self.finished_at = None

    def begin_completing(self) -> None:
        self._go("begin_completing")

    def record_progress(self, p: JobProgress, max_downtime_ms: int) -> None:
        if p.data_total is not None:
            self.data_total = p.data_total
            self.data_processed = p.data_processed
            self.data_remaining = p.data_remaining
            self.memory_dirty_rate = p.memory_dirty_rate
            self.iteration = p.iteration
        self.current_max_downtime_ms = max_downtime_ms

    def switch_to_post_copy(self) -> None:
        self.post_copy = True

    def complete(
        self, now: datetime, final: JobProgress | None = None, total_ms: int | None = None
    ) -> None:
        self._go("complete")
        self._end(now, None, total_ms)
        if final is not None:
            self.downtime_ms = final.downtime_ms
            if final.data_total is not None:
                self.data_total, self.data_processed = final.data_total, final.data_processed
                self.data_remaining = final.data_remaining

    def fail(self, now: datetime, error: str, total_ms: int | None = None) -> None:
        self._go("fail")
        self._end(now, error, total_ms)

    def cancel(self, now: datetime, reason: str, total_ms: int | None = None) -> None:
        self._go("cancel")
        self._end(now, reason, total_ms)

    def _end(self, now: datetime, error: str | None, total_ms: int | None) -> None:
        self.finished_at = now
        self.error = error
        if total_ms is not None:
            self.total_time_ms = total_ms

    def request_cancel(self, now: datetime) -> None:
        """A queued migration ends at once; a started one is aborted by its worker."""
        if self.is_final:
            raise InvalidState(
                f"migration {self.id} already ended ({self.state})", state=self.state
            )
        if self.migration_state is MigrationState.QUEUED:
            self.cancel(now, "cancelled before it started")
        else:
            self.cancel_requested = True
