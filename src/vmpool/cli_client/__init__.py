"""The `vmpool` commands that operate a pool through its REST API, with the generated client
(vmpool_client) only: hosts, VMs, migrations, maintenance, pools, plans, the score, events.

They import nothing of the daemon's own layers (pyproject.toml's import-linter contract), so
that they run wherever the API can be reached, with a URL and a token
(`vmpool.cli_client.config`). The API's modules are imported inside the commands, so that the
server commands (`vmpool serve`, ...) do not load the client."""

from __future__ import annotations

import typer

from vmpool.cli_client import events, hosts, migrations, plans, pools, raw, snapshots, vms
from vmpool.cli_client.common import PANEL

plan_app = plans.app  # vmpool.cli gives it the offline planner (--cluster) as its callback


def register(app: typer.Typer) -> None:
    """Add the client commands to the `vmpool` app, in their own help panel."""
    for sub, name in ((hosts.app, "host"), (vms.app, "vm"), (migrations.app, "migration"),
                      (pools.app, "pool"), (plans.app, "plan"),
                      (snapshots.app, "snapshot")):  # fmt: skip
        app.add_typer(sub, name=name, rich_help_panel=PANEL)
        app.add_typer(sub, name=name + "s", hidden=True)  # `vmpool hosts list` works too
    app.command("score", rich_help_panel=PANEL)(pools.score)
    app.command("events", rich_help_panel=PANEL)(events.events)
    app.command("api", rich_help_panel=PANEL)(raw.api)
