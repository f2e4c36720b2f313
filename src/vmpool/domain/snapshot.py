"""A VM's snapshots: the entity, its transitions, and what a snapshot holds.

A snapshot is internal to the VM's qcow2 volumes (libvirt's `snapshotCreateXML`; QEMU's
`savevm` for a running VM, which always saves its memory too, or `qemu-img snapshot` for a
stopped one). It lives in the volumes' files, so it moves with them; libvirt's own record of
it (its XML) is kept in vmpool's database, to be defined again on another host
(`VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE`). docs/lifecycle.md has the rules.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from vmpool.domain.lifecycle import Transition, allowed, transition


class SnapshotState(enum.StrEnum):
    CREATING = "creating"  # intent: libvirt is taking it
    READY = "ready"
    REVERTING = "reverting"  # intent: the VM is being put back to it
    DELETING = "deleting"  # intent: libvirt deletes it; the record goes last
    ERROR = "error"  # libvirt failed half-way: delete it to clean up


_S = SnapshotState

SNAPSHOT_TRANSITIONS: dict[str, Transition[SnapshotState]] = {
    "taken": allowed({_S.CREATING}, _S.READY),
    "failed": allowed({_S.CREATING, _S.REVERTING, _S.DELETING}, _S.ERROR),
    "begin_revert": allowed({_S.READY}, _S.REVERTING),
    "reverted": allowed({_S.REVERTING}, _S.READY),
    # A stale delete (the daemon died during it) is taken again.
    "begin_delete": allowed({_S.READY, _S.ERROR, _S.DELETING, _S.CREATING}, _S.DELETING),
    "delete_failed": allowed({_S.DELETING}, _S.READY),
}


class Snapshot:
    """A snapshot's state and rules. The persistence mapping supplies the attributes."""

    if TYPE_CHECKING:
        id: int
        name: str
        state: str
        state_changed_at: datetime
        last_error: str | None

    INITIAL: ClassVar[SnapshotState] = SnapshotState.CREATING

    @property
    def snapshot_state(self) -> SnapshotState:
        return SnapshotState(self.state)

    def _go(self, event: str, now: datetime) -> None:
        target = transition(SNAPSHOT_TRANSITIONS, "snapshot", self.name, event, self.snapshot_state)
        self.state = target.value
        self.state_changed_at = now

    def taken(self, now: datetime) -> None:
        self._go("taken", now)
        self.last_error = None

    def failed(self, now: datetime, error: str) -> None:
        self._go("failed", now)
        self.last_error = error

    def begin_revert(self, now: datetime) -> None:
        self._go("begin_revert", now)

    def reverted(self, now: datetime) -> None:
        self._go("reverted", now)
        self.last_error = None

    def begin_delete(self, now: datetime) -> None:
        self._go("begin_delete", now)

    def delete_failed(self, now: datetime, error: str) -> None:
        self._go("delete_failed", now)
        self.last_error = error
