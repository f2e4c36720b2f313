"""migration history outlives its hosts

A migration keeps the names of its source and target hosts; deleting a host sets its
id in finished migrations to NULL instead of being refused by the foreign key.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("migrations") as batch:
        batch.add_column(
            sa.Column("source_host_name", sa.String(length=63), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("target_host_name", sa.String(length=63), nullable=True))
        batch.alter_column("source_host_id", existing_type=sa.Integer(), nullable=True)
        for end in ("source", "target"):
            name = f"fk_migrations_{end}_host_id_hosts"
            batch.drop_constraint(name, type_="foreignkey")
            batch.create_foreign_key(name, "hosts", [f"{end}_host_id"], ["id"], ondelete="SET NULL")
    op.execute(
        "UPDATE migrations SET source_host_name = "
        "(SELECT name FROM hosts WHERE hosts.id = migrations.source_host_id)"
    )
    op.execute(
        "UPDATE migrations SET target_host_name = "
        "(SELECT name FROM hosts WHERE hosts.id = migrations.target_host_id) "
        "WHERE target_host_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DELETE FROM migrations WHERE source_host_id IS NULL")
    with op.batch_alter_table("migrations") as batch:
        for end in ("source", "target"):
            name = f"fk_migrations_{end}_host_id_hosts"
            batch.drop_constraint(name, type_="foreignkey")
            batch.create_foreign_key(name, "hosts", [f"{end}_host_id"], ["id"])
        batch.alter_column("source_host_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("target_host_name")
        batch.drop_column("source_host_name")
