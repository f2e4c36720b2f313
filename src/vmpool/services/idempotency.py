"""Idempotency keys (as Stripe's and the IETF draft's `Idempotency-Key`): a POST that
creates something, sent again with the same key by the same caller, gets the first answer
again instead of creating a second thing.

The key is recorded (in progress) before the request runs, so a repeat that comes while
the first is still running is refused (409) rather than run twice; the answer is stored
when it comes (a 5xx is not: the request may be tried again). A key kept for a request of
another route or body is refused (422). Keys are kept 24 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from vmpool.adapters.db.tables import IdempotencyKeyRow
from vmpool.errors import Conflict, InvalidInput
from vmpool.services.unit_of_work import ServiceContext

KEPT = timedelta(hours=24)


@dataclass(frozen=True)
class Stored:
    status: int
    content_type: str | None
    body: bytes


def begin(
    ctx: ServiceContext, scope: str, key: str, method: str, path: str, body_sha256: str
) -> Stored | None:
    """The stored answer of an earlier request with this key, or None once this request is
    recorded as the key's (it runs now)."""
    now = ctx.clock()
    with ctx.uow() as uow:
        uow.idempotency.purge_before(now - KEPT)
        row = uow.idempotency.find(scope, key)
        if row is not None:
            if (row.method, row.path, row.body_sha256) != (method, path, body_sha256):
                raise InvalidInput(
                    "this Idempotency-Key was used for another request (route or body)",
                    field="Idempotency-Key",
                )
            if row.status is None:
                raise Conflict("a request with this Idempotency-Key is still in progress")
            uow.commit()
            return Stored(row.status, row.content_type, row.response or b"")
        row = IdempotencyKeyRow(
            scope=scope, key=key, method=method, path=path, body_sha256=body_sha256,
            created_at=now,
        )  # fmt: skip
        uow.idempotency.add(row)
        uow.commit()
    return None


def finish(
    ctx: ServiceContext, scope: str, key: str, status: int, content_type: str | None, body: bytes
) -> None:
    """Keep the answer (or forget the key after a server error, so it may be tried again)."""
    with ctx.uow() as uow:
        row = uow.idempotency.find(scope, key)
        if row is None:
            return
        if status >= 500:
            uow.idempotency.delete(row)
        else:
            row.status, row.content_type, row.response = status, content_type, body
        uow.commit()
