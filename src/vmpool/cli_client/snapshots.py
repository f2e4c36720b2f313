"""`vmpool snapshot ...`: a VM's snapshots (docs/lifecycle.md#snapshots): list, create,
revert, delete. A snapshot is named by its name or id, within its VM."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from vmpool.cli_client.common import JsonOpt, ProfileOpt, connect, out, out_json
from vmpool.cli_client.session import CliError, Session

if TYPE_CHECKING:
    from rich.table import Table
    from vmpool_client.models import SnapshotOut

app = typer.Typer(help="A VM's snapshots.", no_args_is_help=True)

VmArg = Annotated[str, typer.Argument(help="the VM's name or id", show_default=False)]
SnapArg = Annotated[str, typer.Argument(help="the snapshot's name or id", show_default=False)]


def _table(snaps: list[SnapshotOut]) -> Table:
    from vmpool.cli_client import render

    t = render.table("ID", "NAME", "STATE", "MEMORY", "CLAIM", "CREATED", "DESCRIPTION",
                     free=("DESCRIPTION",))  # fmt: skip
    for s in snaps:
        t.add_row(str(s.id), s.name, render.state(s.state), "yes" if s.with_memory else "no",
                  f"{s.size_gib} GiB", render.when(s.created_at), s.description or "-")  # fmt: skip
    return t


def _snapshot_id(s: Session, vm_id: int, ref: str) -> int:
    from vmpool_client.api.snapshots import list_snapshots

    snaps = s.call(list_snapshots.sync_detailed, vm_id).items
    for snap in snaps:
        if snap.name == ref or str(snap.id) == ref:
            return snap.id
    raise CliError(f"VM {vm_id} has no snapshot {ref!r}")


@app.command("list")
def snapshot_list(vm: VmArg, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """The VM's snapshots, oldest first."""
    from vmpool_client.api.snapshots import list_snapshots

    with connect(profile) as s:
        answer = s.call(list_snapshots.sync_detailed, s.vm_id(vm))
        if as_json:
            out_json(s.json_of(answer)["items"])
            return
    out(_table(answer.items) if answer.items else "no snapshots")


@app.command("create")
def snapshot_create(
    vm: VmArg,
    name: Annotated[str, typer.Argument(help="a DNS label: a-z, 0-9, -", show_default=False)],
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    memory: Annotated[
        bool | None,
        typer.Option("--memory/--no-memory", help="default: with memory if it runs"),
    ] = None,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Take a snapshot (a running VM's holds its memory: a revert resumes it there)."""
    from vmpool_client.api.snapshots import create_snapshot
    from vmpool_client.models import SnapshotCreate
    from vmpool_client.types import UNSET

    body = SnapshotCreate(
        name=name, description=description, include_memory=UNSET if memory is None else memory
    )
    with connect(profile) as s:
        snap = s.call(create_snapshot.sync_detailed, s.vm_id(vm), body=body)
        if as_json:
            out_json(s.json_of(snap))
            return
    out(_table([snap]))


@app.command("revert")
def snapshot_revert(
    vm: VmArg, snapshot: SnapArg, profile: ProfileOpt = None, as_json: JsonOpt = False
) -> None:
    """Put the VM back to the snapshot: its disks (and its memory, if the snapshot has it)."""
    from vmpool_client.api.snapshots import revert_snapshot

    with connect(profile) as s:
        vm_id = s.vm_id(vm)
        snap = s.call(revert_snapshot.sync_detailed, vm_id, _snapshot_id(s, vm_id, snapshot))
        if as_json:
            out_json(s.json_of(snap))
            return
    out(f"VM {vm} is back at snapshot {snap.name}")


@app.command("delete")
def snapshot_delete(vm: VmArg, snapshot: SnapArg, profile: ProfileOpt = None) -> None:
    """Delete the snapshot (its claim on the host's storage goes with it)."""
    from vmpool_client.api.snapshots import delete_snapshot

    with connect(profile) as s:
        vm_id = s.vm_id(vm)
        s.call_no_content(delete_snapshot.sync_detailed, vm_id, _snapshot_id(s, vm_id, snapshot))
    out(f"snapshot {snapshot} of VM {vm} deleted")
