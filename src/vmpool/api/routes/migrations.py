from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from vmpool.api.auth import admin_principal, read_access, service_context
from vmpool.api.errors import ERROR_RESPONSES, responses
from vmpool.api.params import AfterCursor, IdFilter, PathId
from vmpool.api.schemas import MigrationOut, MigrationPage
from vmpool.domain.migration import MigrationState
from vmpool.services import migrations
from vmpool.services.tokens import Principal
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(prefix="/v1/migrations", tags=["migrations"], responses=ERROR_RESPONSES)

MigrationStateFilter = MigrationState  # every state, from the one list in the domain


@router.get(
    "", operation_id="list_migrations", response_model=MigrationPage, dependencies=[read_access]
)
def list_migrations(
    vm_id: IdFilter = None,
    host_id: IdFilter = None,
    state: MigrationStateFilter | None = None,
    after: AfterCursor = 0,
    limit: int = Query(default=100, ge=1, le=1000),
    ctx: ServiceContext = Depends(service_context),
) -> MigrationPage:
    """Migrations, oldest first; `host_id` matches the source or the target."""
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
        items=[MigrationOut.model_validate(m) for m in items], next_after=next_after
    )


@router.get(
    "/{migration_id}",
    operation_id="get_migration",
    response_model=MigrationOut,
    dependencies=[read_access],
    responses=responses(404),
)
def get_migration(
    migration_id: PathId, ctx: ServiceContext = Depends(service_context)
) -> MigrationOut:
    """State, source and target, live progress while running, downtime and total time at the end."""
    return MigrationOut.model_validate(migrations.get_migration(ctx, migration_id))


@router.post(
    "/{migration_id}/cancel",
    operation_id="cancel_migration",
    status_code=202,
    response_model=MigrationOut,
    responses=responses(404, 409),
)
def cancel_migration(
    migration_id: PathId,
    ctx: ServiceContext = Depends(service_context),
    principal: Principal = admin_principal,
) -> MigrationOut:
    """Abort the job; the VM keeps running on its source."""
    return MigrationOut.model_validate(
        migrations.cancel_migration(ctx, migration_id, principal.name)
    )
