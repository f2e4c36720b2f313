"""A VM's data disks: the disk entity, its transitions, and the rules for names and sizes.

A data disk is a volume vmpool creates on the VM's host (local) or in the pool's shared
folder, attached as a virtio disk (`vdb`, `vdc`, ...; `vda` is the boot disk). It can be
attached to a running VM (hot-plug) or a stopped one, grown (online for a running VM),
never shrunk, and detached, which deletes the volume.
"""

from __future__ import annotations

import enum
import string
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from vmpool.domain.lifecycle import Transition, allowed, transition
from vmpool.errors import Conflict, InvalidInput, InvalidState

BOOT_TARGET = "vda"
SEED_TARGET = "hdc"  # the first-boot seed, a CD-ROM
DATA_TARGETS = tuple(f"vd{c}" for c in string.ascii_lowercase[1:])  # vdb .. vdz
MAX_DATA_DISKS = len(DATA_TARGETS)


def next_target(used: Iterable[str]) -> str:
    """The first free data disk name, as the guest will see it."""
    taken = set(used)
    for target in DATA_TARGETS:
        if target not in taken:
            return target
    raise InvalidState(f"a VM has at most {MAX_DATA_DISKS} data disks")


def check_growth(current_gib: int, new_gib: int) -> None:
    if new_gib < current_gib:
        raise InvalidInput(
            f"a disk cannot shrink (from {current_gib} to {new_gib} GiB): data past the new "
            "end would be lost",
            field="size_gib",
        )


def migration_storage(has_local: bool, has_shared: bool) -> str:
    """How a VM moves: its local disks are copied (`copy`), or all its disks are on storage
    both hosts see (`shared`)."""
    return "copy" if has_local else "shared"


def check_migration_storage(storage: str, has_local: bool, has_shared: bool, vm: str) -> None:
    if has_local and storage == "shared":
        raise Conflict(
            f"VM {vm} has disks local to its host: migrate with storage=copy", field="storage"
        )
    if not has_local and has_shared and storage == "copy":
        raise Conflict(
            f"VM {vm}'s disks are all on shared storage: migrate with storage=shared",
            field="storage",
        )


class DiskState(enum.StrEnum):
    ATTACHING = "attaching"  # intent: its volume is being created and attached
    ATTACHED = "attached"
    RESIZING = "resizing"  # intent: its volume (and the guest's view) grows
    DETACHING = "detaching"  # intent: detached and deleted; the record goes last


_D = DiskState

DISK_TRANSITIONS: dict[str, Transition[DiskState]] = {
    "attached": allowed({_D.ATTACHING}, _D.ATTACHED),
    "begin_resize": allowed({_D.ATTACHED}, _D.RESIZING),
    "resize_ended": allowed({_D.RESIZING}, _D.ATTACHED),
    # A failed attach is undone like a detach; a stale detach is taken again.
    "begin_detach": allowed({_D.ATTACHING, _D.ATTACHED, _D.DETACHING}, _D.DETACHING),
    "detach_failed": allowed({_D.DETACHING}, _D.ATTACHED),
}


class Disk:
    """A data disk's state and rules. The persistence mapping supplies the attributes."""

    if TYPE_CHECKING:
        id: int
        target: str
        size_gib: int
        state: str
        state_changed_at: datetime
        last_error: str | None

    INITIAL: ClassVar[DiskState] = DiskState.ATTACHING

    @property
    def disk_state(self) -> DiskState:
        return DiskState(self.state)

    def _go(self, event: str, now: datetime) -> None:
        target = transition(DISK_TRANSITIONS, "disk", self.target, event, self.disk_state)
        self.state = target.value
        self.state_changed_at = now

    def attached(self, now: datetime) -> None:
        self._go("attached", now)
        self.last_error = None

    def begin_resize(self, new_gib: int, now: datetime) -> int:
        """Intent to grow; answers the size before, to restore if it fails."""
        check_growth(self.size_gib, new_gib)
        before = self.size_gib
        self._go("begin_resize", now)
        self.size_gib = new_gib  # claimed now, with the intent
        return before

    def resize_ended(
        self, now: datetime, restore_gib: int | None = None, error: str | None = None
    ) -> None:
        self._go("resize_ended", now)
        if restore_gib is not None:
            self.size_gib = restore_gib
        self.last_error = error

    def begin_detach(self, now: datetime) -> None:
        self._go("begin_detach", now)

    def detach_failed(self, now: datetime, error: str) -> None:
        self._go("detach_failed", now)
        self.last_error = error
