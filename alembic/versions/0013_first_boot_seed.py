"""a VM's first-boot seed volume

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vms") as batch:
        batch.add_column(sa.Column("seed_path", sa.String(length=512), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vms", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("seed_path")
