"""`vmpool api METHOD PATH [BODY]`: any route, with the CLI's URL, token and error lines (as
`gh api` does), for what has no command of its own (images, disks, networks, projects...)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from vmpool.cli_client.common import ProfileOpt, connect
from vmpool.cli_client.session import CliError, error_line

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def api(
    method: Annotated[str, typer.Argument(help="GET, POST, PATCH, PUT or DELETE")],
    path: Annotated[str, typer.Argument(help="e.g. /v1/networks or /v1/events?limit=5")],
    body: Annotated[
        str | None,
        typer.Argument(help="a JSON body; @FILE reads it from a file, @- from stdin"),
    ] = None,
    profile: ProfileOpt = None,
) -> None:
    """Call any route of the API and print its JSON answer."""
    verb = method.upper()
    if verb not in METHODS:
        raise typer.BadParameter(", ".join(METHODS), param_hint="METHOD")
    if not path.startswith("/"):
        raise typer.BadParameter("a path such as /v1/vms", param_hint="PATH")
    content = _body(body) if body is not None else None
    with connect(profile) as s:
        response = s.request(verb, path, content)
        if response.status_code >= 400:
            raise CliError(error_line(response.status_code, response.content))
    if response.content:
        try:
            typer.echo(json.dumps(response.json(), indent=2))
        except ValueError:
            sys.stdout.write(response.text)


def _body(text: str) -> bytes:
    if text.startswith("@"):
        try:
            raw = sys.stdin.buffer.read() if text == "@-" else Path(text[1:]).read_bytes()
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {text[1:]}: {exc.strerror}") from None
    else:
        raw = text.encode()
    try:
        json.loads(raw)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="BODY") from None
    return raw
