"""Alembic environment: `vmpool db upgrade` runs it from code, handing over a connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from vmpool.adapters.db.engine import make_engine
from vmpool.adapters.db.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    raise SystemExit("vmpool migrations run online only: use `vmpool db upgrade`")
run_migrations_online()
