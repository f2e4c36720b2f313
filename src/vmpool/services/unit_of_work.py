"""What services need to run a use case: a unit-of-work factory and the hypervisor connector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from vmpool.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from vmpool.domain.host_uri import HostUriPolicy
from vmpool.domain.model import DomainType
from vmpool.domain.ports import (
    FenceAgent,
    HypervisorConnector,
    ImageCatalog,
    ImageStore,
    Metrics,
    MigrationQueue,
    NoMetrics,
    TokenVerifier,
)

UnitOfWork = SqlAlchemyUnitOfWork
UowFactory = Callable[[], SqlAlchemyUnitOfWork]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServiceContext:
    """The collaborators every service function takes, wired once in `vmpool.wiring`."""

    uow: UowFactory
    hypervisors: HypervisorConnector
    images: ImageCatalog
    # None: each host runs what it can (kvm where available, else qemu/TCG).
    domain_type: DomainType | None = None
    serial_log_dir: str | None = None
    # A transitional state older than this is settled by the sync from what the host says.
    stale_intent_s: float = 120.0
    migration_queue: MigrationQueue | None = None
    default_local_disk_path: str = "/var/lib/libvirt/images/vmpool"
    metrics_window_s: float = 60.0
    host_uri_policy: HostUriPolicy = field(default_factory=HostUriPolicy)
    image_store: ImageStore | None = None
    max_image_bytes: int = 64 * 2**30
    mac_prefix: str = "52:54:00"  # of the MAC addresses vmpool hands out (QEMU's)
    token_default_ttl_s: int = 90 * 86_400
    token_max_ttl_s: int = 366 * 86_400
    jwt: TokenVerifier | None = None  # OIDC/JWT bearer tokens, if configured
    # Runs hosts' fence commands; a host with one that has not answered this long is fenced.
    fencer: FenceAgent | None = None
    fence_after_s: float = 60.0
    # Replicas on one PostgreSQL: raises Fenced unless this daemon is still the elected
    # leader (checked in the transactions that start or settle a migration or a plan step).
    fence: Callable[[SqlAlchemyUnitOfWork], None] | None = None
    # Units of work that only read (never commit): on SQLite they take no write lock.
    # None: `uow` serves reads too.
    reader: UowFactory | None = None
    # What this process measures as it runs (placement, cycles, migrations, job lag).
    metrics: Metrics = field(default_factory=NoMetrics)

    def read_uow(self) -> SqlAlchemyUnitOfWork:
        """A unit of work for reading only: it cannot commit."""
        return (self.reader or self.uow)()

    def check_leader(self, uow: SqlAlchemyUnitOfWork) -> None:
        if self.fence is not None:
            self.fence(uow)

    clock: Clock = utc_now
    # The project the caller acts in (a member's or reader's token): every unit of work of
    # this context sees that project's rows only; None (admins, jobs): every project.
    project_id: int | None = None

    def in_project(self, project_id: int | None) -> ServiceContext:
        """This context, acting in `project_id` only (None: every project)."""
        if project_id == self.project_id:
            return self
        make, make_reader = self.uow, self.reader

        def scoped() -> SqlAlchemyUnitOfWork:
            uow = make()
            uow.project_id = project_id
            return uow

        def scoped_reader() -> SqlAlchemyUnitOfWork:
            assert make_reader is not None
            uow = make_reader()
            uow.project_id = project_id
            return uow

        reader = scoped_reader if make_reader is not None else None
        return replace(self, uow=scoped, reader=reader, project_id=project_id)
