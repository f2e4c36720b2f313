"""a project's lease defaults: its VMs' lease and reclaim policy before the pool's

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_AUTOINC = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("projects", table_kwargs=_AUTOINC) as batch:
        batch.add_column(sa.Column("default_lease_s", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("default_reclaim_policy", sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects", table_kwargs=_AUTOINC) as batch:
        batch.drop_column("default_reclaim_policy")
        batch.drop_column("default_lease_s")
