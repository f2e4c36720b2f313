"""Projects (tenants) and their quotas.

A project owns VMs (and through them their disks and NICs), placement groups, and images and
networks an admin gave it (the others are shared). A quota is checked in the transaction
that claims the resources, under the project's row lock, so that concurrent creates never
exceed it together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vmpool.adapters.db.repositories import ProjectUsage
from vmpool.adapters.db.tables import DEFAULT_PROJECT_ID, ProjectRow
from vmpool.domain import lease, limits
from vmpool.domain.names import validate_name
from vmpool.errors import InvalidInput, InvalidState, NotFound, QuotaExceeded
from vmpool.services.preconditions import IfMatch, check_if_match, etag
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork

QUOTAS = ("quota_vcpus", "quota_memory_mib", "quota_disk_gib", "quota_vms", "quota_snapshots")
# Its VMs' lease defaults (before their pool's; services/leases.py).
LEASE_DEFAULTS = ("default_lease_s", "default_reclaim_policy")


@dataclass(frozen=True)
class ProjectView:
    id: int
    name: str
    description: str
    quota_vcpus: int | None
    quota_memory_mib: int | None
    quota_disk_gib: int | None
    quota_vms: int | None
    quota_snapshots: int | None  # snapshots of its VMs (services/snapshots.py)
    default_lease_s: int | None
    default_reclaim_policy: str | None
    created_at: datetime
    etag: str  # of its quotas and description (services/preconditions.py)


@dataclass(frozen=True)
class UsageView:
    project_id: int
    vms: int
    vcpus: int
    memory_mib: int
    disk_gib: int
    quota_vms: int | None
    quota_vcpus: int | None
    quota_memory_mib: int | None
    quota_disk_gib: int | None
    snapshots: int
    quota_snapshots: int | None


def project_view(row: ProjectRow) -> ProjectView:
    return ProjectView(
        id=row.id,
        name=row.name,
        description=row.description,
        quota_vcpus=row.quota_vcpus,
        quota_memory_mib=row.quota_memory_mib,
        quota_disk_gib=row.quota_disk_gib,
        quota_vms=row.quota_vms,
        quota_snapshots=row.quota_snapshots,
        default_lease_s=row.default_lease_s,
        default_reclaim_policy=row.default_reclaim_policy,
        created_at=row.created_at,
        etag=etag(row),
    )


def _check_lease_defaults(values: dict[str, object]) -> None:
    lease_s = values.get("default_lease_s")
    if lease_s is not None and (not isinstance(lease_s, int) or lease_s < 60):
        raise InvalidInput("default_lease_s: at least 60 seconds", field="default_lease_s")
    policy = values.get("default_reclaim_policy")
    if policy is not None:
        lease.reclaim_policy(str(policy), field="default_reclaim_policy")


def _check_quotas(values: dict[str, object]) -> None:
    _check_lease_defaults(values)
    for key in QUOTAS:
        value = values.get(key)
        if value is not None:
            if not isinstance(value, int):
                raise InvalidInput(f"{key} must be a whole number", field=key)
            limits.QUOTA.check(value, key)


def create_project(
    ctx: ServiceContext,
    name: str,
    description: str = "",
    actor: str = "api",
    **quotas: int | str | None,
) -> ProjectView:
    validate_name(name, "project name")
    if len(description) > 255:
        raise InvalidInput("description: at most 255 characters", field="description")
    unknown = set(quotas) - set(QUOTAS) - set(LEASE_DEFAULTS)
    if unknown:
        raise InvalidInput(f"unknown quota {', '.join(sorted(unknown))}")
    _check_quotas(dict(quotas))
    with ctx.uow() as uow:
        row = uow.projects.add(
            ProjectRow(name=name, description=description, created_at=ctx.clock(), **quotas)
        )
        uow.events.record(actor, "project.create", f"project/{row.id}", project_id=row.id,
                          name=name)  # fmt: skip
        view = project_view(row)
        uow.commit()
        return view


def update_project(
    ctx: ServiceContext,
    project_id: int,
    changes: dict[str, object],
    actor: str = "api",
    if_match: IfMatch | None = None,
) -> ProjectView:
    """Quotas (None: no limit) and the description. A quota below the current use is taken:
    it refuses growth from then on, and takes nothing away. With `if_match`, only if the
    project's ETag still matches (checked under the row lock)."""
    allowed = {"description", *QUOTAS, *LEASE_DEFAULTS}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
    _check_quotas(changes)
    with ctx.uow() as uow:
        row = uow.projects.get_for_update(project_id)
        check_if_match(if_match, row)
        for key, value in changes.items():
            setattr(row, key, value)
        uow.events.record(actor, "project.update", f"project/{project_id}",
                          project_id=project_id, changes=changes)  # fmt: skip
        uow.flush()  # the revision is raised in the flush
        view = project_view(row)
        uow.commit()
        return view


def delete_project(ctx: ServiceContext, project_id: int, actor: str = "api") -> None:
    with ctx.uow() as uow:
        row = uow.projects.get_for_update(project_id)
        owned = uow.projects.owned(project_id)
        if owned:
            listed = ", ".join(f"{n} {kind}" for kind, n in owned.items())
            raise InvalidState(
                f"project {row.name} still owns {listed}: delete, move or revoke them first",
                owned=owned,
            )
        uow.projects.delete(row)
        uow.events.record(actor, "project.delete", f"project/{project_id}", name=row.name)
        uow.commit()


def get_project(ctx: ServiceContext, project_id: int) -> ProjectView:
    with ctx.uow() as uow:
        return project_view(uow.projects.get(project_id))


def list_projects(ctx: ServiceContext, after_id: int = 0, limit: int = 100) -> list[ProjectView]:
    with ctx.uow() as uow:
        return [project_view(p) for p in uow.projects.page(after_id, limit)]


def usage(ctx: ServiceContext, project_id: int) -> UsageView:
    with ctx.uow() as uow:
        row = uow.projects.get(project_id)
        used = uow.projects.usage(project_id)
        return UsageView(
            project_id=project_id, vms=used.vms, vcpus=used.vcpus, memory_mib=used.memory_mib,
            disk_gib=used.disk_gib, quota_vms=row.quota_vms, quota_vcpus=row.quota_vcpus,
            quota_memory_mib=row.quota_memory_mib, quota_disk_gib=row.quota_disk_gib,
            snapshots=uow.snapshots.count_of_project(project_id),
            quota_snapshots=row.quota_snapshots,
        )  # fmt: skip


def acting_project(ctx: ServiceContext, asked: int | None) -> int:
    """The project a new resource goes to: the caller's own (a member's; asking for another
    is as if it did not exist), else the one an admin names, else the default project."""
    if ctx.project_id is not None:
        if asked is not None and asked != ctx.project_id:
            raise NotFound(f"project {asked} does not exist", field="project_id")
        return ctx.project_id
    return asked if asked is not None else DEFAULT_PROJECT_ID


def claim_quota(
    uow: UnitOfWork, project_id: int, *, vms: int = 0, vcpus: int = 0, memory_mib: int = 0,
    disk_gib: int = 0,
) -> None:  # fmt: skip
    """In the caller's transaction, under the project's lock: refuse (409 quota_exceeded,
    naming the quota, its limit and the use) what would take the project past a quota. The
    claim itself is the caller's record (a VM row, a disk row), written in the same
    transaction."""
    row = uow.projects.get_for_update(project_id)
    if all(getattr(row, q) is None for q in QUOTAS):
        return  # no limit to check: no sums to read (the common, unlimited project)
    used = uow.projects.usage(project_id)
    asked = ProjectUsage(vms=vms, vcpus=vcpus, memory_mib=memory_mib, disk_gib=disk_gib)
    for what in ("vms", "vcpus", "memory_mib", "disk_gib"):
        limit = getattr(row, f"quota_{what}")
        want = getattr(asked, what)
        have = getattr(used, what)
        if limit is not None and want > 0 and have + want > limit:
            raise QuotaExceeded(
                f"project {row.name} would exceed its {what} quota: {have} used + {want} asked "
                f"> {limit}",
                quota=what,
                limit=limit,
                used=have,
                asked=want,
            )
