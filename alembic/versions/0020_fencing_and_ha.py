"""fencing of failed hosts and HA restart of their VMs

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_AUTOINC = {"sqlite_autoincrement": True}  # ids are never reused (a recreated table keeps it)


def upgrade() -> None:
    with op.batch_alter_table("hosts", table_kwargs=_AUTOINC) as batch:
        batch.add_column(sa.Column("fenced_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("fenced_by", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("fence_command", sa.Text(), nullable=True))
    with op.batch_alter_table("vms", table_kwargs=_AUTOINC) as batch:
        batch.add_column(sa.Column("ha", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("lost_state", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("kernel_args", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("vms", table_kwargs=_AUTOINC) as batch:
        batch.drop_column("kernel_args")
        batch.drop_column("lost_state")
        batch.drop_column("ha")
    with op.batch_alter_table("hosts", table_kwargs=_AUTOINC) as batch:
        batch.drop_column("fence_command")
        batch.drop_column("fenced_by")
        batch.drop_column("fenced_at")
