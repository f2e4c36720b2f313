"""The host entity: its states, the one table of allowed transitions, and its events.

A host is up, unreachable (the sync could not reach it; it backs off), or in maintenance
(nothing is placed on it and its VMs are moved away). Maintenance is the operator's: the
sync never takes a host out of it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from vmpool.domain.lifecycle import Transition, allowed, transition
from vmpool.errors import InvalidState


class HostState(enum.StrEnum):
    UP = "up"
    UNREACHABLE = "unreachable"
    MAINTENANCE = "maintenance"


_H = HostState

HOST_TRANSITIONS: dict[str, Transition[HostState]] = {
    "lose_contact": allowed({_H.UP}, _H.UNREACHABLE),
    "answer": allowed({_H.UNREACHABLE}, _H.UP),
    "enter_maintenance": allowed({_H.UP, _H.UNREACHABLE}, _H.MAINTENANCE),
    # Back to up; if it does not answer, the next sync says so.
    "leave_maintenance": allowed({_H.MAINTENANCE}, _H.UP),
}


class Host:
    """A host's state and its rules. The persistence mapping supplies the attributes."""

    if TYPE_CHECKING:
        name: str
        state: str
        maintenance_since: datetime | None

    INITIAL: ClassVar[HostState] = HostState.UP

    @property
    def host_state(self) -> HostState:
        return HostState(self.state)

    def _go(self, event: str) -> None:
        target = transition(HOST_TRANSITIONS, "host", self.name, event, self.host_state)
        self.state = target.value

    def lose_contact(self) -> bool:
        """The sync could not reach it; answers whether it was up until now."""
        if self.host_state is not HostState.UP:
            return False
        self._go("lose_contact")
        return True

    def answer(self) -> bool:
        """The sync reached it; answers whether it was unreachable until now."""
        if self.host_state is not HostState.UNREACHABLE:
            return False
        self._go("answer")
        return True

    def enter_maintenance(self, now: datetime) -> bool:
        """Answers whether it was not in maintenance yet (asking twice is fine)."""
        if self.host_state is HostState.MAINTENANCE:
            return False
        self._go("enter_maintenance")
        self.maintenance_since = now
        return True

    def leave_maintenance(self) -> None:
        if self.host_state is not HostState.MAINTENANCE:
            raise InvalidState(f"host {self.name} is not in maintenance", state=self.state)
        self._go("leave_maintenance")
        self.maintenance_since = None
