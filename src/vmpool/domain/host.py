"""The host entity: its states, the one table of allowed transitions, and its events.

A host is up, unreachable (the sync could not reach it; it backs off), or in maintenance
(nothing is placed on it and its VMs are moved away). Maintenance is the operator's: the
sync never takes a host out of it. An unreachable host is `fenced` once it is known to be
off (an operator's confirmation, or a fence command that succeeded): only then may its
`ha` VMs be started elsewhere. A fenced host that answers again is up once the stale
copies of the VMs restarted elsewhere are gone from it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from vmpool.domain.lifecycle import Transition, allowed, transition
from vmpool.errors import InvalidInput, InvalidState


class HostState(enum.StrEnum):
    UP = "up"
    UNREACHABLE = "unreachable"
    MAINTENANCE = "maintenance"
    FENCED = "fenced"  # known to be off: its VMs run nowhere until started elsewhere


_H = HostState
# Not answering: not asked by API calls or background work until it answers again.
SILENT = frozenset({HostState.UNREACHABLE, HostState.FENCED})

HOST_TRANSITIONS: dict[str, Transition[HostState]] = {
    "lose_contact": allowed({_H.UP}, _H.UNREACHABLE),
    "answer": allowed({_H.UNREACHABLE}, _H.UP),
    # Known to be off: confirmed by an operator or by the host's fence command.
    "fence": allowed({_H.UNREACHABLE}, _H.FENCED),
    # Back after a fence, once the stale copies of its restarted VMs are gone.
    "return_fenced": allowed({_H.FENCED}, _H.UP),
    "enter_maintenance": allowed({_H.UP, _H.UNREACHABLE}, _H.MAINTENANCE),
    # Back to up; if it does not answer, the next sync says so.
    "leave_maintenance": allowed({_H.MAINTENANCE}, _H.UP),
}


MAX_FENCE_ARGS = 32
MAX_FENCE_ARG_CHARS = 1024


def check_fence_command(command: list[str] | None) -> list[str] | None:
    """A host's fence command, checked (None: it has none): an absolute program path and a
    few plain arguments. No shell ever reads it."""
    if not command:
        return None
    if len(command) > MAX_FENCE_ARGS:
        raise InvalidInput(f"at most {MAX_FENCE_ARGS} arguments", field="fence_command")
    for arg in command:
        if not arg or len(arg) > MAX_FENCE_ARG_CHARS or "\x00" in arg:
            raise InvalidInput(
                f"each argument is 1 to {MAX_FENCE_ARG_CHARS} characters, without NUL",
                field="fence_command",
            )
    if not command[0].startswith("/"):
        raise InvalidInput("the fence command's program is an absolute path", field="fence_command")
    return list(command)


class Host:
    """A host's state and its rules. The persistence mapping supplies the attributes."""

    if TYPE_CHECKING:
        name: str
        state: str
        maintenance_since: datetime | None
        fenced_at: datetime | None
        fenced_by: str | None

    INITIAL: ClassVar[HostState] = HostState.UP

    @property
    def host_state(self) -> HostState:
        return HostState(self.state)

    @property
    def silent(self) -> bool:
        """It does not answer (unreachable, or fenced: known to be off)."""
        return self.host_state in SILENT

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

    def return_from_fence(self) -> bool:
        """A fenced host answers, and the stale copies of its VMs restarted elsewhere are
        gone: it is up. Answers whether it was fenced until now."""
        if self.host_state is not HostState.FENCED:
            return False
        self._go("return_fenced")
        self.fenced_at = None
        self.fenced_by = None
        return True

    def fence(self, now: datetime, by: str) -> None:
        """It is known to be off (`by`: operator or command). Only a host that does not
        answer is fenced: a host that answers is stopped through its VMs instead."""
        if self.host_state is not HostState.UNREACHABLE:
            raise InvalidState(
                f"host {self.name} is {self.state}: only an unreachable host is fenced",
                state=self.state,
            )
        self._go("fence")
        self.fenced_at = now
        self.fenced_by = by

    def enter_maintenance(self, now: datetime) -> bool:
        """Answers whether it was not in maintenance yet (asking twice is fine)."""
        if self.host_state is HostState.MAINTENANCE:
            return False
        if self.host_state is HostState.FENCED:
            raise InvalidState(
                f"host {self.name} is fenced: it can enter maintenance once it answers again "
                "(and its stale copies are gone)",
                state=self.state,
            )
        self._go("enter_maintenance")
        self.maintenance_since = now
        return True

    def leave_maintenance(self) -> None:
        if self.host_state is not HostState.MAINTENANCE:
            raise InvalidState(f"host {self.name} is not in maintenance", state=self.state)
        self._go("leave_maintenance")
        self.maintenance_since = None
