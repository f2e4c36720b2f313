"""The power actions on a VM: start, shutdown (ACPI), stop (power off), reboot.

Intent (the action's transitional state, `Vm.begin`) in one transaction, the hypervisor
outside any, then the state the host reports (`Vm.observe`) in another.
"""

from __future__ import annotations

from collections.abc import Callable

from vmpool.domain.ports import Hypervisor
from vmpool.domain.vm import VmAction, VmState
from vmpool.errors import DomainMissing, InvalidInput, InvalidState, VmpoolError
from vmpool.services.hosts import require_reachable
from vmpool.services.unit_of_work import ServiceContext
from vmpool.services.views import VmView, vm_view
from vmpool.services.vms import same_vm

CALLS: dict[VmAction, Callable[[Hypervisor, str], None]] = {
    VmAction.START: lambda hv, u: hv.start(u),
    VmAction.SHUTDOWN: lambda hv, u: hv.shutdown(u),
    VmAction.STOP: lambda hv, u: hv.destroy(u),
    VmAction.REBOOT: lambda hv, u: hv.reboot(u),
}


def power_action(ctx: ServiceContext, vm_id: int, action: str, actor: str = "api") -> VmView:
    try:
        act = VmAction(action)
    except ValueError:
        raise InvalidInput(
            f"unknown action {action!r}", known=sorted(a.value for a in VmAction)
        ) from None
    with ctx.uow() as uow:
        row = uow.vms.get(vm_id)
        before = row.vm_state
        row.begin(act, ctx.clock())
        intent = row.vm_state
        host = uow.hosts.get(row.host_id) if row.host_id is not None else None
        if host is None:
            raise InvalidState(f"VM {row.name} has no host", state=before.value)
        require_reachable(host)
        uow.events.record(actor, f"vm.{act.value}", f"vm/{vm_id}", name=row.name)
        uow.commit()
        vm_uuid, host_uri = row.uuid, host.uri

    error: VmpoolError | None = None
    try:
        hv = ctx.hypervisors.connect(host_uri)
        CALLS[act](hv, vm_uuid)
        observed: VmState | None = VmState(hv.domain(vm_uuid).state)
    except DomainMissing as exc:
        observed, error = VmState.ERROR, exc
    except VmpoolError as exc:
        observed, error = _observe(ctx, host_uri, vm_uuid), exc

    with ctx.uow() as uow:
        row = same_vm(uow, vm_id, vm_uuid)
        if act is VmAction.SHUTDOWN and error is None and observed is VmState.RUNNING:
            # The guest got the ACPI request and decides when to power off;
            # the sync sees the outcome (or gives up on it once stale).
            observed = VmState.SHUTTING_DOWN
        failure = f"{act.value} failed: {error.message}" if error is not None else None
        row.settle(intent, observed or before, ctx.clock(), failure)
        view = vm_view(row)
        uow.commit()
    if error is not None:
        raise error
    return view


def _observe(ctx: ServiceContext, host_uri: str, vm_uuid: str) -> VmState | None:
    """The domain's state now, or None when the host cannot tell."""
    try:
        return VmState(ctx.hypervisors.connect(host_uri).domain(vm_uuid).state)
    except DomainMissing:
        return VmState.ERROR
    except VmpoolError:
        return None
