"""Hot-plug and resize of a VM's vCPUs and memory (`PATCH /v1/vms/{id}`).

1. Intent and claim, in one transaction under the project's and the pool's locks: the new
   sizes are checked against the VM's maxima (domain/resize.py), a growth against the
   project's quota and its own host's room (placement's filters, with placement's
   per-filter explanation), then the VM goes `resizing` and its row holds the larger of the
   old and new size of each dimension: that row is the claim.
2. The host: vCPUs (setVcpusFlags) and memory (the balloon's target, setMemoryFlags), live
   and in the definition while it runs, in the definition only while it is stopped.
3. Outcome: what libvirt confirmed becomes the VM's size (a shrink frees its capacity only
   now); what failed keeps the old size (a growth's claim is given back). A crash between
   1 and 3 leaves the larger claim, which is safe; the sync settles the state once the
   intent is stale, and a new PATCH applies the sizes again.
"""

from __future__ import annotations

import logging

from vmpool.domain.cpu_pinning import check_resizable
from vmpool.domain.hypervisor_features import HOTPLUG
from vmpool.domain.model import PlacementRequirements
from vmpool.domain.placement import place
from vmpool.domain.resize import Sizes, plan_resize
from vmpool.domain.vm import VM_TRANSITIONS, VmState
from vmpool.errors import HypervisorOperationInvalid, InvalidState, NoCapacity, VmpoolError
from vmpool.services import projects
from vmpool.services.hosts import require_reachable
from vmpool.services.placement_hosts import placement_hosts, policy_of, require_host_feature
from vmpool.services.unit_of_work import ServiceContext
from vmpool.services.views import VmView, vm_view

log = logging.getLogger(__name__)

# How long a shrinking balloon may take to give the memory back before the call answers
# (within the host call's deadline). The target stays set; a later PATCH confirms it.
BALLOON_WAIT_S = 15.0


def resize_vm(
    ctx: ServiceContext,
    vm_id: int,
    vcpus: int | None = None,
    memory_mib: int | None = None,
    actor: str = "api",
) -> VmView:
    # 1. Intent and claim.
    with ctx.uow() as uow:
        found = uow.vms.get(vm_id)
        project_id, pool_id = found.project_id, found.pool_id
        uow.projects.get_for_update(project_id)  # always the project first, then the pool
        pool = uow.pools.get_for_update(pool_id)
        vm = uow.vms.get_for_update(vm_id)  # afresh, under the locks
        now, asked = (
            Sizes(vm.vcpus, vm.memory_mib),
            Sizes(vcpus or vm.vcpus, memory_mib or vm.memory_mib),
        )
        check_resizable(vm.name, vm.cpu_policy, vm.hugepages, now, asked)  # before the maxima
        plan = plan_resize(
            Sizes(vm.vcpus, vm.memory_mib), Sizes(vm.max_vcpus, vm.max_memory_mib),
            vcpus, memory_mib,
        )  # fmt: skip
        if vm.vm_state not in VM_TRANSITIONS["resize"].sources:
            raise InvalidState(
                f"VM {vm.name} is {vm.state}: vCPUs and memory change while it runs or is "
                "stopped; try again when it settles",
                state=vm.state,
            )
        if vm.host_id is None:
            raise InvalidState(f"VM {vm.name} has no host", state=vm.state)
        host = require_reachable(uow.hosts.get(vm.host_id))
        if vm.vm_state is VmState.RUNNING:  # a stopped VM's definition changes anywhere
            require_host_feature(host, HOTPLUG, f"resize running VM {vm.name}")
        growth = plan.growth
        if plan.grows:
            projects.claim_quota(uow, project_id, vcpus=growth.vcpus, memory_mib=growth.memory_mib)
            request = PlacementRequirements(
                vcpus=growth.vcpus,
                memory_mib=growth.memory_mib,
                guaranteed=vm.guaranteed,
                allowed_hosts=frozenset({host.name}),
            )
            result = place(placement_hosts(uow, pool), request, policy_of(pool))
            if result.host is None:
                raise NoCapacity(
                    f"VM {vm.name} cannot grow by {growth.vcpus} vCPUs and "
                    f"{growth.memory_mib} MiB on its host {host.name}: {result.explanation}",
                    host=host.name,
                    rejections=[
                        {"filter": r.filter, "hosts": len(r.hosts), "reason": r.reason}
                        for r in result.rejections
                    ],
                )
        was = vm.vm_state
        vm.begin_resize(ctx.clock())
        during = plan.claim_during
        vm.vcpus, vm.memory_mib = during.vcpus, during.memory_mib  # the claim, from now on
        uow.events.record(actor, "vm.resize", f"vm/{vm_id}", project_id,
                          vcpus=f"{plan.before.vcpus}->{plan.after.vcpus}",
                          memory_mib=f"{plan.before.memory_mib}->{plan.after.memory_mib}",
                          live=was is VmState.RUNNING)  # fmt: skip
        vm_uuid, uri = vm.uuid, host.uri
        uow.commit()

    # 2. The host, outside any transaction.
    done = plan.before
    error: VmpoolError | None = None
    hv = ctx.hypervisors.connect(uri)
    try:
        if vcpus is not None:
            hv.set_vcpus(vm_uuid, plan.after.vcpus)
            done = Sizes(plan.after.vcpus, done.memory_mib)
        if memory_mib is not None:
            has = hv.set_memory(vm_uuid, plan.after.memory_mib, BALLOON_WAIT_S)
            if has <= plan.after.memory_mib:
                done = Sizes(done.vcpus, plan.after.memory_mib)
            else:
                # The target is set; the guest has not given the memory back (yet): the
                # larger claim stays until a later PATCH finds the balloon there.
                error = HypervisorOperationInvalid(
                    f"the guest of VM {found.name} still has {has} MiB, not "
                    f"{plan.after.memory_mib}, after {BALLOON_WAIT_S:.0f} s: its balloon's target "
                    f"is set, but {plan.before.memory_mib} MiB stay claimed until the guest gives "
                    "the memory back; PATCH again to confirm it",
                    memory_mib=has,
                )
    except VmpoolError as exc:
        error = exc
        live = exc.details.get("live_vcpus")
        if vcpus is not None and done.vcpus != plan.after.vcpus and isinstance(live, int):
            # Part-way: some vCPUs changed. The claim covers both what runs and the old size
            # (the definition keeps it), never more than claimed.
            done = Sizes(min(max(plan.before.vcpus, live), during.vcpus), done.memory_mib)
    try:
        observed = VmState(hv.domain(vm_uuid).state)
    except VmpoolError:
        observed = was  # not known now: the sync corrects it

    # 3. Outcome.
    with ctx.uow() as uow:
        row = uow.vms.same(vm_id, vm_uuid)
        if row is None:
            raise error or InvalidState(f"vm {vm_id} is gone")
        if (row.vcpus, row.memory_mib) == (during.vcpus, during.memory_mib):
            row.vcpus, row.memory_mib = done.vcpus, done.memory_mib  # a shrink frees it now
        message = None if error is None else f"resize failed: {error.message}"
        row.settle(VmState.RESIZING, observed, ctx.clock(), message)
        if error is None:
            uow.events.record(actor, "vm.resized", f"vm/{vm_id}", project_id,
                              vcpus=done.vcpus, memory_mib=done.memory_mib)  # fmt: skip
        else:
            uow.events.record(actor, "vm.resize_failed", f"vm/{vm_id}", project_id,
                              vcpus=done.vcpus, memory_mib=done.memory_mib,
                              error=error.message)  # fmt: skip
        view = vm_view(row)
        uow.commit()
    if error is not None:
        raise error
    return view
