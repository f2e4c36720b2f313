"""Projects (tenants), their quotas and usage, and API tokens (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from vmpool.api.auth import Caller, Scoped, secured
from vmpool.api.errors import ERROR_RESPONSES, responses
from vmpool.api.params import AfterCursor, PathId, next_after
from vmpool.api.preconditions import ETAG_OK, Conditional, with_etag
from vmpool.api.schemas import (
    ProjectCreate,
    ProjectList,
    ProjectOut,
    ProjectTokenCreate,
    ProjectUpdate,
    TokenCreate,
    TokenCreated,
    TokenList,
    TokenOut,
    UsageOut,
)
from vmpool.services import projects, tokens
from vmpool.services.preconditions import IfMatch
from vmpool.services.tokens import Principal, Role
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(tags=["projects"], responses=ERROR_RESPONSES, dependencies=secured)


@router.post(
    "/v1/projects",
    operation_id="create_project",
    status_code=201,
    response_model=ProjectOut,
    responses=responses(409),
)
def create_project(
    body: ProjectCreate, ctx: ServiceContext = Scoped, principal: Principal = Caller
) -> ProjectOut:
    """A project with its quotas (null: no limit)."""
    quotas = body.model_dump(exclude={"name", "description"})
    view = projects.create_project(ctx, body.name, body.description, principal.name, **quotas)
    return ProjectOut.model_validate(view)


@router.get("/v1/projects", operation_id="list_projects", response_model=ProjectList)
def list_projects(
    after: AfterCursor = 0,
    limit: int = Query(default=100, ge=1, le=1000),
    ctx: ServiceContext = Scoped,
) -> ProjectList:
    items = projects.list_projects(ctx, after, limit)
    return ProjectList(
        items=[ProjectOut.model_validate(p) for p in items],
        next_after=next_after([p.id for p in items], limit),
    )


@router.get(
    "/v1/projects/{project_id}",
    operation_id="get_project",
    response_model=ProjectOut,
    responses=responses(404) | ETAG_OK,
)
def get_project(project_id: PathId, response: Response, ctx: ServiceContext = Scoped) -> ProjectOut:
    """A member or reader sees its own project only."""
    view = projects.get_project(ctx, project_id)
    with_etag(response, view)
    return ProjectOut.model_validate(view)


@router.patch(
    "/v1/projects/{project_id}",
    operation_id="update_project",
    response_model=ProjectOut,
    responses=responses(404, 412) | ETAG_OK,
)
def update_project(
    project_id: PathId, body: ProjectUpdate, response: Response, ctx: ServiceContext = Scoped,
    principal: Principal = Caller, if_match: IfMatch | None = Conditional,
) -> ProjectOut:  # fmt: skip
    """Quotas (null: no limit) and the description; fields not given stay. With If-Match,
    only if the project's ETag still matches (else 412)."""
    changes = body.model_dump(exclude_unset=True)
    if changes.get("description") is None:
        changes.pop("description", None)
    view = projects.update_project(ctx, project_id, changes, principal.name, if_match)
    with_etag(response, view)
    return ProjectOut.model_validate(view)


@router.delete(
    "/v1/projects/{project_id}",
    operation_id="delete_project",
    status_code=204,
    response_class=Response,
    responses=responses(404, 409),
)
def delete_project(
    project_id: PathId, ctx: ServiceContext = Scoped, principal: Principal = Caller
) -> Response:
    """Refused (409) while it owns anything: VMs, groups, images, networks, live tokens."""
    projects.delete_project(ctx, project_id, principal.name)
    return Response(status_code=204)


@router.get(
    "/v1/projects/{project_id}/usage",
    operation_id="get_project_usage",
    response_model=UsageOut,
    responses=responses(404),
)
def get_project_usage(project_id: PathId, ctx: ServiceContext = Scoped) -> UsageOut:
    """What the project's VMs take, beside its quotas."""
    return UsageOut.model_validate(projects.usage(ctx, project_id))


@router.post(
    "/v1/tokens",
    operation_id="create_token",
    status_code=201,
    response_model=TokenCreated,
    responses=responses(404),
)
def create_token(
    body: TokenCreate, ctx: ServiceContext = Scoped, principal: Principal = Caller
) -> TokenCreated:
    """A token for a role (member and reader: in a project). The secret is in this answer
    only."""
    project_id = body.project_id if isinstance(body, ProjectTokenCreate) else None
    secret, view = tokens.issue_token(
        ctx, Role(body.role), body.name, project_id, body.ttl_s, principal.name
    )
    return TokenCreated(token=secret, **TokenOut.model_validate(view).model_dump())


@router.get("/v1/tokens", operation_id="list_tokens", response_model=TokenList)
def list_tokens(
    after: AfterCursor = 0,
    limit: int = Query(default=100, ge=1, le=1000),
    ctx: ServiceContext = Scoped,
) -> TokenList:
    items = tokens.list_tokens(ctx, after, limit)
    return TokenList(
        items=[TokenOut.model_validate(t) for t in items],
        next_after=next_after([t.id for t in items], limit),
    )


@router.delete(
    "/v1/tokens/{token_id}",
    operation_id="revoke_token",
    status_code=204,
    response_class=Response,
    responses=responses(404),
)
def revoke_token(
    token_id: PathId, ctx: ServiceContext = Scoped, principal: Principal = Caller
) -> Response:
    """Revoked at once: its next call answers 401. The record stays (revoked_at)."""
    tokens.revoke_token(ctx, token_id, principal.name)
    return Response(status_code=204)
