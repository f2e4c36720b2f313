"""The audit trail: reading what was recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vmpool.services.unit_of_work import ServiceContext


@dataclass(frozen=True)
class EventView:
    id: int
    at: datetime
    actor: str
    kind: str
    subject: str
    details: dict[str, Any]


def recent(ctx: ServiceContext, kind: str | None = None, limit: int = 100) -> list[EventView]:
    with ctx.uow() as uow:
        return [
            EventView(e.id, e.at, e.actor, e.kind, e.subject, dict(e.details))
            for e in uow.events.recent(limit=limit, kind=kind)
        ]
