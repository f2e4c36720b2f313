"""`vmpool plan ...`: the daemon's rebalance plans (list, show, create, approve with --wait,
cancel). `vmpool plan --cluster FILE` (the offline planner) is the group's own callback,
in vmpool.cli."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vmpool.cli_client.common import JsonOpt, ProfileOpt, connect, now, out, out_json
from vmpool.cli_client.session import EXIT_FAILED, EXIT_INTERRUPTED, CliError

app = typer.Typer(
    help="Rebalance plans: on the daemon (list, show, create, approve, cancel), or offline "
    "from a cluster state file (--cluster FILE).",
)

IdArg = Annotated[int, typer.Argument(help="the plan's id", show_default=False)]
PoolOpt = Annotated[str, typer.Option("--pool", help="the pool's name or id")]


@app.command("list")
def plan_list(
    pool: PoolOpt = "default",
    state: Annotated[
        str | None,
        typer.Option("--state", help="proposed, running, completed, cancelled or superseded"),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 20,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A pool's plans, newest first."""
    from vmpool_client.api.plans import list_plans
    from vmpool_client.models import ListPlansStateType0

    from vmpool.cli_client import render

    try:
        chosen = ListPlansStateType0(state) if state is not None else None
    except ValueError:
        known = ", ".join(v.value for v in ListPlansStateType0)
        raise typer.BadParameter(f"one of {known}", param_hint="--state") from None
    with connect(profile) as s:
        page = s.call(list_plans.sync_detailed, s.pool_id(pool), state=chosen, limit=limit)
    if as_json:
        out_json(s.json_of(page)["items"])
    else:
        out(render.plans_table(page.items, now()) if page.items else "no plans")


@app.command("show")
def plan_show(plan: IdArg, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """A plan with its steps: what moves where, and how each step went."""
    from vmpool_client.api.plans import get_plan

    from vmpool.cli_client import render

    with connect(profile) as s:
        p = s.call(get_plan.sync_detailed, plan)
    if as_json:
        out_json(s.json_of(p))
    else:
        out(render.plan_fields(p), render.steps_table(p) if p.steps else "no steps")


@app.command("create")
def plan_create(
    pool: PoolOpt = "default",
    strategy: Annotated[
        str | None, typer.Option("--strategy", help="balance or consolidate (default: the pool's)")
    ] = None,
    max_moves: Annotated[int | None, typer.Option("--max-moves", min=0)] = None,
    min_gain: Annotated[float | None, typer.Option("--min-gain", min=0)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show it, do not store it")] = False,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan now: stored as proposed (it runs once approved), or only shown (--dry-run)."""
    from vmpool_client.api.plans import create_plan
    from vmpool_client.models import PlanCreate, Strategy

    from vmpool.cli_client import render

    body: dict[str, Any] = {"dry_run": dry_run}
    if strategy is not None:
        try:
            body["strategy"] = Strategy(strategy)
        except ValueError:
            raise typer.BadParameter("balance or consolidate", param_hint="--strategy") from None
    if max_moves is not None:
        body["max_moves"] = max_moves
    if min_gain is not None:
        body["min_gain"] = min_gain
    with connect(profile) as s:
        p = s.call(create_plan.sync_detailed, s.pool_id(pool), body=PlanCreate(**body))
    if as_json:
        out_json(s.json_of(p))
    else:
        out(render.plan_fields(p), render.steps_table(p) if p.steps else "no steps")


@app.command("approve")
def plan_approve(
    plan: IdArg,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="follow its steps until it ends")
    ] = False,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a proposed plan (its steps migrate one at a time).

    With --wait, shows each step (a running one with its progress bar) until the plan
    ends; exits 1 if a step failed. Ctrl-C asks whether to cancel it or to stop watching.
    """
    from vmpool_client.api.plans import approve_plan

    from vmpool.cli_client import render
    from vmpool.cli_client.watch import Display, PlanWatch, follow

    with connect(profile) as s:
        p = s.call(approve_plan.sync_detailed, plan)
        if not wait:
            if as_json:
                out_json(s.json_of(p))
            else:
                out(f"plan {p.id} approved: {p.state}, {render.plural(len(p.steps), 'step')} "
                    f"(follow: vmpool plan show {p.id})")  # fmt: skip
            return
        display = Display(render.make_console(), quiet=as_json)
        display.note(
            f"plan {p.id} approved: {render.plural(len(p.steps), 'step')}, "
            f"score {render.plan_score(p)}"
        )
        watch = PlanWatch(s, p, display)
        cancelled = follow(watch, display)
        p = watch.plan
        if as_json:
            out_json(s.json_of(p))
        counts: dict[str, int] = {}
        for step in p.steps:
            counts[step.state] = counts.get(step.state, 0) + 1
        tally = ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
        summary = f"plan {p.id} {p.state}: score {render.plan_score(p)}; steps: {tally}"
        if cancelled:
            raise CliError(summary, EXIT_INTERRUPTED)
        if p.state != "completed" or counts.get("failed"):
            raise CliError(summary, EXIT_FAILED)
        if not as_json:
            out(summary)


@app.command("cancel")
def plan_cancel(plan: IdArg, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Cancel the steps not yet started; a migration already running finishes."""
    from vmpool_client.api.plans import cancel_plan

    with connect(profile) as s:
        p = s.call(cancel_plan.sync_detailed, plan)
    if as_json:
        out_json(s.json_of(p))
    else:
        out(f"plan {p.id}: {p.state}")
