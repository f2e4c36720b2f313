"""The VM entity: its states, the one table of allowed transitions, and its events.

Every change of a VM's state goes through a method here. The services write intent
(a transitional state) before calling the hypervisor and the outcome after it; the
sync corrects a steady state from what the host reports (`observe`).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from vmpool.domain.hardware import (
    CpuPolicy,
    HardwareRequest,
    devices_from_json,
    devices_to_json,
)
from vmpool.domain.lifecycle import Transition, allowed, transition
from vmpool.domain.model import (
    SHARED_STORAGE_TRAIT,
    DomainType,
    GroupRule,
    PlacementRequirements,
    split_list,
)
from vmpool.domain.passthrough import migration_blocker as passthrough_blocker
from vmpool.errors import InvalidState, InvalidTransition


class VmState(enum.StrEnum):
    # Transitional: written as intent before the hypervisor is called.
    CREATING = "creating"
    STARTING = "starting"
    STOPPING = "stopping"
    SHUTTING_DOWN = "shutting_down"
    REBOOTING = "rebooting"
    DELETING = "deleting"
    MIGRATING = "migrating"
    RESIZING = "resizing"  # hot-plug of vCPUs or memory, or a stopped VM's new sizes
    # Steady: what the hypervisor reports.
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    CRASHED = "crashed"
    ERROR = "error"
    # Its host does not answer: what it does is not known (not "stopped": it may run on).
    UNKNOWN = "unknown"

    @property
    def is_transitional(self) -> bool:
        return self in TRANSITIONAL_STATES


TRANSITIONAL_STATES = frozenset(
    {
        VmState.CREATING,
        VmState.STARTING,
        VmState.STOPPING,
        VmState.SHUTTING_DOWN,
        VmState.REBOOTING,
        VmState.DELETING,
        VmState.MIGRATING,
        VmState.RESIZING,
    }
)

# What a host can report about a domain (ERROR: it is missing). A shutdown the guest is
# still acting on is reported as shutting_down.
OBSERVABLE = frozenset(
    {
        VmState.RUNNING,
        VmState.PAUSED,
        VmState.STOPPED,
        VmState.SHUTTING_DOWN,
        VmState.CRASHED,
        VmState.ERROR,
    }
)
_STEADY = OBSERVABLE - {VmState.SHUTTING_DOWN}
_S = VmState


class VmAction(enum.StrEnum):
    """The power actions a client may ask for."""

    START = "start"
    SHUTDOWN = "shutdown"
    STOP = "stop"
    REBOOT = "reboot"


# The VM's life, one row per event: the states it is allowed from, the state it leads to.
# `observe` leads to the state the host reports (one of OBSERVABLE), see `Vm.observe`.
VM_TRANSITIONS: dict[str, Transition[VmState]] = {
    "start": allowed({_S.STOPPED, _S.CRASHED}, _S.STARTING),
    "shutdown": allowed({_S.RUNNING}, _S.SHUTTING_DOWN),
    "stop": allowed({_S.RUNNING, _S.PAUSED, _S.CRASHED, _S.SHUTTING_DOWN, _S.UNKNOWN}, _S.STOPPING),
    "reboot": allowed({_S.RUNNING}, _S.REBOOTING),
    "abandon_create": allowed({_S.CREATING}, _S.DELETING),
    # A delete is refused while another intent is pending; a stale delete is taken again.
    "delete": allowed(_STEADY | {_S.SHUTTING_DOWN, _S.DELETING, _S.UNKNOWN}, _S.DELETING),
    "begin_migration": allowed({_S.RUNNING}, _S.MIGRATING),
    # It runs on the target now. From running: a migration settled after the fact,
    # whose VM vmpool never marked migrating (it died right after dispatching it).
    "arrive": allowed({_S.MIGRATING, _S.RUNNING}, _S.RUNNING),
    "stay": allowed({_S.MIGRATING}, _S.RUNNING),  # still (or again) on its source
    "lose": allowed({_S.MIGRATING}, _S.ERROR),  # on neither host
    # Its host stopped answering; the next answer is observed from here.
    "lose_host": allowed(_STEADY - {_S.ERROR}, _S.UNKNOWN),
    # Its host is fenced (known to be off): an `ha` VM that ran is started on another host,
    # any other VM is stopped there (it runs nowhere).
    "ha_restart": allowed({_S.UNKNOWN}, _S.STARTING),
    "power_lost": allowed({_S.UNKNOWN}, _S.STOPPED),
    # The new host refused it: back on the fenced host, tried again by the next round.
    "ha_restart_failed": allowed({_S.STARTING}, _S.UNKNOWN),
    # New vCPU or memory sizes (domain/resize.py): live while it runs, its definition while
    # it is stopped; the outcome is observed (`settle`), as a power action's.
    "resize": allowed({_S.RUNNING, _S.STOPPED}, _S.RESIZING),
}
# What a VM ran as before its host was lost, for the HA restart to start it again.
HA_RESTARTS_FROM = frozenset({_S.RUNNING, _S.PAUSED, _S.SHUTTING_DOWN})
# Disks are attached, grown and detached only while the VM is in one of these (hot-plug
# while it runs, its definition while it is stopped), never mid-way through another change.
DEVICES_CHANGE_IN = frozenset({_S.RUNNING, _S.STOPPED})

# Observation: the sync, and each action's outcome, record what the host reports from any
# state but these, which their own use case settles.
OBSERVE_FROM = frozenset(_S) - {_S.MIGRATING, _S.DELETING}


class Vm:
    """A VM's state and its rules. The persistence mapping supplies the attributes."""

    if TYPE_CHECKING:
        name: str
        host_id: int | None
        vcpus: int
        memory_mib: int
        disk_gib: int
        guaranteed: bool
        arch: str | None
        domain_type: str | None  # None until placed, when the host decides (kvm or qemu)
        required_traits: str  # a comma list, as stored
        disk_storage: str | None  # local | shared, when it has a disk
        ha: bool  # started on another host when its host fails and is fenced
        tpm: bool
        sgx_epc_mib: int
        cpu_policy: str
        hugepages: str | None
        devices: str  # a JSON list of {"alias", "count"}
        machine: str | None  # the machine type of its host's hypervisor at create
        lost_state: str | None  # the state it had when its host was lost
        state: str
        state_changed_at: datetime
        last_error: str | None

    INITIAL: ClassVar[VmState] = VmState.CREATING

    @property
    def hardware_request(self) -> HardwareRequest:
        """The special hardware it asked for at create (docs/hardware.md)."""
        return HardwareRequest(
            tpm=self.tpm,
            sgx_epc_mib=self.sgx_epc_mib,
            cpu_policy=CpuPolicy(self.cpu_policy),
            hugepages=self.hugepages,
            devices=devices_from_json(self.devices),
            machine=self.machine,
        )

    def hardware_migration_blocker(self) -> str | None:
        """Why its special hardware keeps it on its host (None: it may move): passthrough
        devices and SGX EPC (domain/passthrough.py). Dedicated CPUs and huge pages move
        (the target's CPUs are allocated with the migration: docs/hardware.md).
        The one rule a migration request, its start, maintenance's evacuation and the
        rebalance planner ask."""
        hw = self.hardware_request
        return passthrough_blocker(self.name, hw.devices, hw.sgx_epc_mib)

    def planner_leaves_it(self) -> bool:
        """Whether the rebalance planner leaves it where it is for its special hardware: what
        cannot move at all (`hardware_migration_blocker`), and what moves only by request or
        evacuation, placed through placement's filters, because the planner does not model
        it: huge pages per host, dedicated CPUs per NUMA cell (docs/hardware.md)."""
        return (
            self.hardware_migration_blocker() is not None
            or self.hugepages is not None
            or self.cpu_policy == CpuPolicy.DEDICATED.value
        )

    def set_hardware(self, req: HardwareRequest) -> None:
        self.tpm = req.tpm
        self.sgx_epc_mib = req.sgx_epc_mib
        self.cpu_policy = req.cpu_policy.value
        self.hugepages = req.hugepages
        self.devices = devices_to_json(req.devices)

    def check_devices_can_change(self) -> None:
        if self.vm_state not in DEVICES_CHANGE_IN:
            raise InvalidState(
                f"VM {self.name} is {self.state}: disks change while it runs or is stopped",
                state=self.state,
            )

    def placement_requirements(
        self,
        group: GroupRule | None = None,
        allowed_hosts: frozenset[str] | None = None,
        local_data_gib: int = 0,
        networks: frozenset[str] = frozenset(),
    ) -> PlacementRequirements:
        """Everything placement needs from this VM, for its create and every later move
        (migration, evacuation, rebalance, the capacity question): its size, whether it is
        guaranteed, its architecture, domain type and traits, the storage its disk is on and
        the networks its NICs are on. The one place they are put together. `allowed_hosts`
        is only given at create: the hosts asked for choose the first host (as Nova resets
        forced hosts). A host's disk counts what is local to it: the boot disk unless it is
        on shared storage, and `local_data_gib` of local data disks."""
        traits = set(split_list(self.required_traits))
        shared_boot = bool(self.disk_gib) and self.disk_storage == "shared"
        if shared_boot:
            traits.add(SHARED_STORAGE_TRAIT)
        return PlacementRequirements(
            vcpus=self.vcpus,
            memory_mib=self.memory_mib,
            disk_gib=(0 if shared_boot else self.disk_gib) + local_data_gib,
            guaranteed=self.guaranteed,
            arch=self.arch,
            domain_type=DomainType(self.domain_type) if self.domain_type else None,
            required_traits=frozenset(traits),
            networks=networks,
            allowed_hosts=allowed_hosts,
            group=group,
            hardware=self.hardware_request,
        )

    @property
    def vm_state(self) -> VmState:
        return VmState(self.state)

    def _go(self, event: str, now: datetime) -> None:
        target = transition(VM_TRANSITIONS, "VM", self.name, event, self.vm_state)
        self.state = target.value
        self.state_changed_at = now

    def begin(self, action: VmAction, now: datetime) -> None:
        """Intent of a power action, before the hypervisor is asked."""
        self._go(action.value, now)
        self.last_error = None

    def observe(self, reported: VmState, now: datetime, error: str | None = None) -> bool:
        """Record what the host reports; answers whether the state changed."""
        if reported not in OBSERVABLE:
            raise InvalidTransition(f"a host cannot report {reported.value}")
        if self.vm_state not in OBSERVE_FROM:
            raise InvalidTransition(
                f"VM {self.name} is {self.state}: its own use case settles it",
                state=self.state,
            )
        changed = reported is not self.vm_state
        self.state = reported.value
        self.state_changed_at = now
        self.lost_state = None
        if error is not None:
            self.last_error = error
        return changed

    def settle(
        self, intent: VmState, reported: VmState, now: datetime, error: str | None = None
    ) -> bool:
        """The outcome of this process's own intent: recorded only while the VM is still in
        it (the sync, or a delete, may have taken it over meanwhile, and they win)."""
        if self.vm_state is not intent:
            return False
        self.observe(reported, now, error)
        return True

    def abandon_create(self, now: datetime, error: str | None = None) -> None:
        """The create did not finish: the domain and disk go, then the record."""
        self._go("abandon_create", now)
        if error is not None:
            self.last_error = error

    def begin_delete(self, now: datetime, stale_after_s: float) -> None:
        current = self.vm_state
        age = (now - self.state_changed_at).total_seconds()
        if current not in VM_TRANSITIONS["delete"].sources or (
            current is VmState.DELETING and age < stale_after_s
        ):
            raise InvalidState(
                f"VM {self.name} is busy ({current.value}); try again when it settles",
                state=current.value,
            )
        self._go("delete", now)

    def begin_resize(self, now: datetime) -> None:
        """Intent of a resize: its new claim is written in the same transaction."""
        self._go("resize", now)
        self.last_error = None

    def begin_migration(self, now: datetime) -> None:
        self._go("begin_migration", now)

    def arrive(self, host_id: int | None, now: datetime) -> None:
        """It runs on `host_id` now: the record moves there (never on two hosts)."""
        self._go("arrive", now)
        self.host_id = host_id
        self.last_error = None  # an earlier failure is history now

    def stay(self, now: datetime) -> None:
        self._go("stay", now)

    def lose(self, now: datetime, error: str) -> None:
        self._go("lose", now)
        self.last_error = error

    @property
    def steady(self) -> bool:
        """In a state its host reports (not an intent in flight, which its own use case
        settles): what a lost host makes unknown."""
        return self.vm_state in VM_TRANSITIONS["lose_host"].sources

    def lose_host(self, now: datetime, why: str) -> None:
        """Its host stopped answering: what it does is `unknown` now."""
        self.lost_state = self.state
        self._go("lose_host", now)
        self.last_error = why

    @property
    def ran_when_lost(self) -> bool:
        return self.lost_state is not None and VmState(self.lost_state) in HA_RESTARTS_FROM

    def begin_ha_restart(self, host_id: int, now: datetime, why: str) -> None:
        """Intent: started on `host_id`, its claim moved there in the same transaction."""
        self._go("ha_restart", now)
        self.host_id = host_id
        self.lost_state = None
        self.last_error = why

    def fail_ha_restart(self, host_id: int, now: datetime, why: str) -> None:
        """The new host did not start it: back on `host_id` (its fenced host), as before."""
        self._go("ha_restart_failed", now)
        self.host_id = host_id
        self.lost_state = VmState.RUNNING.value
        self.last_error = why

    def lose_power(self, now: datetime, why: str) -> None:
        """Its host is fenced and it is not started elsewhere: it is stopped."""
        self._go("power_lost", now)
        self.lost_state = None
        self.last_error = why


def ha_blocker(disk_gib: int, disk_storage: str | None, local_data_disks: int) -> str | None:
    """Why a VM cannot be restarted on another host after its host fails (None: it can):
    every disk must be on storage the other hosts see. A first-boot seed is made again from
    the daemon's copy."""
    if disk_gib and disk_storage != "shared":
        return "its boot disk is on the host's local storage (ha needs disk_storage=shared)"
    if local_data_disks:
        return f"{local_data_disks} of its data disks are on local storage"
    return None
