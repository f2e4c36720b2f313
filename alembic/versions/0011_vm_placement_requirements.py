"""placement requirements kept with the VM

A VM's architecture and required traits, as asked for at create, so that migration,
evacuation and rebalance respect them. Existing VMs keep what is known (their domain type);
their other requirements were not recorded and stay empty.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vms") as batch:
        batch.add_column(sa.Column("arch", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("required_traits", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("vms") as batch:
        batch.drop_column("required_traits")
        batch.drop_column("arch")
