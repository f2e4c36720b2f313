"""the VM's life: snapshots, hot-plug maxima, leases and reclaim, the idle rule

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_AUTOINC = {"sqlite_autoincrement": True}  # ids are never reused (a recreated table keeps it)


def upgrade() -> None:
    with op.batch_alter_table("projects", table_kwargs=_AUTOINC) as batch:
        batch.add_column(sa.Column("quota_snapshots", sa.Integer(), nullable=True))
    with op.batch_alter_table("pools", table_kwargs=_AUTOINC) as batch:
        batch.add_column(sa.Column("default_lease_s", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("max_lease_s", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "default_reclaim_policy", sa.String(length=24), nullable=False,
                server_default="stop",
            )
        )  # fmt: skip
        batch.add_column(sa.Column("idle_cpu_percent", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column("idle_period_s", sa.Integer(), nullable=False, server_default="3600")
        )
        batch.add_column(
            sa.Column("idle_action", sa.String(length=16), nullable=False, server_default="report")
        )
        batch.add_column(
            sa.Column("idle_warning_s", sa.Integer(), nullable=False, server_default="3600")
        )
    with op.batch_alter_table("vms", table_kwargs=_AUTOINC) as batch:
        batch.add_column(sa.Column("max_vcpus", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("max_memory_mib", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reclaim_policy", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("lease_warned_s", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("idle_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("idle_warned_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_vms_lease_expires_at", ["lease_expires_at"])
    # A VM made before hot-plug can grow no further than it is.
    op.execute("UPDATE vms SET max_vcpus = vcpus, max_memory_mib = memory_mib")
    with op.batch_alter_table("vms", table_kwargs=_AUTOINC) as batch:
        batch.alter_column("max_vcpus", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("max_memory_mib", existing_type=sa.Integer(), nullable=False)
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vm_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("libvirt_name", sa.String(length=63), nullable=False),
        sa.Column("with_memory", sa.Boolean(), nullable=False),
        sa.Column("size_gib", sa.Integer(), nullable=False),
        sa.Column("xml", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["vm_id"], ["vms.id"], name=op.f("fk_snapshots_vm_id_vms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshots")),
        sa.UniqueConstraint("libvirt_name", name=op.f("uq_snapshots_libvirt_name")),
        sa.UniqueConstraint("vm_id", "name", name=op.f("uq_snapshots_vm_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_snapshots_vm_id"), "snapshots", ["vm_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_snapshots_vm_id"), table_name="snapshots")
    op.drop_table("snapshots")
    with op.batch_alter_table("vms", table_kwargs=_AUTOINC) as batch:
        batch.drop_index("ix_vms_lease_expires_at")
        for column in (
            "idle_warned_at", "idle_since", "lease_warned_s", "reclaim_policy",
            "lease_expires_at", "max_memory_mib", "max_vcpus",
        ):  # fmt: skip
            batch.drop_column(column)
    with op.batch_alter_table("pools", table_kwargs=_AUTOINC) as batch:
        for column in (
            "idle_warning_s", "idle_action", "idle_period_s", "idle_cpu_percent",
            "default_reclaim_policy", "max_lease_s", "default_lease_s",
        ):  # fmt: skip
            batch.drop_column(column)
    with op.batch_alter_table("projects", table_kwargs=_AUTOINC) as batch:
        batch.drop_column("quota_snapshots")
