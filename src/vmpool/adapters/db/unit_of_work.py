"""The SQLAlchemy unit of work: one transaction per use case, rolled back unless committed."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import AbstractContextManager
from types import TracebackType

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from vmpool.adapters.db.engine import database_unavailable
from vmpool.adapters.db.host_devices import HostDeviceRepository
from vmpool.adapters.db.repositories import (
    DiskRepository,
    EventRepository,
    ForeignDomainRepository,
    HostRepository,
    IdempotencyRepository,
    ImageRepository,
    LeaseRepository,
    LoadRepository,
    MigrationRepository,
    NetworkRepository,
    NicRepository,
    PlacementGroupRepository,
    PlanRepository,
    PoolRepository,
    ProjectRepository,
    SnapshotRepository,
    TokenRepository,
    VmRepository,
)
from vmpool.errors import AlreadyExists, DatabaseUnavailable

log = logging.getLogger(__name__)

_UNAVAILABLE_LOG_EVERY_S = 5.0  # one warning per this long while the database is away
_last_warned = [0.0]
_warn_lock = threading.Lock()


def _unavailable(cause: BaseException) -> DatabaseUnavailable:
    """The one translation of "the database cannot be reached" into vmpool's error (the API
    answers it 503 with Retry-After; the jobs log it and run again at their next tick)."""
    now = time.monotonic()
    with _warn_lock:
        warn = now - _last_warned[0] >= _UNAVAILABLE_LOG_EVERY_S
        if warn:
            _last_warned[0] = now
    if warn:
        log.warning("the database cannot be reached: %s", str(cause).splitlines()[0][:300])
    return DatabaseUnavailable("the database cannot be reached right now; try again shortly")


class SqlAlchemyUnitOfWork:
    pools: PoolRepository
    hosts: HostRepository
    groups: PlacementGroupRepository
    migrations: MigrationRepository
    plans: PlanRepository
    load: LoadRepository
    vms: VmRepository
    foreign_domains: ForeignDomainRepository
    tokens: TokenRepository
    events: EventRepository
    leases: LeaseRepository
    images: ImageRepository
    disks: DiskRepository
    networks: NetworkRepository
    nics: NicRepository
    projects: ProjectRepository
    idempotency: IdempotencyRepository
    snapshots: SnapshotRepository

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        project_id: int | None = None,
        read_only: bool = False,
    ) -> None:
        self._factory = session_factory
        self._read_only = read_only  # a reader: never commits (see `read_only_engine`)
        self._session: Session | None = None
        # The project this unit of work acts in: its repositories see that project's rows
        # only (and what is shared); None sees every project.
        self.project_id = project_id

    @property
    def session(self) -> Session:
        assert self._session is not None, "unit of work used outside its `with` block"
        return self._session

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        self._session = self._factory()
        s = self._session
        self.pools = PoolRepository(s)
        self.hosts = HostRepository(s)
        p = self.project_id
        self.groups = PlacementGroupRepository(s, p)
        self.migrations = MigrationRepository(s, p)
        self.plans = PlanRepository(s)
        self.load = LoadRepository(s)
        self.vms = VmRepository(s, p)
        self.foreign_domains = ForeignDomainRepository(s)
        self.tokens = TokenRepository(s)
        self.events = EventRepository(s, p)
        self.leases = LeaseRepository(s)
        self.images = ImageRepository(s, p)
        self.disks = DiskRepository(s, p)
        self.networks = NetworkRepository(s, p)
        self.nics = NicRepository(s, p)
        self.projects = ProjectRepository(s, p)
        self.idempotency = IdempotencyRepository(s)
        self.snapshots = SnapshotRepository(s, p)
        self.host_devices = HostDeviceRepository(s)  # docs/hardware.md
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back what was not committed. A failure that says the database cannot be
        reached (the server down or restarting, a connection lost, the pool exhausted)
        leaves as `DatabaseUnavailable`, whichever use case met it."""
        try:
            self.session.rollback()
        except Exception as failed:
            if database_unavailable(failed):
                raise _unavailable(failed) from exc or failed
            raise
        finally:
            self.session.close()
            self._session = None
        if exc is not None and database_unavailable(exc):
            raise _unavailable(exc) from exc

    def commit(self) -> None:
        """Commit; a unique key a concurrent transaction took first is AlreadyExists."""
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        try:
            self.session.commit()
        except IntegrityError as exc:
            raise AlreadyExists("a concurrent change took the same key first") from exc

    def flush(self) -> None:
        """Send pending changes (ids assigned, defaults filled) without committing."""
        self.session.flush()

    def savepoint(self) -> AbstractContextManager[object]:
        """A nested transaction: what fails inside it is undone alone."""
        return self.session.begin_nested()

    def rollback(self) -> None:
        self.session.rollback()
