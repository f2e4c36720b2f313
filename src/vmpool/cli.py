"""The `vmpool` command. Beside the daemon and what administers it on its host (serve, db,
token, lab, openapi, export-pool, plan --cluster), the commands that operate a pool through
its API (host, vm, migration, pool, plan, score, events: vmpool.cli_client)."""

from __future__ import annotations

import contextlib
import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from vmpool import cli_client
from vmpool.config import Settings, load_settings
from vmpool.errors import VmpoolError

if TYPE_CHECKING:
    from vmpool.services.unit_of_work import ServiceContext

app = typer.Typer(
    help="vmpool: a VM resource pool manager for KVM/QEMU hosts.", no_args_is_help=True
)
SERVER = "Run and administer the daemon (on its host, with its settings)"
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
lab_app = typer.Typer(help="A lab of real libvirt hosts on this one machine.", no_args_is_help=True)
app.add_typer(db_app, name="db", rich_help_panel=SERVER)
app.add_typer(token_app, name="token", rich_help_panel=SERVER)
app.add_typer(lab_app, name="lab", rich_help_panel=SERVER)
cli_client.register(app)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", help="TOML settings file (default /etc/vmpool/vmpool.toml if present)"
    ),
]


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"vmpool: {message}", err=True)
    raise typer.Exit(code)


@app.command(rich_help_panel=SERVER)
def serve(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option("--host", help="listen address")] = None,
    port: Annotated[int | None, typer.Option("--port", help="listen port")] = None,
) -> None:
    """Run the API daemon and its background jobs."""
    from vmpool.logs import configure_logging
    from vmpool.wiring import serve as serve_daemon

    settings = _settings(config)
    configure_logging(settings.log_level, settings.log_format)
    try:
        serve_daemon(settings, host or settings.listen_host, port or settings.listen_port)
    except VmpoolError as exc:
        _fail(exc.message)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt = None) -> None:
    """Apply the Alembic migrations up to this vmpool's schema."""
    from vmpool.adapters.db.migrations import current_revision, upgrade
    from vmpool.wiring import build_runtime

    runtime = build_runtime(_settings(config))
    upgrade(runtime.engine)
    typer.echo(f"database at revision {current_revision(runtime.engine)}")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option("--role", help="admin, member or reader")] = "admin",
    name: Annotated[str, typer.Option("--name", help="a label for the token")] = "cli",
    project: Annotated[
        str | None, typer.Option("--project", help="the project (name or id) of a member or reader")
    ] = None,
    ttl_s: Annotated[
        int | None, typer.Option("--ttl-s", help="lifetime in seconds (default: the setting)")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Create an API token and print it (it is stored only hashed)."""
    from vmpool.services.tokens import Role, create_token

    try:
        chosen = Role(role)
    except ValueError:
        _fail(f"unknown role {role!r}: use admin, member or reader")
    with _checked_runtime(config) as ctx:
        project_id = _project_id(ctx, project) if project is not None else None
        typer.echo(create_token(ctx, chosen, name, project_id=project_id, ttl_s=ttl_s))


@token_app.command("list")
def token_list(config: ConfigOpt = None) -> None:
    """The tokens: id, name, role, project, expiry, revocation, last use (never the secret)."""
    from vmpool.services.tokens import list_tokens

    with _checked_runtime(config) as ctx:
        after = 0
        while page := list_tokens(ctx, after, 1000):
            for t in page:
                typer.echo(
                    f"{t.id}\t{t.name}\t{t.role}\tproject={t.project_id}\t"
                    f"expires={t.expires_at:%Y-%m-%dT%H:%M:%SZ}\t"
                    f"revoked={t.revoked_at or '-'}\tlast_used={t.last_used_at or '-'}"
                )
            after = page[-1].id


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="the token's id (vmpool token list)")],
    config: ConfigOpt = None,
) -> None:
    """Revoke a token: its next call answers 401."""
    from vmpool.services.tokens import revoke_token

    with _checked_runtime(config) as ctx:
        view = revoke_token(ctx, token_id)
        typer.echo(f"revoked token {view.id} ({view.name}) at {view.revoked_at}")


@contextlib.contextmanager
def _checked_runtime(config: Path | None) -> Iterator[ServiceContext]:
    """The services on a migrated database; a vmpool error ends the command with its message."""
    from vmpool.adapters.db.migrations import check_schema
    from vmpool.wiring import build_runtime

    runtime = build_runtime(_settings(config))
    try:
        check_schema(runtime.engine)
        yield runtime.ctx
    except VmpoolError as exc:
        _fail(exc.message)
    finally:
        runtime.close()


def _project_id(ctx: ServiceContext, project: str) -> int:
    if project.isdigit():
        return int(project)
    with ctx.uow() as uow:
        row = uow.projects.by_name(project)
        if row is None:
            _fail(f"no project named {project!r}")
        return row.id


@app.command(rich_help_panel=SERVER)
def openapi(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file (default stdout)")
    ] = None,
) -> None:
    """Write the OpenAPI spec."""
    from vmpool.api.openapi import openapi_json

    text = openapi_json()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)


@app.command("export-pool", rich_help_panel=SERVER)
@app.command("snapshot", hidden=True, deprecated=True)  # its old name
def export_pool(
    pool: Annotated[str | None, typer.Option("--pool", help="pool name (default: default)")] = None,
    config: ConfigOpt = None,
) -> None:
    """Export a pool's cluster state (JSON on stdout), for `vmpool plan --cluster`."""
    from vmpool.adapters.db.migrations import check_schema
    from vmpool.services import cluster_export
    from vmpool.wiring import build_runtime

    runtime = build_runtime(_settings(config))
    try:
        check_schema(runtime.engine)
        data = cluster_export.export_pool(runtime.ctx, pool)
    except VmpoolError as exc:
        _fail(exc.message)
    finally:
        runtime.close()
    sys.stdout.write(json.dumps(data, indent=1) + "\n")


@cli_client.plan_app.callback(invoke_without_command=True)
def plan(
    ctx: typer.Context,
    cluster_file: Annotated[
        Path | None,
        typer.Option(
            "--cluster",
            "--snapshot",
            help="plan offline from a cluster state file (`vmpool export-pool`, "
            "docs/rebalance.md), touching no host",
        ),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option("--strategy", help="balance or consolidate (default: the file's)"),
    ] = None,
    max_moves: Annotated[int | None, typer.Option("--max-moves", min=0)] = None,
    max_memory_mib: Annotated[
        float | None,
        typer.Option(
            "--max-memory-mib", min=0, help="memory the plan may copy; ranks by gain per MiB"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the plan as JSON")] = False,
) -> None:
    """Rebalance plans: the daemon's (list, show, create, approve, cancel: through the API),
    or one made offline from a cluster state file with --cluster, touching no host (like
    `hbal -t`)."""
    import time

    if ctx.invoked_subcommand is not None:
        if cluster_file is not None:
            _fail("--cluster plans offline: give it without a subcommand")
        return
    if cluster_file is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)

    from vmpool.domain.cluster_state import parse_cluster, plan_to_json
    from vmpool.domain.rebalance import PlannerConfig
    from vmpool.domain.rebalance import plan as make_plan

    try:
        data = json.loads(cluster_file.read_text())
    except (OSError, ValueError) as exc:
        _fail(f"cannot read {cluster_file}: {exc}")
    try:
        parsed = parse_cluster(data)
        t0 = time.perf_counter()
        config = PlannerConfig(
            strategy=strategy, max_moves=max_moves, max_memory_mib=max_memory_mib
        )
        result = make_plan(parsed, config)
        seconds = time.perf_counter() - t0
    except VmpoolError as exc:
        _fail(exc.message)
    out = plan_to_json(result, seconds)
    if as_json:
        sys.stdout.write(json.dumps(out) + "\n")
        return
    for move in out["moves"]:
        typer.echo(
            f"move {move['vm']}: {move['from']} -> {move['to']}  "
            f"({move['memory_mib']:.0f} MiB, score {move['score_after']:.4f})"
        )
    typer.echo(
        f"score {out['score_before']:.4f} -> {out['score_after']:.4f}, "
        f"{len(out['moves'])} moves copying {out['memory_mib_moved']:.0f} MiB of memory "
        f"and up to {out['disk_gib_moved']:.0f} GiB of local disks, "
        f"{seconds:.2f} s ({out['stopped_because']})"
    )


def _lab_dir(config: Path | None) -> tuple[Path, int]:
    s = _settings(config)
    return s.lab_dir, s.lab_base_port


@lab_app.command("up")
def lab_up(
    hosts: Annotated[int, typer.Option("--hosts", min=1, max=16)] = 2,
    tls: Annotated[
        bool,
        typer.Option(
            "--tls",
            help="the hosts listen with TLS (certificates of a lab CA in <lab_dir>/pki) and "
            "are registered with qemu+tls:// URIs; QEMU can encrypt migrations (migration_tls)",
        ),
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Start N libvirt hosts on this machine, each in its own network namespace on the lab's
    fabric (needs root); prints what to register for each."""
    from vmpool.lab.hosts import LabError
    from vmpool.lab.hosts import lab_up as up

    lab_dir, base_port = _lab_dir(config)
    try:
        started = up(hosts, lab_dir, base_port, tls=tls)
    except LabError as exc:
        _fail(str(exc))
    for h in started:
        typer.echo(
            f"{h.name}\t{h.uri}\tmigration_address={h.migration_address}\t"
            f"netns={h.netns}\thost_uuid={h.host_uuid}"
        )
        if h.tls:
            typer.echo(f"\tpeer_uri={h.peer_uri}")
    if tls and started:
        typer.echo(
            f"\nthe hosts use TLS: libvirtd listens on its TLS port in its namespace, reached "
            f"from here through a forwarder on 127.0.0.1; certificates of the lab CA in "
            f"{lab_dir}/pki (client pkipath: {started[0].pkipath}); vmpool accepts the "
            f"pkipath only if host_uri_key_dirs names that folder (e.g. "
            f"VMPOOL_HOST_URI_KEY_DIRS='[\"{lab_dir}/pki\"]'); set a pool's migration_tls to "
            f"encrypt migrations (QEMU's certificates are in <lab_dir>/pki/labN/qemu)"
        )
    fabric = started[0].fabric_netns if started else ""
    typer.echo(
        f"\nguest network 10.232.0.0/24 on bridge vmpbr0 of every host; the fabric namespace "
        f"{fabric} is 10.232.0.1 there (ping a guest from it: python -c 'from vmpool.lab "
        f'import netns_ping; print(netns_ping("{fabric}", "10.232.0.N").stdout)\')'
    )
    if not tls:
        typer.echo(
            f"register them (vmpool accepts their sockets under its lab_dir, here {lab_dir}, "
            f"and under host_uri_socket_dirs; or POST /v1/hosts each registration):"
        )
    else:
        typer.echo("register them (or POST /v1/hosts each registration):")
    for h in started:
        typer.echo("  " + shlex.join(_register_command(h.registration())))


def _register_command(registration: dict[str, str]) -> list[str]:
    """`vmpool host register URI --name ...` for a lab host's registration body."""
    command = ["vmpool", "host", "register", registration["uri"]]
    for key in ("name", "migration_address", "peer_uri"):
        if registration.get(key):
            command += ["--" + key.replace("_", "-"), registration[key]]
    return command


@lab_app.command("down")
def lab_down(config: ConfigOpt = None) -> None:
    """Destroy the lab's domains, stop its hosts and delete its network namespaces."""
    from vmpool.lab.hosts import LabError
    from vmpool.lab.hosts import lab_down as down

    lab_dir, _ = _lab_dir(config)
    try:
        down(lab_dir)
    except LabError as exc:
        _fail(str(exc))
    typer.echo("lab is down")


@lab_app.command("status")
def lab_status(config: ConfigOpt = None) -> None:
    """List the lab hosts that run."""
    from vmpool.lab.hosts import lab_status as status

    lab_dir, _ = _lab_dir(config)
    for h in status(lab_dir):
        typer.echo(
            f"{h.name}\t{h.uri}\tmigration_address={h.migration_address}\t"
            f"netns={h.netns}\tpid={h.pid}" + (f"\tTLS, peer_uri={h.peer_uri}" if h.tls else "")
        )


@lab_app.command("image")
def lab_image(
    register: Annotated[
        bool,
        typer.Option(
            "--register/--no-register",
            help="upload the disk image to the catalog as `tiny-disk` (if the database is ready)",
        ),
    ] = True,
    config: ConfigOpt = None,
) -> None:
    """Build the tiny lab guest: a Debian kernel and a busybox initramfs (the kernel boot
    image `tiny`), and the same as a bootable disk, registered in the image catalog as
    `tiny-disk`."""
    from vmpool.lab.image import build_tiny_disk, build_tiny_image

    settings = _settings(config)
    image = build_tiny_image(settings.effective_image_dir)
    disk = build_tiny_disk(image)
    registered = _register_image(settings, "tiny-disk", disk) if register else None
    typer.echo(
        json.dumps(
            {
                "name": image.name,
                "kernel": str(image.kernel),
                "disk": str(disk),
                "catalog": registered,
            }
        )
    )


def _register_image(settings: Settings, name: str, path: Path) -> str | None:
    """Upload `path` to the catalog as `name` unless it is there already; None when the
    database is not migrated yet (run `vmpool db upgrade`, then this again)."""
    from vmpool.adapters.db.migrations import check_schema
    from vmpool.services import images
    from vmpool.wiring import build_runtime

    runtime = build_runtime(settings)
    try:
        try:
            check_schema(runtime.engine)
        except VmpoolError:
            return None
        if any(i.name == name for i in images.list_images(runtime.ctx)):
            return "present"

        def chunks() -> Iterator[bytes]:
            with open(path, "rb") as f:
                while chunk := f.read(2**20):
                    yield chunk

        view = images.upload_image(runtime.ctx, name, None, None, chunks(), actor="lab")
        return f"uploaded as image {view.id}"
    except VmpoolError as exc:
        _fail(exc.message)
    finally:
        runtime.close()


def main() -> None:
    app()
