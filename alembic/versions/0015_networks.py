"""networks, the networks each host offers, and NICs

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "networks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("bridge", sa.String(length=15), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("ipv4_cidr", sa.String(length=18), nullable=True),
        sa.Column("ipv4_gateway", sa.String(length=15), nullable=True),
        sa.Column("ipv6_cidr", sa.String(length=43), nullable=True),
        sa.Column("ipv6_gateway", sa.String(length=39), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_networks")),
        sa.UniqueConstraint("name", name=op.f("uq_networks_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "host_networks",
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["host_id"], ["hosts.id"], name=op.f("fk_host_networks_host_id_hosts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["network_id"], ["networks.id"], name=op.f("fk_host_networks_network_id_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("host_id", "network_id", name=op.f("pk_host_networks")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_host_networks_network_id"), "host_networks", ["network_id"], unique=False
    )
    op.create_table(
        "nics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vm_id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("mac", sa.String(length=17), nullable=False),
        sa.Column("model", sa.String(length=16), nullable=False),
        sa.Column("ipv4", sa.String(length=15), nullable=True),
        sa.Column("ipv6", sa.String(length=39), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["vm_id"], ["vms.id"], name=op.f("fk_nics_vm_id_vms")),
        sa.ForeignKeyConstraint(
            ["network_id"], ["networks.id"], name=op.f("fk_nics_network_id_networks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nics")),
        sa.UniqueConstraint("mac", name=op.f("uq_nics_mac")),
        sa.UniqueConstraint("network_id", "ipv4", name="uq_nics_network_id_ipv4"),
        sa.UniqueConstraint("network_id", "ipv6", name="uq_nics_network_id_ipv6"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_nics_vm_id"), "nics", ["vm_id"], unique=False)
    op.create_index(op.f("ix_nics_network_id"), "nics", ["network_id"], unique=False)


def downgrade() -> None:
    op.drop_table("nics")
    op.drop_table("host_networks")
    op.drop_table("networks")
