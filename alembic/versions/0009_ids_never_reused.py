"""ids never reused on SQLite

SQLite gives a new row max(id) + 1 unless the table is declared AUTOINCREMENT, so the id
of the newest VM (migration, host, ...) came back after it was deleted. The tables whose
ids the API shows are rebuilt with AUTOINCREMENT. PostgreSQL's sequences never go back.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("pools", "hosts", "vms", "placement_groups", "migrations", "plans", "events")


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
