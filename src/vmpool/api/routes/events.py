from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query

from vmpool.api.auth import Scoped, secured
from vmpool.api.errors import ERROR_RESPONSES
from vmpool.api.params import IdFilter
from vmpool.api.schemas import EventList, EventOut
from vmpool.services import audit
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(
    prefix="/v1/events", tags=["events"], responses=ERROR_RESPONSES, dependencies=secured
)


@router.get("", operation_id="list_events", response_model=EventList)
def list_events(
    kind: str | None = Query(default=None, max_length=63, description="e.g. api.call"),
    actor: str | None = Query(default=None, max_length=63, description="a token name"),
    subject: str | None = Query(default=None, max_length=255, description="e.g. vm/3, /v1/vms"),
    project_id: IdFilter = None,
    request: str | None = Query(
        default=None, max_length=64, description="a request id (the X-Request-ID header)"
    ),
    since: datetime | None = Query(default=None, description="at or after (ISO 8601)"),
    until: datetime | None = Query(default=None, description="before (ISO 8601)"),
    before: IdFilter = None,
    limit: int = Query(default=100, ge=1, le=1000),
    ctx: ServiceContext = Scoped,
) -> EventList:
    """The audit trail, newest first: who changed what (every mutating API call, with its
    outcome and request id) and what the sync found. The next page: `before` = the last id
    of this one. A project's token sees its project's events only."""
    query = audit.EventQuery(
        limit=limit, before_id=before, project_id=project_id, kind=kind, actor=actor,
        subject=subject, request_id=request, since=since, until=until,
    )  # fmt: skip
    items = [EventOut.model_validate(e) for e in audit.page(ctx, query)]
    return EventList(items=items, next_before=items[-1].id if len(items) == limit else None)
