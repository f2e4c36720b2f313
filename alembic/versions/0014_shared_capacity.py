"""the size of a host's shared folder

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hosts") as batch:
        batch.add_column(sa.Column("shared_disk_gib", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hosts", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("shared_disk_gib")
