"""Domains found on a host that vmpool did not define: reported, never adopted or touched.

A new one is reported only once the host confirms it still has it and no VM record claims
it; one that is gone is forgotten.
"""

from __future__ import annotations

from datetime import datetime

from vmpool.domain.ports import DomainInfo, Hypervisor
from vmpool.errors import DomainMissing, VmpoolError
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork


def record(
    uow: UnitOfWork,
    host_id: int,
    domains: list[DomainInfo],
    known: set[str],
    now: datetime,
) -> list[DomainInfo]:
    """Update the foreign domains already recorded and forget the gone ones; the new ones
    are returned, to be confirmed with the host before they are reported."""
    existing = {f.uuid: f for f in uow.foreign_domains.on_host(host_id)}
    seen: set[str] = set()
    new: list[DomainInfo] = []
    for dom in domains:
        if dom.uuid in known:
            continue
        if dom.vmpool_vm_id is not None and uow.vms.find(dom.vmpool_vm_id) is not None:
            continue  # ours, recorded on another host (a migration in flight)
        seen.add(dom.uuid)
        row = existing.get(dom.uuid)
        if row is None:
            new.append(dom)
        else:
            uow.foreign_domains.seen(row, dom.state, now)
    for uuid, row in existing.items():
        if uuid not in seen:
            uow.foreign_domains.delete(row)
    return new


def confirm(
    ctx: ServiceContext,
    hv: Hypervisor,
    host_id: int,
    candidates: list[DomainInfo],
    actor: str,
) -> list[str]:
    """Report a new foreign domain only if the host still has it now and no VM record
    claims it: a VM deleted while the listing was read is not foreign, just gone. Answers
    the names of those reported now."""
    still_there: list[DomainInfo] = []
    for dom in candidates:
        try:
            still_there.append(hv.domain(dom.uuid))
        except DomainMissing:
            continue
        except VmpoolError:
            return []  # the host stopped answering: try again next round
    with ctx.uow() as uow:
        if uow.hosts.find(host_id) is None:
            return []
        found: list[str] = []
        recorded = {f.uuid for f in uow.foreign_domains.on_host(host_id)}
        now = ctx.clock()
        for dom in still_there:
            if dom.uuid in recorded or uow.vms.by_uuid(dom.uuid) is not None:
                continue
            if dom.vmpool_vm_id is not None and uow.vms.find(dom.vmpool_vm_id) is not None:
                continue
            uow.foreign_domains.found(host_id, dom.uuid, dom.name, dom.state, now)
            uow.events.record(
                actor, "host.foreign_domain", f"host/{host_id}", uuid=dom.uuid, name=dom.name
            )
            found.append(dom.name)
        uow.commit()
        return found
