"""What every client command shares: its options (--profile, --json), the session it opens
from the configuration, and how it ends (one line on stderr and an exit code)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from vmpool.cli_client.session import EXIT_CONFIG, CliError, Session

if TYPE_CHECKING:
    from rich.console import RenderableType

# rich, tomllib and the API client load when a client command runs, not with every `vmpool`
# command (`vmpool serve`, `vmpool plan --cluster`).

ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        envvar="VMPOOL_PROFILE",
        show_default=False,
        help="a profile of ~/.config/vmpool/cli.toml (default: VMPOOL_URL and VMPOOL_TOKEN, "
        "else the file's default profile)",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the API's JSON (for scripts)")]
WaitOpt = Annotated[
    bool, typer.Option("--wait/--no-wait", help="follow it until it ends (Ctrl-C asks)")
]

PANEL = "Operate the pool through the API (VMPOOL_URL, VMPOOL_TOKEN or --profile)"


def fail(message: str, code: int) -> NoReturn:
    typer.echo(f"vmpool: {message}", err=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def connect(profile: str | None) -> Iterator[Session]:
    """A session with the API the configuration names; a CliError raised inside ends the
    command with its line and exit code."""
    from vmpool.cli_client.config import ConfigError, config_path, load_config, resolve

    env = os.environ
    try:
        config = load_config(config_path(env))
        target = resolve(env, profile, config)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    for warning in config.warnings if config else ():
        typer.echo(f"vmpool: warning: {warning}", err=True)
    try:
        session = Session(target)
    except CliError as exc:
        fail(exc.message, exc.exit_code)
    try:
        yield session
    except CliError as exc:
        fail(exc.message, exc.exit_code)
    finally:
        session.close()


def now() -> datetime:
    return datetime.now(UTC)


def out(*things: RenderableType | None) -> None:
    """Tables and lines on stdout (None: nothing)."""
    from vmpool.cli_client import render

    console = render.make_console()
    for thing in things:
        if thing is not None:
            console.print(thing)


def out_json(data: Any) -> None:
    """The API's JSON (Session.json_of), indented, and nothing else on stdout."""
    typer.echo(json.dumps(data, indent=2))
