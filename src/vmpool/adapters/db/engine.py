"""Engines for SQLite (the embedded default) and PostgreSQL, and which of their errors mean
that the database cannot be reached right now."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

# PostgreSQL's SQLSTATEs of a server going away or not there yet: class 08 (connection
# exception), admin_shutdown, crash_shutdown, cannot_connect_now (starting or stopping).
_GONE_CLASSES = ("08",)
_GONE_STATES = {"57P01", "57P02", "57P03"}


def make_engine(
    url: str, *, connect_timeout_s: int = 3, pool_timeout_s: float = 10.0, **kwargs: Any
) -> Engine:
    """On PostgreSQL a server that is down makes a request fail within `connect_timeout_s`
    (refused at once, or no answer), and a request waits at most `pool_timeout_s` for a
    connection of the pool; connections that died with the server are found at checkout
    (pre-ping) and replaced, so nothing needs restarting once the server is back. The
    `connect_args` given are passed to psycopg over these."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, **kwargs)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    connect_args: dict[str, Any] = {
        "connect_timeout": max(1, int(connect_timeout_s)),
        # A server that vanished without closing its connections (a network cut, a host
        # powered off): TCP keepalives find an idle one dead within ~11 s, and data left
        # unacknowledged for 10 s ends one in use, instead of the kernel's minutes.
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 3,
        "tcp_user_timeout": 10_000,
    }
    connect_args.update(kwargs.pop("connect_args", {}))
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_timeout=pool_timeout_s,
        connect_args=connect_args,
        **kwargs,
    )


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (and a later try may succeed), as
    opposed to a query that failed on a live server (a bug, a constraint)."""
    if isinstance(exc, sa_exc.TimeoutError):  # no connection of the pool free in time
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True  # SQLAlchemy saw a disconnect and dropped the connection
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        # psycopg's errors carry a SQLSTATE (None: no server answered: refused, timed out,
        # closed); SQLite's have none at all and are not about reaching a server.
        state = getattr(exc.orig, "sqlstate", False)
        if state is None:
            return True
        return isinstance(state, str) and (state[:2] in _GONE_CLASSES or state in _GONE_STATES)
    return False


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

    # pysqlite's own transaction handling defers BEGIN and cannot take the write
    # lock up front. A vmpool transaction writes, and capacity claims need the
    # read of current allocations to happen under the lock: BEGIN IMMEDIATE. Only a
    # read-only one (`read_only_engine`: it never writes) begins deferred, as a reader
    # that waits for no writer (WAL).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


_READ_ONLY = "vmpool_read_only"


def read_only_engine(engine: Engine) -> Engine:
    """The same engine (and pool) for transactions that only read: on SQLite they take no
    write lock, so they neither wait for the writer nor hold up other writers."""
    return engine.execution_options(**{_READ_ONLY: True})
