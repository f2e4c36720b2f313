"""`vmpool vm ...`: create, list, show, start/stop/shutdown/reboot, delete, and migrate with
a live progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vmpool.cli_client.common import JsonOpt, ProfileOpt, WaitOpt, connect, now, out, out_json
from vmpool.cli_client.session import EXIT_FAILED, EXIT_INTERRUPTED, CliError, Session

app = typer.Typer(help="Virtual machines.", no_args_is_help=True)

VmArg = Annotated[str, typer.Argument(help="the VM's name or id", show_default=False)]


@app.command("list")
def vm_list(
    host: Annotated[str | None, typer.Option("--host", help="only those on this host")] = None,
    pool: Annotated[str | None, typer.Option("--pool", help="only this pool's")] = None,
    state: Annotated[str | None, typer.Option("--state", help="only in this state")] = None,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The VMs you may see (a project's token: its project's)."""
    from vmpool_client.api.vms import list_vms
    from vmpool_client.models import VmState

    from vmpool.cli_client import render

    try:
        chosen = VmState(state) if state is not None else None
    except ValueError:
        known = ", ".join(v.value for v in VmState)
        raise typer.BadParameter(f"one of {known}", param_hint="--state") from None
    with connect(profile) as s:
        filters: dict[str, Any] = {}
        if host is not None:
            filters["host_id"] = s.host_id(host)
        if pool is not None:
            filters["pool_id"] = s.pool_id(pool)
        if chosen is not None:
            filters["state"] = chosen
        vms = list(s.pages(list_vms.sync_detailed, **filters))
    if as_json:
        out_json(s.json_of(vms))
    else:
        out(render.vms_table(vms, now()) if vms else "no VMs")


@app.command("show")
def vm_show(vm: VmArg, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """A VM: its state, host, size, disks and NICs."""
    from vmpool_client.api.vms import get_vm

    from vmpool.cli_client import render

    with connect(profile) as s:
        v = s.call(get_vm.sync_detailed, s.vm_id(vm))
    if as_json:
        out_json(s.json_of(v))
    else:
        out(render.vm_fields(v, now()))


@app.command("create")
def vm_create(
    name: Annotated[str, typer.Argument(help="a DNS label: a-z, 0-9, -", show_default=False)],
    vcpus: Annotated[int, typer.Option("--vcpus", min=1)] = 1,
    memory_mib: Annotated[int, typer.Option("--memory-mib", min=16)] = 512,
    disk_gib: Annotated[int, typer.Option("--disk-gib", min=0, help="boot disk (0: none)")] = 0,
    image: Annotated[str | None, typer.Option("--image", help="a catalog image")] = None,
    pool: Annotated[str | None, typer.Option("--pool", help="default: the default pool")] = None,
    host: Annotated[
        list[str] | None, typer.Option("--host", help="first placement on one of these")
    ] = None,
    trait: Annotated[list[str] | None, typer.Option("--trait", help="a required trait")] = None,
    group: Annotated[str | None, typer.Option("--group", help="a placement group")] = None,
    network: Annotated[
        list[str] | None, typer.Option("--network", help="a NIC on this network (repeat)")
    ] = None,
    disk_storage: Annotated[
        str | None, typer.Option("--disk-storage", help="local or shared")
    ] = None,
    kernel_arg: Annotated[
        list[str] | None, typer.Option("--kernel-arg", help="for a kernel boot image")
    ] = None,
    user_data: Annotated[
        Path | None, typer.Option("--user-data", help="a cloud-init user-data file")
    ] = None,
    ssh_key: Annotated[
        list[Path] | None, typer.Option("--ssh-key", help="a public key file (repeat)")
    ] = None,
    guaranteed: Annotated[bool, typer.Option("--guaranteed", help="no overcommit")] = False,
    ha: Annotated[bool, typer.Option("--ha", help="restart elsewhere if its host dies")] = False,
    pinned: Annotated[bool, typer.Option("--pinned", help="never migrate it")] = False,
    tpm: Annotated[bool, typer.Option("--tpm", help="an emulated TPM 2.0")] = False,
    cpu_policy: Annotated[
        str | None, typer.Option("--cpu-policy", help="shared or dedicated (pinned host CPUs)")
    ] = None,
    hugepages: Annotated[
        str | None, typer.Option("--hugepages", help="back its memory with 2M or 1G pages")
    ] = None,
    sgx_epc_mib: Annotated[
        int, typer.Option("--sgx-epc-mib", min=0, help="SGX enclave page cache")
    ] = 0,
    device: Annotated[
        list[str] | None,
        typer.Option("--device", help="assignable devices: ALIAS or ALIAS=COUNT (repeat)"),
    ] = None,
    project: Annotated[
        int | None, typer.Option("--project", help="an admin's choice of project id")
    ] = None,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a VM: placed, defined and started (a 409 no_capacity says why nothing fits)."""
    from vmpool_client.api.vms import create_vm
    from vmpool_client.models import NicCreate, VmCreate, VmCreateDiskStorage

    body: dict[str, Any] = {"name": name, "vcpus": vcpus, "memory_mib": memory_mib,
                            "disk_gib": disk_gib, "guaranteed": guaranteed, "ha": ha,
                            "migratable": not pinned}  # fmt: skip
    optional = {"image": image, "hosts": host, "traits": trait, "placement_group": group,
                "kernel_args": kernel_arg, "project_id": project}  # fmt: skip
    body.update({k: v for k, v in optional.items() if v})
    if network:
        body["nics"] = [NicCreate(network=n) for n in network]
    if disk_storage is not None:
        if disk_storage not in ("local", "shared"):
            raise typer.BadParameter("local or shared", param_hint="--disk-storage")
        body["disk_storage"] = VmCreateDiskStorage(disk_storage)
    body.update(_hardware(tpm, cpu_policy, hugepages, sgx_epc_mib, device or []))
    if user_data is not None:
        body["user_data"] = _read(user_data, "--user-data")
    if ssh_key:
        body["ssh_keys"] = [_read(k, "--ssh-key").strip() for k in ssh_key]
    with connect(profile) as s:
        if pool is not None:
            body["pool_id"] = s.pool_id(pool)
        v = s.call(create_vm.sync_detailed, body=VmCreate(**body))
    if as_json:
        out_json(s.json_of(v))
    else:
        where = f" on {v.host_name}" if v.host_name else ""
        out(f"created VM {v.name} (id {v.id}){where}: {v.state.value}")


def _hardware(
    tpm: bool, cpu_policy: str | None, hugepages: str | None, sgx_epc_mib: int, devices: list[str]
) -> dict[str, Any]:
    """The create body's special hardware (docs/hardware.md), from the options."""
    from vmpool_client.models import DeviceRequestIn, VmCreateCpuPolicy, VmCreateHugepagesType0

    body: dict[str, Any] = {}
    if tpm:
        body["tpm"] = True
    if cpu_policy is not None:
        if cpu_policy not in ("shared", "dedicated"):
            raise typer.BadParameter("shared or dedicated", param_hint="--cpu-policy")
        body["cpu_policy"] = VmCreateCpuPolicy(cpu_policy)
    if hugepages is not None:
        if hugepages not in ("2M", "1G"):
            raise typer.BadParameter("2M or 1G", param_hint="--hugepages")
        body["hugepages"] = VmCreateHugepagesType0(hugepages)
    if sgx_epc_mib:
        body["sgx_epc_mib"] = sgx_epc_mib
    wanted = []
    for d in devices:
        alias, _, count = d.partition("=")
        if not alias or (count and not count.isdigit()):
            raise typer.BadParameter(f"{d!r}: ALIAS or ALIAS=COUNT", param_hint="--device")
        wanted.append(DeviceRequestIn(alias=alias, count=int(count or 1)))
    if wanted:
        body["devices"] = wanted
    return body


def _read(path: Path, option: str) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint=option) from None


def _power(action: str, vm: str, profile: str | None, as_json: bool) -> None:
    from vmpool_client.api.vms import reboot_vm, shutdown_vm, start_vm, stop_vm

    op = {"start": start_vm, "stop": stop_vm, "shutdown": shutdown_vm, "reboot": reboot_vm}
    with connect(profile) as s:
        v = s.call(op[action].sync_detailed, s.vm_id(vm))
    if as_json:
        out_json(s.json_of(v))
    else:
        out(f"{v.name}: {v.state.value}")


@app.command("start")
def vm_start(vm: VmArg, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Start a stopped VM."""
    _power("start", vm, profile, as_json)


@app.command("stop")
def vm_stop(vm: VmArg, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Power a VM off at once (like pulling the plug)."""
    _power("stop", vm, profile, as_json)


@app.command("shutdown")
def vm_shutdown(vm: VmArg, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Ask the guest to power off (ACPI); its state follows the guest."""
    _power("shutdown", vm, profile, as_json)


@app.command("reboot")
def vm_reboot(vm: VmArg, profile: ProfileOpt = None, as_json: JsonOpt = False) -> None:
    """Ask the guest to reboot."""
    _power("reboot", vm, profile, as_json)


@app.command("delete")
def vm_delete(vm: VmArg, profile: ProfileOpt = None) -> None:
    """Destroy and undefine a VM and free its capacity."""
    from vmpool_client.api.vms import delete_vm

    with connect(profile) as s:
        s.call_no_content(delete_vm.sync_detailed, s.vm_id(vm))
    out(f"deleted VM {vm}")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_duration(text: str) -> int:
    """`90`, `90s`, `15m`, `2h`, `7d` -> seconds."""
    t = text.strip().lower()
    unit = _UNITS.get(t[-1:])
    number = t[:-1] if unit is not None else t
    if not number.isdigit() or int(number) < 1:
        raise typer.BadParameter(f"{text!r} is not a duration such as 90s, 15m, 2h or 7d")
    return int(number) * (unit or 1)


@app.command("renew")
def vm_renew(
    vm: VmArg,
    for_: Annotated[
        str, typer.Option("--for", help="the lease's new length from now: 90s, 15m, 2h, 7d")
    ],
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Renew a VM's lease (within its pool's max_lease_s)."""
    from vmpool_client.api.vms import renew_vm_lease
    from vmpool_client.models import LeaseRenew

    seconds = parse_duration(for_)
    with connect(profile) as s:
        v = s.call(renew_vm_lease.sync_detailed, s.vm_id(vm), body=LeaseRenew(lease_s=seconds))
    if as_json:
        out_json(s.json_of(v))
    else:
        out(f"{v.name}: lease ends {v.lease_expires_at}")


@app.command("resize")
def vm_resize(
    vm: VmArg,
    vcpus: Annotated[int | None, typer.Option("--vcpus", help="up to its max_vcpus")] = None,
    memory_mib: Annotated[
        int | None, typer.Option("--memory-mib", help="up to its max_memory_mib")
    ] = None,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a VM's vCPUs and memory: live if it runs (hot-plug, the balloon), else in its
    definition (docs/lifecycle.md#hot-plug-and-resize)."""
    from vmpool_client.api.vms import resize_vm
    from vmpool_client.models import VmResize
    from vmpool_client.types import UNSET

    if vcpus is None and memory_mib is None:
        raise typer.BadParameter("give --vcpus, --memory-mib or both")
    body = VmResize(
        vcpus=UNSET if vcpus is None else vcpus,
        memory_mib=UNSET if memory_mib is None else memory_mib,
    )
    with connect(profile) as s:
        v = s.call(resize_vm.sync_detailed, s.vm_id(vm), body=body)
    if as_json:
        out_json(s.json_of(v))
    else:
        out(f"{v.name}: {v.vcpus} vCPUs (max {v.max_vcpus}), {v.memory_mib} MiB "
            f"(max {v.max_memory_mib})")  # fmt: skip


@app.command("migrate")
def vm_migrate(
    vm: VmArg,
    to: Annotated[
        str | None, typer.Option("--to", help="the target host (default: placement chooses)")
    ] = None,
    bandwidth_mib_s: Annotated[
        int | None, typer.Option("--bandwidth-mib-s", min=1, help="cap the migration stream")
    ] = None,
    max_downtime_ms: Annotated[
        int | None, typer.Option("--max-downtime-ms", help="the longest pause (default 500)")
    ] = None,
    auto_converge: Annotated[
        bool, typer.Option("--auto-converge", help="let QEMU slow the vCPUs to converge")
    ] = False,
    post_copy: Annotated[
        bool, typer.Option("--post-copy", help="switch to post-copy at the timeout")
    ] = False,
    storage: Annotated[
        str | None, typer.Option("--storage", help="shared or copy (default: what it needs)")
    ] = None,
    wait: WaitOpt = True,
    profile: ProfileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Live-migrate a running VM, with a progress bar.

    The bar shows the memory in sync on the target, with the data processed and remaining,
    the dirty rate and the memory pass; the end prints the downtime and the total time.
    Exits 1 if it fails; Ctrl-C asks whether to cancel it or to stop watching.
    """
    from vmpool_client.api.vms import migrate_vm
    from vmpool_client.models import MigrateIn, MigrateInStorageType0

    body: dict[str, Any] = {"auto_converge": auto_converge, "allow_post_copy": post_copy}
    if bandwidth_mib_s is not None:
        body["bandwidth_mib_s"] = bandwidth_mib_s
    if max_downtime_ms is not None:
        body["max_downtime_ms"] = max_downtime_ms
    if storage is not None:
        if storage not in ("shared", "copy"):
            raise typer.BadParameter("shared or copy", param_hint="--storage")
        body["storage"] = MigrateInStorageType0(storage)
    with connect(profile) as s:
        if to is not None:
            body["target_host_id"] = s.host_id(to)
        m = s.call(migrate_vm.sync_detailed, s.vm_id(vm), body=MigrateIn(**body))
        if not wait:
            if as_json:
                out_json(s.json_of(m))
            else:
                out(f"migration {m.id} of {m.vm_name} {m.state.value} "
                    f"(watch it: vmpool migration watch {m.id})")  # fmt: skip
            return
        watch_migration(s, m, as_json)


def watch_migration(s: Session, m: Any, as_json: bool) -> None:
    """Follow a migration to its end; print its summary (or its JSON); exit non-zero unless
    it completed."""
    from vmpool.cli_client import render
    from vmpool.cli_client.watch import Display, MigrationWatch, follow

    display = Display(render.make_console(), quiet=as_json)
    if not as_json:
        display.note(f"migration {m.id}: {render.migration_route(m)}")
    watch = MigrationWatch(s, m, display)
    cancelled = follow(watch, display)
    final = watch.m
    if as_json:
        out_json(s.json_of(final))
    summary = render.migration_summary(final)
    if str(final.state.value) != "completed":
        raise CliError(summary, EXIT_INTERRUPTED if cancelled else EXIT_FAILED)
    if not as_json:
        out(summary)
