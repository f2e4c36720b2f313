"""rebalance plans

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=63), nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("min_gain", sa.Float(), nullable=False),
        sa.Column("score_before", sa.Float(), nullable=False),
        sa.Column("score_after", sa.Float(), nullable=False),
        sa.Column("score_final", sa.Float(), nullable=True),
        sa.Column("components_before", sa.JSON(), nullable=False),
        sa.Column("components_after", sa.JSON(), nullable=False),
        sa.Column("empty_hosts", sa.JSON(), nullable=False),
        sa.Column("stopped_because", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=63), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name=op.f("fk_plans_pool_id_pools"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_pool_id"), ["pool_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plans_state"), ["state"], unique=False)

    op.create_table(
        "plan_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("vm_id", sa.Integer(), nullable=True),
        sa.Column("vm_name", sa.String(length=63), nullable=False),
        sa.Column("source_host_id", sa.Integer(), nullable=True),
        sa.Column("source_host", sa.String(length=63), nullable=False),
        sa.Column("target_host_id", sa.Integer(), nullable=True),
        sa.Column("target_host", sa.String(length=63), nullable=False),
        sa.Column("score_before", sa.Float(), nullable=False),
        sa.Column("score_after", sa.Float(), nullable=False),
        sa.Column("memory_mib", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("migration_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["migration_id"],
            ["migrations.id"],
            name=op.f("fk_plan_steps_migration_id_migrations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_steps_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_host_id"],
            ["hosts.id"],
            name=op.f("fk_plan_steps_source_host_id_hosts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_host_id"],
            ["hosts.id"],
            name=op.f("fk_plan_steps_target_host_id_hosts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["vm_id"], ["vms.id"], name=op.f("fk_plan_steps_vm_id_vms"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_steps")),
        sa.UniqueConstraint("plan_id", "seq", name=op.f("uq_plan_steps_plan_id")),
    )
    with op.batch_alter_table("plan_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_steps_plan_id"), ["plan_id"], unique=False)

    with op.batch_alter_table("pools", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "rebalance_mode",
                sa.String(length=16),
                nullable=False,
                server_default=sa.text("'off'"),
            )
        )
        batch_op.add_column(
            sa.Column(
                "rebalance_strategy",
                sa.String(length=16),
                nullable=False,
                server_default=sa.text("'balance'"),
            )
        )
        batch_op.add_column(
            sa.Column(
                "rebalance_interval_s", sa.Integer(), nullable=False, server_default=sa.text("300")
            )
        )
        batch_op.add_column(
            sa.Column(
                "rebalance_min_gain", sa.Float(), nullable=False, server_default=sa.text("0.01")
            )
        )
        batch_op.add_column(
            sa.Column(
                "rebalance_hysteresis_cycles",
                sa.Integer(),
                nullable=False,
                server_default=sa.text("3"),
            )
        )
        batch_op.add_column(
            sa.Column(
                "rebalance_cooldown_s", sa.Integer(), nullable=False, server_default=sa.text("1800")
            )
        )
        batch_op.add_column(
            sa.Column(
                "rebalance_max_moves", sa.Integer(), nullable=False, server_default=sa.text("5")
            )
        )
        batch_op.add_column(
            sa.Column("rebalance_streak", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(
            sa.Column("rebalance_last_run_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("rebalance_last_result", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pools", schema=None) as batch_op:
        batch_op.drop_column("rebalance_last_result")
        batch_op.drop_column("rebalance_last_run_at")
        batch_op.drop_column("rebalance_streak")
        batch_op.drop_column("rebalance_max_moves")
        batch_op.drop_column("rebalance_cooldown_s")
        batch_op.drop_column("rebalance_hysteresis_cycles")
        batch_op.drop_column("rebalance_min_gain")
        batch_op.drop_column("rebalance_interval_s")
        batch_op.drop_column("rebalance_strategy")
        batch_op.drop_column("rebalance_mode")

    with op.batch_alter_table("plan_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_steps_plan_id"))

    op.drop_table("plan_steps")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_state"))
        batch_op.drop_index(batch_op.f("ix_plans_pool_id"))

    op.drop_table("plans")
