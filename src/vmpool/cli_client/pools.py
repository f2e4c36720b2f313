"""`vmpool pool ...` (list, show) and `vmpool score`."""

from __future__ import annotations

from typing import Annotated

import typer

from vmpool.cli_client.common import JsonOpt, ProfileOpt, connect, out, out_json

app = typer.Typer(help="Pools and their allocation policy.", no_args_is_help=True)

PoolArg = Annotated[str, typer.Argument(help="the pool's name or id", show_default=False)]


@app.command("list")
def pool_list(profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """The pools: placement strategy, allocation ratios, rebalance mode."""
    from vmpool_client.api.pools import list_pools

    from vmpool.cli_client import render

    with connect(profile) as s:
        pools = list(s.pages(list_pools.sync_detailed))
    if as_json:
        out_json(s.json_of(pools))
    else:
        out(render.pools_table(pools))


@app.command("show")
def pool_show(pool: PoolArg, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """A pool's policy and what its rebalance loop last decided."""
    from vmpool_client.api.pools import get_pool

    from vmpool.cli_client import render

    with connect(profile) as s:
        p = s.call(get_pool.sync_detailed, s.pool_id(pool))
    if as_json:
        out_json(s.json_of(p))
    else:
        out(render.pool_fields(p))


def score(
    pool: Annotated[str, typer.Argument(help="the pool's name or id")] = "default",
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The pool score (lower is better), its components and each host's share."""
    from vmpool_client.api.pools import get_pool_score

    from vmpool.cli_client import render

    with connect(profile) as s:
        sc = s.call(get_pool_score.sync_detailed, s.pool_id(pool))
    if as_json:
        out_json(s.json_of(sc))
    else:
        out(*render.score_tables(sc))
