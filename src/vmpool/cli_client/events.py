"""`vmpool events`: the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from vmpool.cli_client.common import JsonOpt, ProfileOpt, connect, out, out_json


def events(
    kind: Annotated[str | None, typer.Option("--kind", help="e.g. vm.create, api.call")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="a token's name")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="e.g. vm/3")] = None,
    request: Annotated[str | None, typer.Option("--request", help="a request id")] = None,
    since: Annotated[
        datetime | None, typer.Option("--since", help="at or after (ISO 8601, UTC)")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The audit trail, newest first: who did what, with the request id."""
    from vmpool_client.api.events import list_events

    from vmpool.cli_client import render

    filters: dict[str, Any] = {"kind": kind, "actor": actor, "subject": subject,
                               "request": request, "since": since}  # fmt: skip
    with connect(profile) as s:
        page = s.call(
            list_events.sync_detailed, limit=limit,
            **{k: v for k, v in filters.items() if v is not None},
        )  # fmt: skip
    if as_json:
        out_json(s.json_of(page)["items"])
    else:
        out(render.events_table(page.items) if page.items else "no events")
