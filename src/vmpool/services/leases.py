"""A VM's lease: the one a new VM gets, and its renewal (docs/lifecycle.md, "Leases and
reclaim"). The reclaim job that acts when a lease ends is `services/reclaim.py`."""

from __future__ import annotations

from datetime import datetime

from vmpool.adapters.db.tables import PoolRow, ProjectRow
from vmpool.domain import lease
from vmpool.domain.vm import VmState
from vmpool.errors import InvalidState
from vmpool.services.unit_of_work import ServiceContext
from vmpool.services.views import VmView, vm_view


def for_new_vm(
    now: datetime,
    pool: PoolRow,
    expires_at: datetime | None,
    lease_s: int | None,
    policy: str | None,
    has_disk: bool,
    project: ProjectRow | None = None,
) -> tuple[datetime | None, str]:
    """(lease_expires_at, reclaim_policy) of a VM being created in `pool` for `project`:
    what it asks, checked against the pool's maximum, else its project's defaults, else
    its pool's."""
    asked = lease.reclaim_policy(policy) if policy is not None else None
    default_policy = pool.default_reclaim_policy
    default_lease_s = pool.default_lease_s
    if project is not None:
        default_policy = project.default_reclaim_policy or default_policy
        if project.default_lease_s is not None:
            default_lease_s = project.default_lease_s
    chosen = lease.policy_for_new_vm(asked, default_policy, has_disk)
    if expires_at is None and lease_s is None:
        if default_lease_s is None:
            return None, chosen.value
        lease_s = default_lease_s
    end = lease.lease_end(
        now,
        expires_at=expires_at,
        lease_s=lease_s,
        max_lease_s=pool.max_lease_s,
        field="lease_s" if lease_s is not None else "lease_expires_at",
    )
    return end, chosen.value


def renew_lease(
    ctx: ServiceContext,
    vm_id: int,
    *,
    lease_s: int | None = None,
    until: datetime | None = None,
    actor: str = "api",
) -> VmView:
    """A new end for the VM's lease (`lease_s` from now, or `until`), within its pool's
    max_lease_s; the expiry warnings start afresh. A VM without a lease has none to renew
    (409); an expired one may be renewed (a VM the job stopped then stays as it is)."""
    now = ctx.clock()
    with ctx.uow() as uow:
        row = uow.vms.get(vm_id)
        lease.check_renewable(row.lease_expires_at is not None, row.name)
        if row.vm_state in (VmState.DELETING, VmState.CREATING):
            raise InvalidState(f"VM {row.name} is {row.state}", state=row.state)
        pool = uow.pools.get(row.pool_id)
        end = lease.lease_end(
            now,
            expires_at=until,
            lease_s=lease_s,
            max_lease_s=pool.max_lease_s,
            field="lease_s" if lease_s is not None else "until",
        )
        before = row.lease_expires_at
        row.lease_expires_at = end
        row.lease_warned_s = None
        uow.events.record(
            actor,
            "vm.lease_renewed",
            f"vm/{vm_id}",
            row.project_id,
            name=row.name,
            before=before.isoformat() if before is not None else None,
            after=end.isoformat(),
        )
        view = vm_view(row)
        uow.commit()
        return view
