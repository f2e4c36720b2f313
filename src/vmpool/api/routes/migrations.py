from __future__ import annotations

from fastapi import APIRouter, Query

from vmpool.api.auth import Caller, Scoped, secured
from vmpool.api.errors import ERROR_RESPONSES, responses
from vmpool.api.params import AfterCursor, IdFilter, PathId
from vmpool.api.redact import for_caller
from vmpool.api.schemas import MigrationOut, MigrationPage
from vmpool.domain.migration import MigrationState
from vmpool.errors import Forbidden
from vmpool.services import migrations
from vmpool.services.tokens import Principal
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(
    prefix="/v1/migrations", tags=["migrations"], responses=ERROR_RESPONSES, dependencies=secured
)

MigrationStateFilter = MigrationState  # every state, from the one list in the domain


@router.get("", operation_id="list_migrations", response_model=MigrationPage)
def list_migrations(
    vm_id: IdFilter = None,
    host_id: IdFilter = None,
    state: MigrationStateFilter | None = None,
    after: AfterCursor = 0,
    limit: int = Query(default=100, ge=1, le=1000),
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> MigrationPage:
    """Migrations, oldest first; `host_id` (admins) matches the source or the target. A
    project's token sees its VMs' migrations, without their hosts."""
    if host_id is not None and not principal.is_admin:
        raise Forbidden("filtering by host needs the admin role")
    items = migrations.list_migrations(
        ctx,
        vm_id=vm_id,
        host_id=host_id,
        state=state.value if state is not None else None,
        after_id=after,
        limit=limit,
    )
    next_after = items[-1].id if len(items) == limit else None
    return MigrationPage(
        items=[for_caller(MigrationOut.model_validate(m), principal) for m in items],
        next_after=next_after,
    )


@router.get(
    "/{migration_id}",
    operation_id="get_migration",
    response_model=MigrationOut,
    responses=responses(404),
)
def get_migration(
    migration_id: PathId, ctx: ServiceContext = Scoped, principal: Principal = Caller
) -> MigrationOut:
    """State, source and target (admins), live progress while running, downtime and total
    time at the end."""
    view = migrations.get_migration(ctx, migration_id)
    return for_caller(MigrationOut.model_validate(view), principal)


@router.post(
    "/{migration_id}/cancel",
    operation_id="cancel_migration",
    status_code=202,
    response_model=MigrationOut,
    responses=responses(404, 409),
)
def cancel_migration(
    migration_id: PathId,
    ctx: ServiceContext = Scoped,
    principal: Principal = Caller,
) -> MigrationOut:
    """Abort the job; the VM keeps running on its source."""
    return MigrationOut.model_validate(
        migrations.cancel_migration(ctx, migration_id, principal.name)
    )
