"""Disk changes left mid-way (vmpool stopped between a disk's intent and its outcome):
settled once the intent is older than `stale_intent_s`, so no disk stays `attaching`,
`resizing` or `detaching`, and no volume or claim is left behind.

- `attaching`: the attach is undone (detached if it got that far, its volume deleted, the
  record and its claim dropped): the client was never told it worked.
- `detaching`: finished (detached, volume deleted, record dropped): the client asked for it.
- `resizing`: back to `attached`, keeping the larger size claimed; whether the volume grew
  is not known, so the disk says so (growing it again to the same size is harmless).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from vmpool.domain.disk import DiskState
from vmpool.errors import VmpoolError
from vmpool.services.unit_of_work import ServiceContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Stale:
    disk_id: int
    state: DiskState
    vm_uuid: str
    uri: str
    path: str
    target: str


def settle_stale(ctx: ServiceContext) -> list[int]:
    """Answers the ids of the disks it settled."""
    before = ctx.clock() - timedelta(seconds=ctx.stale_intent_s)
    with ctx.uow() as uow:
        stale: list[_Stale] = []
        for d in uow.disks.changing_since_before(before):
            vm = uow.vms.get(d.vm_id)
            host = uow.hosts.find(vm.host_id) if vm.host_id is not None else None
            if host is None:
                continue
            stale.append(_Stale(d.id, d.disk_state, vm.uuid, host.uri, d.path, d.target))
    settled: list[int] = []
    for s in stale:
        try:
            if s.state is not DiskState.RESIZING:
                hv = ctx.hypervisors.connect(s.uri)
                hv.detach_disk(s.vm_uuid, s.path, s.target)
                hv.delete_volume(s.path)
        except VmpoolError as exc:
            log.warning("disk %s of VM %s not settled yet: %s", s.target, s.vm_uuid, exc.message)
            continue
        with ctx.uow() as uow:
            row = uow.disks.find(s.disk_id)
            if row is None or row.state_changed_at >= before:
                continue  # gone, or taken up again meanwhile
            if s.state is DiskState.RESIZING:
                row.resize_ended(ctx.clock(), error="vmpool stopped during the resize: grow again")
            else:
                uow.disks.delete(row)
            uow.events.record("sync", "disk.settled", f"disk/{s.disk_id}", was=s.state.value)
            uow.commit()
        settled.append(s.disk_id)
    return settled
