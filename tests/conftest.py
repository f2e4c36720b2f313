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


@pytest.fixture(scope="session")
def pg_migrated_template(pg_admin_url: str) -> str:
    """The name of a PostgreSQL database migrated to the head once in the session."""
    name = "migrated_template"
    engine = make_engine(create_database(pg_admin_url, name))
    upgrade(engine)
    engine.dispose()  # CREATE DATABASE ... TEMPLATE wants nobody connected to it
    return name


def migrated_db_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database at the head revision: a copy of one migrated once in this session
    (`migrated_sqlite`, `pg_migrated_template`), not the twenty migrations again for every
    test (0.5-1 s each time). The migrations themselves run from an empty database, and
    from a populated one, in tests/integration/test_db.py."""
    if kind == "sqlite":
        # (imported here: the plugin module is imported, and its asserts rewritten, by pytest)
        from tests.support.fake_world import copy_sqlite

        db = tmp_path / "vmpool.db"
        copy_sqlite(request.getfixturevalue("migrated_sqlite"), db)
        return f"sqlite:///{db}"
    admin: str = request.getfixturevalue("pg_admin_url")
    template: str = request.getfixturevalue("pg_migrated_template")
    return create_database(admin, f"t{next(_db_counter)}", template=template)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    """Each test that asks for a database runs once on SQLite and once on PostgreSQL."""
    kind: str = request.param
    return kind


@pytest.fixture
def db_url(db_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    return fresh_db_url(db_kind, tmp_path, request)


@pytest.fixture
def migrated_url(db_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at the head revision, once on SQLite and once on PostgreSQL."""
    return migrated_db_url(db_kind, tmp_path, request)


@pytest.fixture
def migrated_engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Seconds per test file (setup, call and teardown together), the slowest first: where
    the suite's time goes (docs/performance.md keeps it under 20 minutes)."""
    per_file: dict[str, float] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            nodeid = getattr(report, "nodeid", "")
            duration = getattr(report, "duration", None)
            if nodeid and isinstance(duration, float):
                path = nodeid.split("::", 1)[0]
                per_file[path] = per_file.get(path, 0.0) + duration
    if not per_file:
        return
    terminalreporter.write_sep("=", "seconds per test file")
    for path, seconds in sorted(per_file.items(), key=lambda kv: -kv[1])[:40]:
        terminalreporter.write_line(f"{seconds:8.1f}  {path}")
    terminalreporter.write_line(f"{sum(per_file.values()):8.1f}  all files")


# Fixtures that use the machine's one test lab (hosts, ports, the guest image cache): a test
# that asks for one must be marked `lab`, so that scripts/test.sh can run the lab tests in one
# process and every other test beside it in another, never two on the lab at once.
LAB_FIXTURES = frozenset({"lab", "tiny_image"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = [
        item.nodeid
        for item in items
        if LAB_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("lab") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "these tests use the lab but are not marked lab: " + ", ".join(unmarked[:10])
        )
