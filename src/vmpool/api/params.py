"""Path and query parameters shared by the routes: ids and cursors with their declared range.

Ids are INTEGER columns (32-bit on PostgreSQL), so an id beyond MAX_ID can name nothing: the
schema says so, a path id out of range answers 404 and a query parameter out of range 422.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from vmpool.domain.limits import MAX_ID

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many items")]
# A name filter: the one item with this name, if any (names are unique), so that a client can
# look an item up by the name an operator types.
NameFilter = Annotated[
    str | None, Query(min_length=1, max_length=63, description="only the item with this name")
]


def next_after(ids: list[int], limit: int) -> int | None:
    """The cursor of the next page: the last id of a full page."""
    return ids[-1] if len(ids) == limit else None


AfterCursor = Annotated[int, Query(ge=0, le=MAX_ID, description="the last id of the previous page")]
BeforeCursor = Annotated[int | None, Query(ge=1, le=MAX_ID, description="items older than this id")]
