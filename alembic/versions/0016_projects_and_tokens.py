"""projects (tenants) and quotas; ownership of VMs, groups, images and networks; tokens with a
project, an expiry, revocation and last use; audit events with project and request id; pool
settings for encrypted migration and member migrations; a host's peer URI

Every VM and placement group that exists goes to the project "default" (id 1).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Tables whose rows SQLite rebuilds for a foreign key: keep their AUTOINCREMENT (0009).
_AUTOINC = {"sqlite_autoincrement": True}


def _owned(table: str, nullable: bool) -> None:
    with op.batch_alter_table(table, table_kwargs=_AUTOINC if table != "api_tokens" else {}) as b:
        b.add_column(
            sa.Column(
                "project_id", sa.Integer(), nullable=nullable,
                server_default=None if nullable else "1",
            )
        )  # fmt: skip
        b.create_index(b.f(f"ix_{table}_project_id"), ["project_id"], unique=False)
        b.create_foreign_key(
            b.f(f"fk_{table}_project_id_projects"), "projects", ["project_id"], ["id"]
        )


def upgrade() -> None:
    projects = op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("quota_vcpus", sa.Integer(), nullable=True),
        sa.Column("quota_memory_mib", sa.Integer(), nullable=True),
        sa.Column("quota_disk_gib", sa.Integer(), nullable=True),
        sa.Column("quota_vms", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
        sqlite_autoincrement=True,
    )
    op.bulk_insert(
        projects,
        [{"id": 1, "name": "default", "description": "VMs made before projects existed",
          "created_at": datetime.now(UTC)}],
    )  # fmt: skip
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval('projects_id_seq', 1)")
    _owned("vms", nullable=False)
    _owned("placement_groups", nullable=False)
    _owned("images", nullable=True)
    _owned("networks", nullable=True)
    _owned("api_tokens", nullable=True)
    with op.batch_alter_table("api_tokens") as b:
        b.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        b.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("events", table_kwargs=_AUTOINC) as b:
        b.add_column(sa.Column("project_id", sa.Integer(), nullable=True))
        b.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
        b.create_index(b.f("ix_events_project_id"), ["project_id"], unique=False)
        b.create_index(b.f("ix_events_request_id"), ["request_id"], unique=False)
    with op.batch_alter_table("pools", table_kwargs=_AUTOINC) as b:
        b.add_column(
            sa.Column("migration_tls", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        b.add_column(
            sa.Column(
                "members_may_migrate", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("hosts", table_kwargs=_AUTOINC) as b:
        b.add_column(sa.Column("peer_uri", sa.String(length=512), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hosts", table_kwargs=_AUTOINC) as b:
        b.drop_column("peer_uri")
    with op.batch_alter_table("pools", table_kwargs=_AUTOINC) as b:
        b.drop_column("members_may_migrate")
        b.drop_column("migration_tls")
    with op.batch_alter_table("events", table_kwargs=_AUTOINC) as b:
        b.drop_index(b.f("ix_events_request_id"))
        b.drop_index(b.f("ix_events_project_id"))
        b.drop_column("request_id")
        b.drop_column("project_id")
    with op.batch_alter_table("api_tokens") as b:
        b.drop_column("last_used_at")
        b.drop_column("revoked_at")
        b.drop_column("expires_at")
    for table in ("api_tokens", "networks", "images", "placement_groups", "vms"):
        with op.batch_alter_table(
            table, table_kwargs=_AUTOINC if table != "api_tokens" else {}
        ) as b:
            b.drop_constraint(b.f(f"fk_{table}_project_id_projects"), type_="foreignkey")
            b.drop_index(b.f(f"ix_{table}_project_id"))
            b.drop_column("project_id")
    op.drop_table("projects")
