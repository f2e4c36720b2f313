"""Which database errors mean "the database cannot be reached" (503 database_unavailable,
temporary), and that the unit of work turns them into vmpool's error in one place."""

from __future__ import annotations

import socket
import sqlite3

import psycopg
import pytest
from psycopg import errors as pg
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from vmpool.adapters.db.engine import database_unavailable, make_engine, make_session_factory
from vmpool.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from vmpool.errors import DatabaseUnavailable


def _wrapped(orig: Exception, kind: type[sa_exc.DBAPIError] = sa_exc.OperationalError,
             invalidated: bool = False) -> sa_exc.DBAPIError:  # fmt: skip
    return kind("SELECT 1", {}, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    ("exc", "unavailable"),
    [
        (_wrapped(psycopg.OperationalError("connection refused")), True),  # no SQLSTATE
        (_wrapped(pg.AdminShutdown("terminating connection")), True),  # 57P01
        (_wrapped(pg.CannotConnectNow("the database system is starting up")), True),
        (_wrapped(pg.ConnectionFailure("connection failure")), True),  # class 08
        (
            _wrapped(psycopg.InterfaceError("the connection is closed"), sa_exc.InterfaceError),
            True,
        ),
        (_wrapped(pg.UniqueViolation("dup"), sa_exc.IntegrityError), False),
        (_wrapped(pg.SerializationFailure("retry"), sa_exc.OperationalError), False),
        (_wrapped(pg.QueryCanceled("statement timeout")), False),
        (_wrapped(psycopg.DatabaseError("lost"), sa_exc.DatabaseError, invalidated=True), True),
        (_wrapped(sqlite3.OperationalError("database is locked")), False),
        (sa_exc.TimeoutError("QueuePool limit reached"), True),
        (ValueError("not a database error"), False),
    ],
)
def test_errors_that_mean_the_database_cannot_be_reached(
    exc: BaseException, unavailable: bool
) -> None:
    assert database_unavailable(exc) is unavailable


def test_a_unit_of_work_on_a_server_that_is_not_there_fails_fast_as_database_unavailable() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    engine = make_engine(f"postgresql+psycopg://vmpool@127.0.0.1:{port}/vmpool")
    factory = make_session_factory(engine)
    try:
        with pytest.raises(DatabaseUnavailable) as caught, SqlAlchemyUnitOfWork(factory) as uow:
            uow.session.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    assert caught.value.status == 503 and caught.value.temporary
    assert caught.value.code == "database_unavailable" and caught.value.retry_after_s
    assert isinstance(caught.value.__cause__, sa_exc.OperationalError)


def test_other_database_errors_are_left_alone() -> None:
    engine = make_engine("sqlite://")
    factory = make_session_factory(engine)
    with pytest.raises(sa_exc.OperationalError), SqlAlchemyUnitOfWork(factory) as uow:
        uow.session.execute(text("SELECT * FROM no_such_table"))
    engine.dispose()
