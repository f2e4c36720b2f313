from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from vmpool.api.auth import read_access, service_context
from vmpool.api.errors import ERROR_RESPONSES
from vmpool.api.schemas import EventList, EventOut
from vmpool.services import audit
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(prefix="/v1/events", tags=["events"], responses=ERROR_RESPONSES)


@router.get("", operation_id="list_events", response_model=EventList, dependencies=[read_access])
def list_events(
    kind: str | None = Query(default=None, max_length=63, description="e.g. pool.updated"),
    limit: int = Query(default=100, ge=1, le=1000),
    ctx: ServiceContext = Depends(service_context),
) -> EventList:
    """The audit trail, newest first: who changed what, and what the sync found."""
    return EventList(items=[EventOut.model_validate(e) for e in audit.recent(ctx, kind, limit)])
