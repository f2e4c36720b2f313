"""Alembic, driven from code: upgrade, and the start-up check of the schema revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from vmpool.errors import SchemaMismatch


def _script_location() -> Path:
    here = Path(__file__).resolve()
    packaged = here.parents[2] / "_alembic"  # inside an installed wheel
    if packaged.is_dir():
        return packaged
    return here.parents[4] / "alembic"  # a source checkout (editable install)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_script_location()))
    # ConfigParser interpolation would eat '%' in passwords.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Alembic's batch mode recreates a table to change it: it drops the old one, and
            # with foreign keys on, that drop would fire the ON DELETE actions (CASCADE,
            # SET NULL) of every row referring to it. Off for the migration (outside any
            # transaction, or SQLite ignores it), checked before commit, on again after.
            _sqlite_pragma(conn, "foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise SchemaMismatch(
                            f"the migration would leave broken references: {broken[:5]}"
                        )
        finally:
            if sqlite:
                _sqlite_pragma(conn, "foreign_keys=ON")


def _sqlite_pragma(conn: Connection, pragma: str) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA {pragma}")


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_schema(engine: Engine) -> None:
    """Refuse to run on a schema that is not exactly the one this code expects."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known = {rev.revision for rev in script.walk_revisions()}
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise SchemaMismatch(
            f"the database {where} has no vmpool schema yet: run `vmpool db upgrade` first",
            current=None,
            expected=head,
        )
    if current not in known:
        raise SchemaMismatch(
            f"the database {where} is at schema revision {current}, which this vmpool does not "
            "know: it was migrated by a newer vmpool. Upgrade vmpool, or restore a matching "
            "backup.",
            current=current,
            expected=head,
        )
    raise SchemaMismatch(
        f"the database {where} is at schema revision {current}, older than this vmpool's {head}: "
        "run `vmpool db upgrade`",
        current=current,
        expected=head,
    )
