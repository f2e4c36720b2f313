"""The audit trail: reading what was recorded, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vmpool.adapters.db.repositories import EventQuery, current_request_id
from vmpool.services.unit_of_work import ServiceContext

__all__ = ["EventQuery", "EventView", "current_request_id", "page", "recent", "record_call"]


@dataclass(frozen=True)
class EventView:
    id: int
    at: datetime
    actor: str
    kind: str
    subject: str
    project_id: int | None
    request_id: str | None
    details: dict[str, Any]


def page(ctx: ServiceContext, query: EventQuery) -> list[EventView]:
    """Events matching `query`, newest first; the next page is `before_id` = the last id.
    A project's caller sees its project's events only."""
    with ctx.uow() as uow:
        return [
            EventView(
                e.id,
                e.at,
                e.actor,
                e.kind,
                e.subject,
                e.project_id,
                e.request_id,
                dict(e.details),
            )
            for e in uow.events.page(query)
        ]


def recent(ctx: ServiceContext, kind: str | None = None, limit: int = 100) -> list[EventView]:
    return page(ctx, EventQuery(limit=limit, kind=kind))


def record_call(
    ctx: ServiceContext, *, actor: str, project_id: int | None, action: str, target: str,
    outcome: int,
) -> None:  # fmt: skip
    """One API call that changes (or tried to change) something: who, in which project,
    which route, on what, with which answer (the request id is the current request's)."""
    with ctx.uow() as uow:
        uow.events.record(
            actor[:63], "api.call", target, project_id, action=action, outcome=outcome
        )
        uow.commit()
