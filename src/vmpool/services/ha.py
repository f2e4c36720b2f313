"""A failed host: fencing, then the HA restart of its `ha` VMs on other hosts, and the
stale copies it still holds when it comes back.

As Proxmox HA and oVirt: a VM is started elsewhere only once its host is known to be off
(fenced): by an operator's confirmation (`fence_host`), or by the host's fence command
(`run_fence_commands`, the leader's job), whose outcome is recorded. Until then its VMs
are `unknown`. Two QEMU processes never open the same disk whatever vmpool believes: the
hosts' lock manager (virtlockd) refuses the second (docs/reliability.md).

An HA restart is a use case like the others: intent (placement and the claim moved to the
new host, `starting`) in one transaction, libvirt, then the outcome; a failure puts the VM
back on its fenced host as it was, with the reason, and the next round tries again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from vmpool.domain.host import HostState
from vmpool.domain.ports import Hypervisor
from vmpool.domain.vm import VmState, ha_blocker
from vmpool.errors import VmpoolError
from vmpool.services import cpu_pins, images, passthrough, vm_definitions
from vmpool.services.group_rules import group_of_vm
from vmpool.services.host_views import host_view
from vmpool.services.placement_hosts import timed_place
from vmpool.services.unit_of_work import ServiceContext
from vmpool.services.views import HostView

log = logging.getLogger(__name__)

ACTOR = "ha"


@dataclass
class HaReport:
    fenced: list[str] = field(default_factory=list)
    fence_failed: list[str] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)
    not_restarted: list[str] = field(default_factory=list)


def fence_host(ctx: ServiceContext, host_id: int, actor: str, by: str = "operator") -> HostView:
    """Record that the host is off (an operator's confirmation, or its fence command that
    succeeded). Its `ha` VMs that ran are started elsewhere by the next HA round; its other
    VMs are stopped (they run nowhere)."""
    with ctx.uow() as uow:
        host = uow.hosts.get(host_id)
        host.fence(ctx.clock(), by)
        now = ctx.clock()
        for vm in uow.vms.on_host(host.id):
            if vm.vm_state is not VmState.UNKNOWN:
                continue  # an intent in flight: its own use case (or recovery) settles it
            if vm.ha and vm.ran_when_lost:
                continue  # the HA round starts it elsewhere
            vm.lose_power(now, f"host {host.name} was fenced")
            uow.events.record(actor, "vm.power_lost", f"vm/{vm.id}", name=vm.name)
        uow.events.record(actor, "host.fenced", f"host/{host.id}", by=by)
        view = host_view(uow, host)
        uow.commit()
    return view


def run_fence_commands(ctx: ServiceContext, report: HaReport) -> None:
    """Fence the unreachable hosts that have a fence command and have not answered for
    `fence_after_s`. A failed command is recorded and tried again next round."""
    if ctx.fencer is None:
        return
    now = ctx.clock()
    with ctx.uow() as uow:
        due = [
            (h.id, h.name, h.uri, json.loads(h.fence_command))
            for h in uow.hosts.list()
            if h.host_state is HostState.UNREACHABLE
            and h.fence_command
            and h.last_seen_at is not None
            and (now - h.last_seen_at).total_seconds() >= ctx.fence_after_s
        ]
    for host_id, name, uri, command in due:
        outcome = ctx.fencer.fence(command, name, uri)
        if outcome.ok:
            try:
                fence_host(ctx, host_id, "fence-command", by="command")
            except VmpoolError as exc:  # it answered meanwhile: not fenced after all
                log.warning("host %s was not fenced: %s", name, exc.message)
                continue
            with ctx.uow() as uow:
                uow.events.record(
                    "fence-command", "host.fence_command", f"host/{host_id}", detail=outcome.detail
                )
                uow.commit()
            report.fenced.append(name)
        else:
            with ctx.uow() as uow:
                host = uow.hosts.find(host_id)
                if host is not None:
                    host.last_error = f"fence command failed: {outcome.detail}"
                uow.events.record(
                    "fence-command", "host.fence_failed", f"host/{host_id}", detail=outcome.detail
                )
                uow.commit()
            report.fence_failed.append(name)


def restart_fenced(ctx: ServiceContext, report: HaReport) -> None:
    """Start every `ha` VM of a fenced host that ran when the host was lost on another
    host, one at a time."""
    with ctx.uow() as uow:
        fenced = [h.id for h in uow.hosts.list() if h.host_state is HostState.FENCED]
        todo = [
            vm.id
            for host_id in fenced
            for vm in uow.vms.on_host(host_id)
            if vm.ha and vm.vm_state is VmState.UNKNOWN and vm.ran_when_lost
        ]
    for vm_id in todo:
        name, ok = _restart_one(ctx, vm_id)
        if name is not None:
            (report.restarted if ok else report.not_restarted).append(name)


def _restart_one(ctx: ServiceContext, vm_id: int) -> tuple[str | None, bool]:
    # 1. Intent: place it, move its claim, `starting`, in one transaction under the pool lock.
    with ctx.uow() as uow:
        vm = uow.vms.find(vm_id)
        if vm is None or vm.host_id is None or vm.vm_state is not VmState.UNKNOWN:
            return None, False
        ctx.check_leader(uow)
        old = uow.hosts.get(vm.host_id)
        if old.host_state is not HostState.FENCED:
            return None, False
        pool = uow.pools.get_for_update(vm.pool_id)
        local_disks = sum(1 for d in uow.disks.of_vm(vm.id) if d.storage != "shared")
        why = ha_blocker(vm.disk_gib, vm.disk_storage, local_disks)
        chosen = None
        if why is None:
            needs = vm.placement_requirements(
                group_of_vm(uow, vm), networks=uow.nics.network_names(vm.id)
            )
            try:
                chosen = timed_place(ctx.metrics, "restart", uow, pool, needs)
            except VmpoolError as exc:
                why = exc.message
        if chosen is None:
            assert why is not None
            reason = f"not restarted after {old.name} was fenced: {why}"
            if vm.last_error != reason:  # once, not every round
                vm.last_error = reason
                uow.events.record(ACTOR, "vm.ha_blocked", f"vm/{vm.id}", name=vm.name, why=why)
                uow.commit()
            return vm.name, False
        target = uow.hosts.get(chosen.id)
        if vm.disk_storage == "shared" and target.shared_disk_path != old.shared_disk_path:
            reason = f"host {target.name} mounts shared storage elsewhere"
            vm.last_error = reason
            uow.commit()
            return vm.name, False
        if vm.seed_path is not None:  # made again on the new host, in its local folder
            local = target.local_disk_path or ctx.default_local_disk_path
            vm.seed_path = str(Path(local) / Path(vm.seed_path).name)
        vm.begin_ha_restart(target.id, ctx.clock(), f"restarted after {old.name} was fenced")
        passthrough.move_devices(uow, vm, target.id)  # its devices: the new host's
        cpu_pins.release(uow, vm.id, old.id)  # its dedicated CPUs: the new host's now
        cpu_pins.pin_on(uow, vm, chosen)
        uow.events.record(
            ACTOR, "vm.ha_restart", f"vm/{vm.id}", name=vm.name, source=old.name, target=target.name
        )
        spec = vm_definitions.domain_spec(ctx, uow, vm, vm_definitions.kernel_boot(ctx, vm))
        disks = vm_definitions.data_disks(uow, vm)
        base = vm.image_id if vm.disk_storage == "shared" else None
        name, vm_uuid, seed, old_id = vm.name, vm.uuid, vm.seed_path, old.id
        target_id, target_uri = target.id, target.uri
        uow.commit()

    # 2. The new host.
    hv = ctx.hypervisors.connect(target_uri)
    try:
        if base is not None:
            images.ensure_on_host(ctx, base, target_id)
        if seed is not None:
            iso = images.store_of(ctx).seed_path(vm_uuid)
            hv.upload_volume(str(Path(seed).parent), Path(seed).name, iso)
        hv.define(spec)
        for path, target_dev in disks:
            hv.attach_disk(vm_uuid, path, target_dev)
        hv.start(vm_uuid)
        observed = VmState(hv.domain(vm_uuid).state)
    except VmpoolError as exc:
        _undo_restart(ctx, hv, vm_id, vm_uuid, old_id, seed, exc)
        return name, False
    # 3. The outcome.
    with ctx.uow() as uow:
        row = uow.vms.same(vm_id, vm_uuid)
        if row is not None and row.settle(VmState.STARTING, observed, ctx.clock()):
            uow.events.record(ACTOR, "vm.ha_restarted", f"vm/{vm_id}", name=name)
        uow.commit()
    return name, True


def _undo_restart(
    ctx: ServiceContext,
    hv: Hypervisor,
    vm_id: int,
    vm_uuid: str,
    old_host_id: int,
    seed: str | None,
    cause: VmpoolError,
) -> None:
    """The restart failed: nothing left on the new host, the VM back on its fenced host as
    unknown (claim and all), the reason recorded; the next round tries again."""
    try:
        hv.undefine(vm_uuid)
        if seed is not None:
            hv.delete_volume(seed)
    except VmpoolError:
        log.warning("could not clean the failed HA restart of VM %s", vm_id, exc_info=True)
    with ctx.uow() as uow:
        row = uow.vms.same(vm_id, vm_uuid)
        if row is not None and row.vm_state is VmState.STARTING:
            row.fail_ha_restart(old_host_id, ctx.clock(), f"HA restart failed: {cause.message}")
            passthrough.move_devices(uow, row, old_host_id, strict=False)
            uow.events.record(ACTOR, "vm.ha_restart_failed", f"vm/{vm_id}", error=cause.message)
        uow.commit()


def clear_stale_copies(ctx: ServiceContext, hv: Hypervisor, host_id: int) -> list[str]:
    """A fenced host answers again: before anything else, the copies it still has of VMs
    that were restarted elsewhere are destroyed and undefined; their disks stay (the running
    copy uses them). Answers the names removed."""
    domains = hv.list_domains()
    with ctx.uow() as uow:
        stale = []
        for d in domains:
            vm = uow.vms.by_uuid(d.uuid)
            if vm is not None and vm.host_id != host_id:
                stale.append((d.uuid, d.name, vm.id))
    removed = []
    for vm_uuid, name, vm_id in stale:
        hv.undefine(vm_uuid)  # destroys it first if it runs
        removed.append(name)
        with ctx.uow() as uow:
            uow.events.record(ACTOR, "vm.stale_copy_removed", f"vm/{vm_id}", host_id=host_id)
            uow.commit()
    return removed
