"""ETag on the answer, If-Match on PATCH (the rule itself: services/preconditions.py).

`If-Match: *` or a comma-separated list of quoted entity tags (RFC 9110 section 13.1.1); one
that does not parse is answered 400 `invalid_header`, before anything else is looked at. A
weak tag (W/"...") parses but never matches: If-Match compares strongly.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Protocol

from fastapi import Depends, Header, Request, Response

from vmpool.errors import InvalidHeader
from vmpool.services.preconditions import IfMatch

_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
_LIST = re.compile(rf"^\s*{_TAG}\s*(?:,\s*{_TAG}\s*)*$")
_TAGS = re.compile(r"(W/)?(\"[\x21\x23-\x7e\x80-\xff]*\")")

_DESCRIBED = (
    'Apply the change only if the resource\'s current ETag is one of these (`"..."`, '
    "comma-separated) or, with `*`, if it exists; otherwise 412 and nothing is changed. "
    "Malformed: 400."
)


def parse_if_match(values: list[str]) -> IfMatch | None:
    """The If-Match header (its lines joined, as RFC 9110 section 5.3 allows); None: none sent."""
    if not values:
        return None
    value = ", ".join(values).strip()
    if value == "*":
        return IfMatch(any=True)
    if not _LIST.fullmatch(value):
        raise InvalidHeader(
            'If-Match must be * or a comma-separated list of quoted entity tags ("...")',
            header="If-Match",
        )
    return IfMatch(tags=frozenset(tag for weak, tag in _TAGS.findall(value) if not weak))


def _if_match(
    request: Request,
    _documented: Annotated[str | None, Header(alias="If-Match", description=_DESCRIBED)] = None,
) -> IfMatch | None:
    return parse_if_match(request.headers.getlist("if-match"))


Conditional = Depends(_if_match)


class Tagged(Protocol):
    @property
    def etag(self) -> str: ...


def with_etag(response: Response, view: Tagged) -> None:
    """Put the view's ETag on the answer."""
    response.headers["ETag"] = view.etag


# The 200 answer of a route that sets ETag, for the OpenAPI document.
ETAG_OK: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the resource; ETag: its version, for If-Match on PATCH",
        "headers": {
            "ETag": {
                "description": "strong entity tag of the fields a client sets",
                "schema": {"type": "string"},
            }
        },
    }
}
