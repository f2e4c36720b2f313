"""A VM's placement group as placement's rule: where the group's members run now."""

from __future__ import annotations

from vmpool.adapters.db.tables import VmRow
from vmpool.domain.model import GroupPolicy, GroupRule
from vmpool.errors import Conflict, NotFound
from vmpool.services.unit_of_work import UnitOfWork


def group_to_join(
    uow: UnitOfWork, name: str | None, pool_id: int, project_id: int | None = None
) -> tuple[GroupRule | None, int | None]:
    """The group a new VM of `project_id` asks to join (by name), as a rule, and its id.
    Another project's group is as if it did not exist."""
    if name is None:
        return None, None
    row = uow.groups.by_name(name)
    if row is None or (project_id is not None and row.project_id != project_id):
        raise NotFound(f"no placement group named {name!r}", field="placement_group")
    if row.pool_id != pool_id:
        raise Conflict(
            f"placement group {name} belongs to another pool than the VM's",
            field="placement_group",
            group_pool_id=row.pool_id,
        )
    rule = GroupRule(
        name=row.name,
        policy=GroupPolicy(row.policy),
        hard=row.hard,
        members_on=uow.groups.members_by_host(row.id),
    )
    return rule, row.id


def group_of_vm(uow: UnitOfWork, vm: VmRow) -> GroupRule | None:
    """The VM's own placement group, as a rule for moving it (itself not counted)."""
    if vm.placement_group_id is None:
        return None
    row = uow.groups.get(vm.placement_group_id)
    members = {
        host: tuple(n for n in names if n != vm.name)
        for host, names in uow.groups.members_by_host(row.id).items()
    }
    return GroupRule(
        name=row.name,
        policy=GroupPolicy(row.policy),
        hard=row.hard,
        members_on={h: names for h, names in members.items() if names},
    )
