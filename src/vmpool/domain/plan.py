"""The stored rebalance plan and its steps: states, transition tables and events.

(The planner itself, a pure function of a cluster state, is `vmpool.domain.rebalance`.)
A plan is proposed, approved (running), and ends completed or cancelled, or superseded by
a newer proposal before anyone approved it. Each step is a move run through the ordinary
migration queue, checked again when its turn comes.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from vmpool.domain.lifecycle import Transition, allowed, transition
from vmpool.errors import InvalidState


class PlanState(enum.StrEnum):
    PROPOSED = "proposed"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"  # a newer proposal replaced it before approval

    @property
    def is_final(self) -> bool:
        return self in (PlanState.COMPLETED, PlanState.CANCELLED, PlanState.SUPERSEDED)


class PlanStepState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"  # its migration is queued or running
    COMPLETED = "completed"
    SKIPPED = "skipped"  # no longer valid or no longer improving when its turn came
    FAILED = "failed"  # its migration failed or was cancelled
    CANCELLED = "cancelled"  # the plan was cancelled before its turn


_P = PlanState
_T = PlanStepState

PLAN_TRANSITIONS: dict[str, Transition[PlanState]] = {
    "approve": allowed({_P.PROPOSED}, _P.RUNNING),
    "supersede": allowed({_P.PROPOSED}, _P.SUPERSEDED),
    "cancel": allowed({_P.PROPOSED, _P.RUNNING}, _P.CANCELLED),
    "complete": allowed({_P.RUNNING}, _P.COMPLETED),
}

STEP_TRANSITIONS: dict[str, Transition[PlanStepState]] = {
    "start": allowed({_T.PENDING}, _T.RUNNING),
    "skip": allowed({_T.PENDING}, _T.SKIPPED),
    "cancel": allowed({_T.PENDING}, _T.CANCELLED),
    "complete": allowed({_T.RUNNING}, _T.COMPLETED),
    "fail": allowed({_T.RUNNING}, _T.FAILED),
}


class PlanStep:
    """One move of a plan. The persistence mapping supplies the attributes."""

    if TYPE_CHECKING:
        seq: int
        state: str
        migration_id: int | None
        detail: str | None
        started_at: datetime | None
        finished_at: datetime | None

    INITIAL: ClassVar[PlanStepState] = PlanStepState.PENDING

    @property
    def step_state(self) -> PlanStepState:
        return PlanStepState(self.state)

    def _go(self, event: str) -> None:
        target = transition(STEP_TRANSITIONS, "step", str(self.seq), event, self.step_state)
        self.state = target.value

    def start(self, migration_id: int, now: datetime) -> None:
        self._go("start")
        self.migration_id = migration_id
        self.started_at = now

    def skip(self, why: str, now: datetime) -> None:
        self._go("skip")
        self.detail = why
        self.finished_at = now

    def cancel(self, now: datetime) -> None:
        self._go("cancel")
        self.finished_at = now

    def complete(self, now: datetime) -> None:
        self._go("complete")
        self.finished_at = now

    def fail(self, why: str, now: datetime) -> None:
        self._go("fail")
        self.detail = why
        self.finished_at = now


class Plan:
    """A stored plan. The persistence mapping supplies the attributes and the steps."""

    if TYPE_CHECKING:
        id: int
        state: str
        approved_at: datetime | None
        approved_by: str | None
        finished_at: datetime | None
        score_final: float | None

        @property
        def steps(self) -> Sequence[PlanStep]: ...

    INITIAL: ClassVar[PlanState] = PlanState.PROPOSED

    @property
    def plan_state(self) -> PlanState:
        return PlanState(self.state)

    def _go(self, event: str) -> None:
        target = transition(PLAN_TRANSITIONS, "plan", str(self.id), event, self.plan_state)
        self.state = target.value

    def approve(self, actor: str, now: datetime) -> None:
        if self.plan_state is not PlanState.PROPOSED:
            raise InvalidState(
                f"plan {self.id} is {self.state}: only a proposed plan can be approved",
                state=self.state,
            )
        self._go("approve")
        self.approved_at = now
        self.approved_by = actor

    def supersede(self, now: datetime) -> None:
        self._go("supersede")
        self.finished_at = now

    def cancel(self, now: datetime) -> None:
        """Its pending steps are cancelled; a step whose migration runs is left to finish."""
        if self.plan_state.is_final:
            raise InvalidState(f"plan {self.id} is already {self.state}", state=self.state)
        self._go("cancel")
        self.finished_at = now
        for step in self.steps:
            if step.step_state is PlanStepState.PENDING:
                step.cancel(now)

    def complete(self, score_final: float, now: datetime) -> None:
        self._go("complete")
        self.score_final = score_final
        self.finished_at = now
