"""`vmpool migration ...`: list, show, watch (the progress bar again), cancel."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vmpool.cli_client.common import JsonOpt, ProfileOpt, connect, now, out, out_json
from vmpool.cli_client.vms import watch_migration

app = typer.Typer(help="Live migrations: their state, progress, downtime.", no_args_is_help=True)

IdArg = Annotated[int, typer.Argument(help="the migration's id", show_default=False)]


@app.command("list")
def migration_list(
    vm: Annotated[str | None, typer.Option("--vm", help="only this VM's")] = None,
    host: Annotated[str | None, typer.Option("--host", help="from or to this host")] = None,
    state: Annotated[str | None, typer.Option("--state", help="only in this state")] = None,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Migrations, oldest first."""
    from vmpool_client.api.migrations import list_migrations
    from vmpool_client.models import MigrationState

    from vmpool.cli_client import render

    try:
        chosen = MigrationState(state) if state is not None else None
    except ValueError:
        known = ", ".join(m.value for m in MigrationState)
        raise typer.BadParameter(f"one of {known}", param_hint="--state") from None
    with connect(profile) as s:
        filters: dict[str, Any] = {}
        if vm is not None:
            filters["vm_id"] = s.vm_id(vm)
        if host is not None:
            filters["host_id"] = s.host_id(host)
        if chosen is not None:
            filters["state"] = chosen
        items = list(s.pages(list_migrations.sync_detailed, **filters))
    if as_json:
        out_json(s.json_of(items))
    else:
        out(render.migrations_table(items, now()) if items else "no migrations")


@app.command("show")
def migration_show(migration: IdArg, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """A migration: its state, progress while it runs, downtime and total time at the end."""
    from vmpool_client.api.migrations import get_migration

    from vmpool.cli_client import render

    with connect(profile) as s:
        m = s.call(get_migration.sync_detailed, migration)
    if as_json:
        out_json(s.json_of(m))
    else:
        out(render.migration_fields(m))


@app.command("watch")
def migration_watch(migration: IdArg, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Follow a migration to its end with its progress bar (as `vm migrate` does)."""
    from vmpool_client.api.migrations import get_migration

    with connect(profile) as s:
        watch_migration(s, s.call(get_migration.sync_detailed, migration), as_json)


@app.command("cancel")
def migration_cancel(
    migration: IdArg, profile: ProfileOpt = None, as_json: JsonOpt = False
) -> None:
    """Abort a migration; the VM keeps running on its source."""
    from vmpool_client.api.migrations import cancel_migration

    with connect(profile) as s:
        m = s.call(cancel_migration.sync_detailed, migration)
    if as_json:
        out_json(s.json_of(m))
    else:
        out(f"migration {m.id} of {m.vm_name}: cancel requested ({m.state.value})")
