"""The one place that wires settings, database, hypervisor adapter, services, API and scheduler."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from fastapi import FastAPI
from sqlalchemy import Engine

from vmpool.adapters.auth.jwt_verifier import JwksVerifier
from vmpool.adapters.db.engine import make_engine, make_session_factory, read_only_engine
from vmpool.adapters.db.leader_lock import AdvisoryLeaderLock
from vmpool.adapters.db.migrations import check_schema
from vmpool.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from vmpool.adapters.fencing import CommandFenceAgent
from vmpool.adapters.hypervisor.libvirt_adapter import LibvirtConnector
from vmpool.adapters.images import DirectoryImageCatalog
from vmpool.adapters.prometheus_metrics import PrometheusMetrics
from vmpool.adapters.storage.image_store import FileImageStore
from vmpool.adapters.systemd_notify import SystemdNotifier
from vmpool.api.app import create_app
from vmpool.config import Settings
from vmpool.domain.host_uri import HostUriPolicy
from vmpool.domain.model import DomainType
from vmpool.domain.ports import DomainEvents, HypervisorConnector, TokenVerifier
from vmpool.errors import VmpoolError
from vmpool.scheduler.jobs import (
    add_service_manager_jobs,
    build_scheduler,
    build_service_scheduler,
    settle_migrations,
)
from vmpool.services import daemon_lease, hosts, service_status
from vmpool.services.leadership import Leadership
from vmpool.services.migration_runner import MigrationRunner
from vmpool.services.service_status import StartupGate
from vmpool.services.unit_of_work import ServiceContext

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    ctx: ServiceContext
    connector: HypervisorConnector
    migration_runner: MigrationRunner

    def close(self, leave_migrations: bool = False) -> list[int]:
        """`leave_migrations`: the daemon stops; the migrations in flight are left to libvirt
        (answered), not waited for."""
        left = self.migration_runner.close(wait=True, leave_running=leave_migrations)
        close = getattr(self.connector, "close", None)
        if callable(close):
            close()
        self.engine.dispose()
        return left


def build_runtime(settings: Settings, connector: HypervisorConnector | None = None) -> Runtime:
    if settings.database_url is None:
        private_sqlite_file(settings.data_dir, settings.data_dir / "vmpool.db")
    engine = make_engine(
        settings.effective_database_url,
        connect_timeout_s=settings.database_connect_timeout_s,
        pool_timeout_s=settings.database_pool_timeout_s,
    )
    factory = make_session_factory(engine)
    read_factory = make_session_factory(read_only_engine(engine))
    hv = connector or LibvirtConnector(
        connect_timeout_s=settings.connect_timeout_s,
        call_timeout_s=settings.host_call_timeout_s,
        keepalive_interval_s=settings.keepalive_interval_s,
        keepalive_count=settings.keepalive_count,
    )
    ctx = ServiceContext(
        uow=lambda: SqlAlchemyUnitOfWork(factory),
        reader=lambda: SqlAlchemyUnitOfWork(read_factory, read_only=True),
        hypervisors=hv,
        images=DirectoryImageCatalog(settings.effective_image_dir),
        domain_type=None if settings.domain_type == "auto" else DomainType(settings.domain_type),
        serial_log_dir=str(settings.effective_serial_log_dir),
        stale_intent_s=settings.stale_intent_s,
        default_local_disk_path=settings.default_local_disk_path,
        metrics_window_s=settings.metrics_window_s,
        host_uri_policy=host_uri_policy(settings),
        image_store=FileImageStore(settings.effective_image_store_dir),
        max_image_bytes=settings.max_image_bytes,
        mac_prefix=settings.mac_prefix,
        token_default_ttl_s=settings.token_default_ttl_s,
        token_max_ttl_s=settings.token_max_ttl_s,
        jwt=jwt_verifier(settings),
        fencer=CommandFenceAgent(settings.fence_timeout_s),
        fence_after_s=settings.fence_after_s,
        metrics=PrometheusMetrics(),
    )
    # The runner and the context point at each other: build one, then the other.
    runner = MigrationRunner(ctx, poll_s=settings.migration_poll_s)
    ctx = replace(ctx, migration_queue=runner)
    runner.bind(ctx)
    return Runtime(settings=settings, engine=engine, ctx=ctx, connector=hv, migration_runner=runner)


def private_sqlite_file(folder: Path, db_file: Path) -> None:
    """The SQLite database holds token hashes and host URIs: its files are the daemon's alone
    (0600), whatever the umask, and its folder cannot be listed by others (0711: QEMU, which
    may run as another user, still reaches boot images kept below it). SQLite gives its
    -wal and -shm files the main file's mode."""
    folder.mkdir(mode=0o711, parents=True, exist_ok=True)
    folder.chmod(0o711)
    os.close(os.open(db_file, os.O_CREAT | os.O_RDWR, 0o600))
    for path in (db_file, *(db_file.with_name(db_file.name + s) for s in ("-wal", "-shm"))):
        if path.exists():
            path.chmod(0o600)


def jwt_verifier(settings: Settings) -> TokenVerifier | None:
    """OIDC/JWT bearer tokens, if a JWKS is configured (with the issuer and audience)."""
    if settings.jwt_jwks is None:
        return None
    if not settings.jwt_issuer or not settings.jwt_audience:
        raise ValueError("jwt_jwks needs jwt_issuer and jwt_audience too")
    return JwksVerifier(
        settings.jwt_jwks, settings.jwt_issuer, settings.jwt_audience,
        settings.jwt_role_claim, settings.jwt_project_claim, settings.jwt_subject_claim,
    )  # fmt: skip


def host_uri_policy(settings: Settings) -> HostUriPolicy:
    return HostUriPolicy(
        allow_insecure_tcp=settings.allow_insecure_tcp,
        allow_no_verify=settings.allow_no_verify,
        allow_test_driver=settings.allow_test_driver,
        key_dirs=tuple(str(p) for p in settings.host_uri_key_dirs),
        socket_dirs=(str(settings.lab_dir), *(str(p) for p in settings.host_uri_socket_dirs)),
    )


def _events_of(connector: HypervisorConnector) -> DomainEvents | None:
    """The connector's domain events, if it has them (libvirt's does; fakes may not)."""
    return connector if isinstance(connector, LibvirtConnector) else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def build_app(
    settings: Settings,
    connector: HypervisorConnector | None = None,
    startup: StartupGate | None = None,
) -> FastAPI:
    """The daemon's app. On SQLite: one daemon per database (the daemon lease), which runs
    the jobs while it serves. On PostgreSQL: one replica of several; every replica serves
    the API, the elected leader alone runs the jobs (services/leadership.py).

    `startup`: tells the service manager (systemd) when the daemon is ready; the caller
    meets its other conditions (`serve`: the server listens)."""
    startup = startup or StartupGate()
    runtime = build_runtime(settings, connector)
    check_schema(runtime.engine)
    hostname = socket.gethostname()
    owner = f"{hostname}:{os.getpid()}:{secrets.token_hex(4)}"
    if runtime.engine.dialect.name == "postgresql":
        return _replica_app(settings, runtime, owner, hostname, startup)
    started_at = runtime.ctx.clock()
    daemon_lease.acquire(
        runtime.ctx, owner, hostname, os.getpid(), settings.lease_stale_s, _pid_alive
    )
    manager = startup.manager
    startup.require(service_status.FIRST_SYNC)
    startup.status = lambda: service_status.status_line(runtime.ctx, "single daemon")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Migrations left mid-way by an earlier run are settled before anything new starts.
        settle_migrations(runtime.ctx)
        _register_local_host(runtime.ctx, settings)
        scheduler = build_scheduler(
            runtime.ctx, settings, lease_owner=owner, started_at=started_at,
            events=_events_of(runtime.connector),
            on_first_sync=lambda: startup.met(service_status.FIRST_SYNC),
        )  # fmt: skip
        add_service_manager_jobs(scheduler, runtime.ctx, manager, lambda: "single daemon")
        scheduler.start()
        try:
            yield
        finally:
            manager.stopping("stopping: the jobs end, migrations in flight go on in libvirt")
            scheduler.shutdown(wait=True)
            daemon_lease.release(runtime.ctx, owner)
            _left(runtime.close(leave_migrations=True))

    return create_app(runtime.ctx, lifespan=lifespan)


def _replica_app(
    settings: Settings, runtime: Runtime, owner: str, hostname: str, startup: StartupGate
) -> FastAPI:
    runner = runtime.migration_runner
    runner.pause()  # until elected
    jobs: dict[str, BackgroundScheduler] = {}
    manager = startup.manager
    # Ready once the replica knows whether it leads; a leader also after its first sync.
    startup.require(service_status.LEADERSHIP)
    startup.require(service_status.FIRST_SYNC)

    def on_elected(generation: int) -> None:
        # Called on the election thread, which must keep the lock's session alive: the
        # migrations the previous leader left running are adopted by the queue's job, which
        # runs at once (settling asks the hosts, and a host may be slow to answer).
        runner.resume()
        scheduler = build_scheduler(
            ctx, settings, started_at=ctx.clock(), events=_events_of(runtime.connector),
            on_first_sync=lambda: startup.met(service_status.FIRST_SYNC),
        )  # fmt: skip
        scheduler.start()
        jobs["scheduler"] = scheduler

    def on_deposed() -> None:
        runner.pause()
        scheduler = jobs.pop("scheduler", None)
        if scheduler is not None:
            scheduler.shutdown(wait=False)  # at once: another replica leads now

    def on_decided(leader: bool) -> None:
        if not leader:
            startup.met(service_status.FIRST_SYNC)  # a follower runs no sync
        startup.met(service_status.LEADERSHIP)

    def role() -> str:
        generation = leadership.generation
        return f"leader (generation {generation})" if generation is not None else "follower"

    lock = AdvisoryLeaderLock(runtime.engine, settings.leader_timeout_s)
    # Taking the lock and the generation needs no fence; everything else is fenced by it.
    leadership = Leadership(runtime.ctx, lock, owner, hostname, os.getpid(), on_elected,
                            on_deposed, timeout_s=settings.leader_timeout_s,
                            on_decided=on_decided)  # fmt: skip
    ctx = replace(runtime.ctx, fence=leadership.check)
    runner.bind(ctx)
    startup.status = lambda: service_status.status_line(ctx, role())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        _register_local_host(ctx, settings)
        service_jobs = build_service_scheduler(ctx, manager, role)
        if service_jobs is not None:
            service_jobs.start()
        leadership.start(settings.leader_poll_s)
        try:
            yield
        finally:
            manager.stopping("stopping: the jobs end, migrations in flight go on in libvirt")
            leadership.stop()
            if service_jobs is not None:
                service_jobs.shutdown(wait=False)
            _left(runtime.close(leave_migrations=True))

    app = create_app(ctx, lifespan=lifespan)
    app.state.leadership = leadership
    return app


def _register_local_host(ctx: ServiceContext, settings: Settings) -> None:
    """`register_local_host`: this machine's libvirt, registered on the first start. A
    failure is logged, and the daemon serves on (the next start tries again)."""
    if not settings.register_local_host:
        return
    uri = settings.local_host_uri
    try:
        view = hosts.register_local_host(ctx, uri)
    except VmpoolError as exc:
        log.error("the local host %s was not registered: %s", uri, exc.message)
        return
    if view is not None:
        log.info("registered the local host %s as %s (id %s)", uri, view.name, view.id)


def _left(migrations: list[int]) -> None:
    if migrations:
        log.info("left migrations %s running in libvirt: the next start follows them", migrations)


def serve(settings: Settings, host: str, port: int) -> None:
    """`vmpool serve`: the app under uvicorn, telling systemd (when it started the daemon
    with `Type=notify`) that it is ready, how it is, that it lives and that it stops."""
    import uvicorn

    manager = SystemdNotifier.from_environment()
    startup = StartupGate(manager, [service_status.LISTENING])
    app = build_app(settings, startup=startup)

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started and not self.should_exit:
                startup.met(service_status.LISTENING)

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if not self.should_exit:  # the first SIGTERM or SIGINT: a graceful stop
                manager.stopping(f"stopping ({signal.Signals(sig).name})")
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        app, host=host, port=port, log_level=settings.log_level.lower(),
        log_config=None,  # vmpool.logs configured the root logger; uvicorn's propagate to it
        access_log=False,  # one line per request is vmpool.access's (request id, route)
    )  # fmt: skip
    Server(config).run()
