"""disk images and data disks

The image catalog (`images`, and `image_copies`: where each image is present), a VM's
boot image (`vms.image_id`), and data disks (`disks`).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), server_default="", nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("virtual_size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), server_default="", nullable=False),
        sa.Column("created_by", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
        sa.UniqueConstraint("name", name=op.f("uq_images_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "image_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["hosts.id"],
            name=op.f("fk_image_copies_host_id_hosts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name=op.f("fk_image_copies_image_id_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_copies")),
        sa.UniqueConstraint("image_id", "host_id", name=op.f("uq_image_copies_image_id")),
    )
    op.create_index(op.f("ix_image_copies_host_id"), "image_copies", ["host_id"], unique=False)
    op.create_table(
        "disks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vm_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=8), nullable=False),
        sa.Column("size_gib", sa.Integer(), nullable=False),
        sa.Column("storage", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["vm_id"], ["vms.id"], name=op.f("fk_disks_vm_id_vms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disks")),
        sa.UniqueConstraint("vm_id", "target", name=op.f("uq_disks_vm_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_disks_vm_id"), "disks", ["vm_id"], unique=False)
    # SQLite rebuilds the table for the foreign key: keep its AUTOINCREMENT (0009).
    with op.batch_alter_table("vms", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("image_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_vms_image_id"), ["image_id"], unique=False)
        batch.create_foreign_key(batch.f("fk_vms_image_id_images"), "images", ["image_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("vms", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint(batch.f("fk_vms_image_id_images"), type_="foreignkey")
        batch.drop_index(batch.f("ix_vms_image_id"))
        batch.drop_column("image_id")
    op.drop_index(op.f("ix_disks_vm_id"), table_name="disks")
    op.drop_table("disks")
    op.drop_index(op.f("ix_image_copies_host_id"), table_name="image_copies")
    op.drop_table("image_copies")
    op.drop_table("images")
