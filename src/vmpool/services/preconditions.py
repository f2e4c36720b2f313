"""Optimistic concurrency for PATCH: ETag and If-Match (RFC 9110 section 13.1.1).

A host, pool, project or disk has a `revision` that goes up by one each time a field a
client sets changes (`adapters/db/tables.py`, `_bump_revision`), and only then: the sync's
writes (state, last_seen_at, measured load) leave it alone. Its ETag is a strong tag made of
the kind, the id and the revision, `"host.7.3"`, so a tag taken from one resource never
matches another. A PATCH given `If-Match` compares it in its own transaction with the row
locked, before it changes anything: of two PATCHes sent with the same tag, one applies and
the other gets 412.
"""

from __future__ import annotations

from dataclasses import dataclass

from vmpool.adapters.db.tables import DiskRow, HostRow, PoolRow, ProjectRow
from vmpool.errors import PreconditionFailed

Revised = HostRow | PoolRow | ProjectRow | DiskRow

_KINDS: dict[type[Revised], str] = {
    HostRow: "host",
    PoolRow: "pool",
    ProjectRow: "project",
    DiskRow: "disk",
}


def etag(row: Revised) -> str:
    """The row's strong entity tag, quoted, as the ETag header carries it."""
    return f'"{_KINDS[type(row)]}.{row.id}.{row.revision}"'


@dataclass(frozen=True)
class IfMatch:
    """A parsed If-Match header: `*` (any current representation) or a list of entity tags
    (quoted, as sent). Weak tags (W/"...") are kept apart: If-Match compares strongly, so
    they never match."""

    any: bool = False
    tags: frozenset[str] = frozenset()

    def matches(self, current: str) -> bool:
        return self.any or current in self.tags


def check_if_match(if_match: IfMatch | None, row: Revised) -> None:
    """Raise PreconditionFailed unless the row's current tag satisfies `if_match` (no
    If-Match: always satisfied). Call it with the row locked, in the updating transaction,
    before changing anything."""
    if if_match is None:
        return
    current = etag(row)
    if not if_match.matches(current):
        raise PreconditionFailed(
            f"{_KINDS[type(row)]} {row.id} changed since it was read (If-Match does not "
            f"match its ETag {current}): read it again and reapply the change",
            etag=current,
        )
