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
from vmpool.errors import Conflict, InvalidInput, InvalidState


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


# --- rules (pure) ----------------------------------------------------------------------

SNAPSHOTS_CHANGE_IN = frozenset({"running", "stopped"})  # VmState values
# A snapshot in one of these has libvirt working on it: one change at a time per VM.
BUSY_SNAPSHOT_STATES = frozenset({_S.CREATING, _S.REVERTING, _S.DELETING})
MAX_DESCRIPTION_LENGTH = 255
GIB_MIB = 1024


def libvirt_snapshot_name(token: str) -> str:
    """libvirt's name for a snapshot: vmpool's own, never the client's text."""
    return f"vmpool-snap-{token}"


def check_description(description: str) -> str:
    """Any printable text up to 255 characters: kept in vmpool's database only (never in
    libvirt's XML), shown back verbatim."""
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidInput(
            f"description is {len(description)} characters long: at most {MAX_DESCRIPTION_LENGTH}",
            field="description",
        )
    if any(not c.isprintable() for c in description):
        raise InvalidInput(
            "description holds control characters (newlines, tabs, ...): printable text only",
            field="description",
        )
    return description


def snapshot_mode(vm_name: str, vm_state: str, include_memory: bool | None) -> bool:
    """Whether the snapshot holds the VM's memory: a running VM's always does (libvirt 9.0
    takes an internal snapshot of a running domain with QEMU's savevm; a disk-only internal
    snapshot of a running domain is refused), a stopped VM's never (it has none)."""
    if vm_state not in SNAPSHOTS_CHANGE_IN:
        raise InvalidState(
            f"VM {vm_name} is {vm_state}: snapshots are taken, reverted and deleted while it "
            "runs or is stopped",
            state=vm_state,
        )
    if vm_state == "running":
        if include_memory is False:
            raise InvalidState(
                f"VM {vm_name} runs: a snapshot of a running VM includes its memory (libvirt "
                "takes internal snapshots of a running VM with its memory only); stop the VM "
                "for a disk-only snapshot, or ask with include_memory true",
                state=vm_state,
            )
        return True
    if include_memory is True:
        raise InvalidState(
            f"VM {vm_name} is stopped: it has no memory to include; start it first, or ask "
            "with include_memory false (or without it) for a disk-only snapshot",
            state=vm_state,
        )
    return False


def check_disks(vm_name: str, disk_formats: list[str]) -> None:
    """Internal snapshots live in qcow2 volumes: the VM needs at least one disk, and every
    writable disk must be qcow2."""
    if not disk_formats:
        raise InvalidState(
            f"VM {vm_name} has no disk: a snapshot lives in the VM's qcow2 disks; add a data "
            "disk first (POST /v1/vms/{id}/disks)"
        )
    other = sorted({f for f in disk_formats if f != "qcow2"})
    if other:
        raise InvalidState(
            f"VM {vm_name} has disks in format {', '.join(other)}: internal snapshots need "
            "every disk in qcow2"
        )


def snapshot_size_gib(disk_gib: int, memory_mib: int, with_memory: bool) -> int:
    """What a snapshot may take on its storage, claimed honestly at its worst: every block
    of every disk rewritten after it (copy-on-write keeps the old ones), plus the saved
    memory (rounded up to whole GiB) when it holds memory."""
    memory = -(-memory_mib // GIB_MIB) if with_memory else 0
    return disk_gib + memory


def check_vm_snapshot_free(vm_name: str, busy: bool) -> None:
    if busy:
        raise InvalidState(
            f"VM {vm_name} has a snapshot being taken, reverted or deleted: try again when "
            "it is done"
        )


def snapshot_migration_blocker(vm_name: str, snapshots: int, storage: str) -> str | None:
    """Why a VM with `snapshots` snapshots cannot move with `storage` (copy | shared), or
    None. Internal snapshots live inside the qcow2 files: on shared storage the files stay
    where they are and vmpool moves libvirt's records (REDEFINE on the target); a copy
    migration (NBD drive-mirror) copies only the disks' current data, never their internal
    snapshots, so they would be lost."""
    if snapshots and storage == "copy":
        return (
            f"VM {vm_name} has {snapshots} snapshot(s) in its local disks: a live migration "
            "copies only the disks' current data, never their internal snapshots; delete the "
            "snapshots first, or keep the VM's disks on shared storage to migrate with them"
        )
    return None


def check_snapshot_migration(vm_name: str, snapshots: int, storage: str) -> None:
    why = snapshot_migration_blocker(vm_name, snapshots, storage)
    if why is not None:
        raise Conflict(why, field="storage")


def check_revert_sizes(
    vm: str, snapshot: str, recorded: tuple[int, int] | None, current: tuple[int, int]
) -> None:
    """A revert gives the VM back the vCPUs and memory the snapshot recorded; its claim holds
    the current ones. Refused (409) while they differ, so that a revert never grows a VM past
    its claim nor leaves a claim larger than the VM: resize it to the snapshot's sizes first
    (PATCH /v1/vms/{id}), then revert. None: the record does not say (nothing to check)."""
    if recorded is None or recorded == current:
        return
    (vcpus, memory_mib), (now_vcpus, now_mib) = recorded, current
    raise Conflict(
        f"snapshot {snapshot} of VM {vm} was taken with {vcpus} vCPUs and {memory_mib} MiB; "
        f"the VM has {now_vcpus} vCPUs and {now_mib} MiB now: resize it to the snapshot's "
        "sizes, then revert",
        snapshot_vcpus=vcpus,
        snapshot_memory_mib=memory_mib,
    )
