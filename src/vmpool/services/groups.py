"""Placement groups: affinity and anti-affinity, hard (must) or soft (prefer)."""

from __future__ import annotations

from dataclasses import dataclass

from vmpool.adapters.db.tables import PlacementGroupRow
from vmpool.domain.model import GroupPolicy
from vmpool.domain.names import validate_name
from vmpool.errors import AlreadyExists, InvalidState
from vmpool.services.pools import default_pool
from vmpool.services.projects import acting_project
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork


@dataclass(frozen=True)
class GroupView:
    id: int
    project_id: int
    pool_id: int
    name: str
    policy: str
    hard: bool
    members: dict[str, list[str]]  # host name -> VM names


def _view(uow: UnitOfWork, row: PlacementGroupRow) -> GroupView:
    members = uow.groups.members_by_host(row.id)
    return GroupView(
        id=row.id,
        project_id=row.project_id,
        pool_id=row.pool_id,
        name=row.name,
        policy=row.policy,
        hard=row.hard,
        members={h: list(v) for h, v in members.items()},
    )


def create_group(
    ctx: ServiceContext,
    name: str,
    policy: GroupPolicy,
    hard: bool,
    pool_id: int | None,
    actor: str,
    project_id: int | None = None,
) -> GroupView:
    validate_name(name, "placement group name")
    owner = acting_project(ctx, project_id)
    with ctx.uow() as uow:
        uow.projects.get(owner)
        pool = uow.pools.get(pool_id) if pool_id is not None else default_pool(uow)
        if uow.groups.by_name(name) is not None:
            raise AlreadyExists(f"a placement group named {name} already exists", name=name)
        row = PlacementGroupRow(
            project_id=owner, pool_id=pool.id, name=name, policy=policy.value, hard=hard
        )
        uow.groups.add(row)
        uow.events.record(
            actor, "group.created", f"group/{row.id}", owner, name=name, policy=policy.value,
            hard=hard,
        )  # fmt: skip
        view = _view(uow, row)
        uow.commit()
        return view


def list_groups(ctx: ServiceContext, after_id: int = 0, limit: int = 100) -> list[GroupView]:
    with ctx.uow() as uow:
        return [_view(uow, g) for g in uow.groups.list(None, after_id, limit)]


def get_group(ctx: ServiceContext, group_id: int) -> GroupView:
    with ctx.uow() as uow:
        return _view(uow, uow.groups.get(group_id))


def delete_group(ctx: ServiceContext, group_id: int, actor: str) -> None:
    with ctx.uow() as uow:
        row = uow.groups.get(group_id)
        count = uow.groups.member_count(group_id)
        if count:
            raise InvalidState(
                f"placement group {row.name} still has {count} VM(s)", vm_count=count
            )
        uow.groups.delete(row)
        uow.events.record(actor, "group.deleted", f"group/{group_id}", name=row.name)
        uow.commit()
