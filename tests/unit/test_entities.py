"""Every entity's transition table, exhaustively: each allowed (state, event) pair leads
to the table's target, every other pair raises InvalidTransition and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from vmpool.domain.host import HOST_TRANSITIONS, Host, HostState
from vmpool.domain.lifecycle import edges
from vmpool.domain.migration import MIGRATION_TRANSITIONS, Migration, MigrationState
from vmpool.domain.plan import (
    PLAN_TRANSITIONS,
    STEP_TRANSITIONS,
    Plan,
    PlanState,
    PlanStep,
    PlanStepState,
)
from vmpool.domain.ports import JobProgress
from vmpool.domain.vm import OBSERVABLE, OBSERVE_FROM, VM_TRANSITIONS, Vm, VmAction, VmState
from vmpool.errors import InvalidState, InvalidTransition

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


class FakeVm(Vm):
    def __init__(self, state: VmState) -> None:
        self.name, self.host_id, self.state = "vm1", 1, state.value
        self.state_changed_at, self.last_error = NOW, None
        self.lost_state = None


class FakeMigration(Migration):
    def __init__(self, state: MigrationState) -> None:
        self.id, self.state, self.cancel_requested = 7, state.value, False
        self.error = None
        self.started_at = self.finished_at = None
        self.current_max_downtime_ms = None
        self.post_copy = False
        self.data_total = self.data_processed = self.data_remaining = None
        self.memory_dirty_rate = self.iteration = self.downtime_ms = self.total_time_ms = None


class FakeStep(PlanStep):
    def __init__(self, state: PlanStepState) -> None:
        self.seq, self.state, self.migration_id = 1, state.value, None
        self.detail = None
        self.started_at = self.finished_at = None


class FakePlan(Plan):
    def __init__(self, state: PlanState, steps: list[FakeStep] | None = None) -> None:
        self.id, self.state = 3, state.value
        self.approved_at = self.finished_at = None
        self.approved_by = None
        self.score_final = None
        self._steps = steps or []

    @property
    def steps(self) -> list[FakeStep]:  # type: ignore[override]
        return self._steps


VM_EVENTS: dict[str, Callable[[FakeVm], object]] = {
    "start": lambda v: v.begin(VmAction.START, LATER),
    "shutdown": lambda v: v.begin(VmAction.SHUTDOWN, LATER),
    "stop": lambda v: v.begin(VmAction.STOP, LATER),
    "reboot": lambda v: v.begin(VmAction.REBOOT, LATER),
    "abandon_create": lambda v: v.abandon_create(LATER, "x"),
    "delete": lambda v: v.begin_delete(LATER, stale_after_s=60),
    "begin_migration": lambda v: v.begin_migration(LATER),
    "resize": lambda v: v.begin_resize(LATER),
    "arrive": lambda v: v.arrive(2, LATER),
    "stay": lambda v: v.stay(LATER),
    "lose": lambda v: v.lose(LATER, "gone"),
    "lose_host": lambda v: v.lose_host(LATER, "no answer"),
    "ha_restart": lambda v: v.begin_ha_restart(2, LATER, "restarted"),
    "power_lost": lambda v: v.lose_power(LATER, "fenced"),
    "ha_restart_failed": lambda v: v.fail_ha_restart(1, LATER, "refused"),
}
MIGRATION_EVENTS: dict[str, Callable[[FakeMigration], object]] = {
    "dispatch": lambda m: m.dispatch(),
    "start": lambda m: m.start(LATER, 100),
    "requeue": lambda m: m.requeue(),
    "begin_completing": lambda m: m.begin_completing(),
    "complete": lambda m: m.complete(LATER, JobProgress(active=False, downtime_ms=12), 900),
    "fail": lambda m: m.fail(LATER, "broken"),
    "cancel": lambda m: m.cancel(LATER, "cancelled"),
}
PLAN_EVENTS: dict[str, Callable[[FakePlan], object]] = {
    "approve": lambda p: p.approve("alice", LATER),
    "supersede": lambda p: p.supersede(LATER),
    "cancel": lambda p: p.cancel(LATER),
    "complete": lambda p: p.complete(0.5, LATER),
}
STEP_EVENTS: dict[str, Callable[[FakeStep], object]] = {
    "start": lambda s: s.start(11, LATER),
    "skip": lambda s: s.skip("no longer valid", LATER),
    "cancel": lambda s: s.cancel(LATER),
    "complete": lambda s: s.complete(LATER),
    "fail": lambda s: s.fail("migration failed", LATER),
}
HOST_EVENTS: dict[str, Callable[[Any], object]] = {
    "lose_contact": lambda h: h.lose_contact(),
    "answer": lambda h: h.answer(),
    "enter_maintenance": lambda h: h.enter_maintenance(LATER),
    "leave_maintenance": lambda h: h.leave_maintenance(),
    "fence": lambda h: h.fence(LATER, "operator"),
    "return_fenced": lambda h: h.return_from_fence(),
}

CASES = [
    (VM_TRANSITIONS, VM_EVENTS, VmState, FakeVm),
    (MIGRATION_TRANSITIONS, MIGRATION_EVENTS, MigrationState, FakeMigration),
    (PLAN_TRANSITIONS, PLAN_EVENTS, PlanState, FakePlan),
    (STEP_TRANSITIONS, STEP_EVENTS, PlanStepState, FakeStep),
]


def _pairs() -> list[Any]:
    return [
        pytest.param(table, events, event, state, make, id=f"{make.__name__}-{event}-{state}")
        for table, events, states, make in CASES
        for event in table
        for state in states
    ]


def test_every_event_of_every_table_has_a_method() -> None:
    for table, events, _states, _make in CASES:
        assert set(events) == set(table)
    assert set(HOST_EVENTS) == set(HOST_TRANSITIONS)


@pytest.mark.parametrize(("table", "events", "event", "state", "make"), _pairs())
def test_transition_table(table: Any, events: Any, event: str, state: Any, make: Any) -> None:
    entity = make(state)
    rule = table[event]
    if state in rule.sources:
        events[event](entity)
        assert entity.state == rule.target.value
    else:
        with pytest.raises(InvalidState):  # InvalidTransition, or the entity's own wording
            events[event](entity)
        assert entity.state == state.value  # nothing changed


def test_a_refused_transition_names_the_state_and_what_is_allowed() -> None:
    vm = FakeVm(VmState.STOPPED)
    with pytest.raises(InvalidTransition) as e:
        vm.begin(VmAction.REBOOT, LATER)
    assert e.value.message == "cannot reboot VM vm1 while it is stopped"
    assert e.value.details == {"state": "stopped", "allowed_from": ["running"]}
    assert e.value.status == 409


def test_a_fresh_delete_is_not_taken_again_but_a_stale_one_is() -> None:
    vm = FakeVm(VmState.DELETING)
    vm.state_changed_at = LATER - timedelta(seconds=10)
    with pytest.raises(InvalidState, match="busy"):
        vm.begin_delete(LATER, stale_after_s=60)
    vm.begin_delete(LATER + timedelta(seconds=60), stale_after_s=60)
    assert vm.vm_state is VmState.DELETING


@pytest.mark.parametrize("state", list(VmState))
@pytest.mark.parametrize("reported", list(VmState))
def test_observation(state: VmState, reported: VmState) -> None:
    vm = FakeVm(state)
    if state in OBSERVE_FROM and reported in OBSERVABLE:
        vm.observe(reported, LATER, "why")
        assert vm.vm_state is reported and vm.state_changed_at == LATER
        assert vm.last_error == "why"
    else:
        with pytest.raises(InvalidTransition):
            vm.observe(reported, LATER)
        assert vm.vm_state is state


def test_an_outcome_is_only_recorded_while_the_vm_is_still_in_its_intent() -> None:
    vm = FakeVm(VmState.STARTING)
    assert vm.settle(VmState.STARTING, VmState.RUNNING, LATER)
    assert vm.vm_state is VmState.RUNNING
    taken_over = FakeVm(VmState.DELETING)  # a delete won meanwhile
    assert not taken_over.settle(VmState.SHUTTING_DOWN, VmState.STOPPED, LATER)
    assert taken_over.vm_state is VmState.DELETING


def test_arriving_moves_the_vm_and_clears_an_old_error() -> None:
    vm = FakeVm(VmState.MIGRATING)
    vm.last_error = "an earlier failure"
    vm.arrive(9, LATER)
    assert (vm.host_id, vm.vm_state, vm.last_error) == (9, VmState.RUNNING, None)


def test_a_migration_records_its_outcome() -> None:
    m = FakeMigration(MigrationState.RUNNING)
    m.complete(
        LATER, JobProgress(active=False, data_total=10, data_processed=10, downtime_ms=5), 42
    )
    assert (m.downtime_ms, m.total_time_ms, m.data_total, m.finished_at) == (5, 42, 10, LATER)
    assert m.error is None


def test_cancelling_a_queued_migration_ends_it_a_started_one_is_flagged() -> None:
    queued = FakeMigration(MigrationState.QUEUED)
    queued.request_cancel(LATER)
    assert queued.migration_state is MigrationState.CANCELLED
    running = FakeMigration(MigrationState.RUNNING)
    running.request_cancel(LATER)
    assert running.migration_state is MigrationState.RUNNING and running.cancel_requested
    with pytest.raises(InvalidState, match="already ended"):
        queued.request_cancel(LATER)


def test_cancelling_a_plan_cancels_its_pending_steps_only() -> None:
    steps = [FakeStep(PlanStepState.COMPLETED), FakeStep(PlanStepState.RUNNING)]
    steps.append(FakeStep(PlanStepState.PENDING))
    plan = FakePlan(PlanState.RUNNING, steps)
    plan.cancel(LATER)
    assert [s.state for s in steps] == ["completed", "running", "cancelled"]
    assert plan.plan_state is PlanState.CANCELLED


class FakeHost(Host):
    def __init__(self, state: HostState) -> None:
        self.name, self.state, self.maintenance_since = "h1", state.value, None
        self.fenced_at, self.fenced_by = None, None


@pytest.mark.parametrize("event", list(HOST_TRANSITIONS))
@pytest.mark.parametrize("state", list(HostState))
def test_host_transitions(event: str, state: HostState) -> None:
    """Contact and maintenance events are idempotent where asking twice is natural (the
    sync reports each round; an operator may repeat "enter maintenance")."""
    host = FakeHost(state)
    rule = HOST_TRANSITIONS[event]
    if state in rule.sources:
        HOST_EVENTS[event](host)
        assert host.state == rule.target.value
    elif event == "leave_maintenance":
        with pytest.raises(InvalidState, match="not in maintenance"):
            host.leave_maintenance()
        assert host.state == state.value
    elif event == "enter_maintenance" and state is HostState.FENCED:
        with pytest.raises(InvalidState, match="once it answers again"):
            host.enter_maintenance(LATER)
        assert host.state == state.value
    elif event == "fence":  # only a host that does not answer is fenced
        with pytest.raises(InvalidState, match="only an unreachable host is fenced"):
            host.fence(LATER, "operator")
        assert host.state == state.value and host.fenced_at is None
    else:
        assert HOST_EVENTS[event](host) is False  # nothing to do
        assert host.state == state.value


def test_the_tables_render_as_edges_for_the_docs() -> None:
    assert ("queued", "dispatch", "preparing") in edges(MIGRATION_TRANSITIONS)
    assert ("running", "begin_migration", "migrating") in edges(VM_TRANSITIONS)
