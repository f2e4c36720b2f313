"""`vmpool host ...`: list, show, register, delete; maintenance enter (watching the
evacuation, one line per VM) and leave."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vmpool.cli_client.common import (
    JsonOpt,
    ProfileOpt,
    WaitOpt,
    connect,
    now,
    out,
    out_json,
)
from vmpool.cli_client.session import EXIT_FAILED, EXIT_INTERRUPTED, CliError

app = typer.Typer(help="Hypervisor hosts.", no_args_is_help=True)
maintenance_app = typer.Typer(
    help="Maintenance: evacuate a host by live migration, or make it placeable again.",
    no_args_is_help=True,
)
app.add_typer(maintenance_app, name="maintenance")

HostArg = Annotated[str, typer.Argument(help="the host's name or id", show_default=False)]


@app.command("list")
def host_list(
    pool: Annotated[str | None, typer.Option("--pool", help="only this pool's")] = None,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The hosts: state, VMs, allocation of their capacity."""
    from vmpool_client.api.hosts import list_hosts

    from vmpool.cli_client import render

    with connect(profile) as s:
        filters = {"pool_id": s.pool_id(pool)} if pool else {}
        hosts = list(s.pages(list_hosts.sync_detailed, **filters))
    if as_json:
        out_json(s.json_of(hosts))
    else:
        out(render.hosts_table(hosts, now()) if hosts else "no hosts")


@app.command("show")
def host_show(host: HostArg, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """A host: inventory, capacity, allocation, and its evacuation while in maintenance."""
    from vmpool_client.api.hosts import get_host

    from vmpool.cli_client import render

    with connect(profile) as s:
        h = s.call(get_host.sync_detailed, s.host_id(host))
    if as_json:
        out_json(s.json_of(h))
    else:
        out(render.host_fields(h, now()), render.evacuation_table(h))


@app.command("register")
def host_register(
    uri: Annotated[str, typer.Argument(help="its libvirt URI (qemu+tls://..., qemu+ssh://...)")],
    name: Annotated[str | None, typer.Option("--name", help="default: its hostname")] = None,
    pool: Annotated[str | None, typer.Option("--pool", help="default: the default pool")] = None,
    migration_address: Annotated[
        str | None, typer.Option("--migration-address", help="migration data goes to it")
    ] = None,
    peer_uri: Annotated[
        str | None, typer.Option("--peer-uri", help="the URI other hosts reach it at")
    ] = None,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a hypervisor by its libvirt URI; vmpool connects and reads its inventory."""
    from vmpool_client.api.hosts import register_host
    from vmpool_client.models import HostCreate

    from vmpool.cli_client import render

    with connect(profile) as s:
        body: dict[str, Any] = {"uri": uri}
        if name is not None:
            body["name"] = name
        if pool is not None:
            body["pool_id"] = s.pool_id(pool)
        if migration_address is not None:
            body["migration_address"] = migration_address
        if peer_uri is not None:
            body["peer_uri"] = peer_uri
        h = s.call(register_host.sync_detailed, body=HostCreate(**body))
    if as_json:
        out_json(s.json_of(h))
    else:
        out(f"registered host {h.name} (id {h.id}): {h.cpus} CPUs, {render.mib(h.memory_mib)}, "
            f"{h.arch}, {', '.join(h.domain_types)}")  # fmt: skip


@app.command("delete")
def host_delete(host: HostArg, profile: ProfileOpt = None) -> None:
    """Forget a host (refused while it holds VMs or takes part in a migration)."""
    from vmpool_client.api.hosts import delete_host

    with connect(profile) as s:
        host_id = s.host_id(host)
        s.call_no_content(delete_host.sync_detailed, host_id)
    out(f"deleted host {host}")


@app.command("devices")
def host_devices(host: HostArg, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Its PCI devices (passthrough): alias, and the VM that holds each."""
    from vmpool_client.api.hosts import list_host_devices

    from vmpool.cli_client import render

    with connect(profile) as s:
        page = s.call(list_host_devices.sync_detailed, s.host_id(host))
    if as_json:
        out_json(s.json_of(page))
    else:
        out(render.devices_table(page.items) if page.items else "no PCI devices")


@app.command("device-alias")
def host_device_alias(
    host: HostArg,
    address: Annotated[str, typer.Argument(help="its PCI address, e.g. 0000:3b:00.0")],
    alias: Annotated[
        str | None, typer.Argument(help="e.g. gpu:a100; leave out to make it unassignable")
    ] = None,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a PCI device assignable under an alias (VMs ask for it by alias), or not."""
    from vmpool_client.api.hosts import update_host_device
    from vmpool_client.models import HostDeviceUpdate

    with connect(profile) as s:
        d = s.call(
            update_host_device.sync_detailed,
            s.host_id(host),
            address,
            body=HostDeviceUpdate(alias=alias),
        )
    if as_json:
        out_json(s.json_of(d))
    else:
        out(f"{d.address}: {d.alias or 'not assignable'}")


@app.command("cpu-sets")
def host_cpu_sets(
    host: HostArg,
    dedicated: Annotated[
        str | None, typer.Option("--dedicated", help='CPUs for dedicated VMs, e.g. "2-7,^4"')
    ] = None,
    shared: Annotated[str | None, typer.Option("--shared", help="CPUs for the others")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="no dedicated CPUs")] = False,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Split its CPUs between dedicated VMs (pinned) and the others (Nova's sets)."""
    from vmpool_client.api.hosts import update_host
    from vmpool_client.models import HostUpdate
    from vmpool_client.types import UNSET

    if clear and (dedicated or shared):
        raise typer.BadParameter("--clear alone", param_hint="--clear")
    if clear:
        body = HostUpdate(cpu_dedicated_set=None, cpu_shared_set=None)
    elif dedicated is None and shared is None:
        raise typer.BadParameter("give --dedicated, --shared or --clear")
    else:
        body = HostUpdate(
            cpu_dedicated_set=UNSET if dedicated is None else dedicated,
            cpu_shared_set=UNSET if shared is None else shared,
        )
    with connect(profile) as s:
        h = s.call(update_host.sync_detailed, s.host_id(host), body=body)
    if as_json:
        out_json(s.json_of(h))
    else:
        out(f"{h.name}: dedicated {h.cpu_dedicated_set or '-'}, shared {h.cpu_shared_set or '-'}")


@maintenance_app.command("enter")
def maintenance_enter(
    host: HostArg,
    wait: WaitOpt = True,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Enter maintenance: evacuate the host's VMs by live migration.

    The host takes no new VMs; its running VMs move, a few at a time, by live migration.
    Shows one line per VM until the evacuation ends; exits 1 if a VM could not move.
    """
    from vmpool_client.api.hosts import enter_host_maintenance

    from vmpool.cli_client import render
    from vmpool.cli_client.watch import Display, EvacuationWatch, follow

    with connect(profile) as s:
        h = s.call(enter_host_maintenance.sync_detailed, s.host_id(host))
        if not wait:
            if as_json:
                out_json(s.json_of(h))
            else:
                out(f"{h.name} is in maintenance; its VMs are being evacuated "
                    f"(follow: vmpool host show {h.name})")  # fmt: skip
            return
        display = Display(render.make_console(), quiet=as_json)
        watch = EvacuationWatch(s, h, display)
        if not as_json:
            out(f"{h.name} is in maintenance; evacuating its VMs")
        cancelled = follow(watch, display)
        h = watch.host
        if as_json:
            out_json(s.json_of(h))
        ev = h.evacuation
        if ev is None:
            how = "as asked" if cancelled else "meanwhile"
            raise CliError(f"{h.name} left maintenance {how}",
                           EXIT_INTERRUPTED if cancelled else EXIT_FAILED)  # fmt: skip
        moved = sum(1 for i in ev.items if i.state == "completed")
        if not as_json:
            out(
                f"{h.name}: evacuation {ev.status}, {render.plural(moved, 'VM')} moved, "
                f"{ev.vms_remaining} remaining"
            )
        if ev.status != "done":
            stuck = "; ".join(f"{i.vm_name}: {i.error or i.state}" for i in ev.items
                              if i.state != "completed")  # fmt: skip
            raise CliError(f"{h.name}: evacuation incomplete ({stuck})")


@maintenance_app.command("leave")
def maintenance_leave(host: HostArg, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Make the host placeable again; its queued evacuations are cancelled."""
    from vmpool_client.api.hosts import leave_host_maintenance

    with connect(profile) as s:
        h = s.call(leave_host_maintenance.sync_detailed, s.host_id(host))
    if as_json:
        out_json(s.json_of(h))
    else:
        out(f"{h.name} left maintenance: {h.state.value}")
