"""Shared fixtures: databases (SQLite and a throwaway PostgreSQL)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.support.postgres import create_database, throwaway_postgres
from vmpool.adapters.db.engine import make_engine
from vmpool.adapters.db.migrations import upgrade

pytest_plugins = ["tests.support.fake_world"]  # the `world` fixture: vmpool on fake hosts

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    with throwaway_postgres() as url:
        yield url


def fresh_db_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'vmpool.db'}"
    admin: str = request.getfixturevalue("pg_admin_url")
    return create_database(admin, f"t{next(_db_counter)}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    return fresh_db_url(request.param, tmp_path, request)


@pytest.fixture
def migrated_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()
