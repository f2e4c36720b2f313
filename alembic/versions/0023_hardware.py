"""special hardware: dedicated CPUs, huge pages and NUMA, SGX, TPM, PCI passthrough, machine
type and hypervisor features (docs/hardware.md)

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_AUTOINC = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("hosts", table_kwargs=_AUTOINC) as batch:
        batch.add_column(sa.Column("cpu_dedicated_set", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("cpu_shared_set", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("hardware", sa.Text(), nullable=False, server_default="{}"))
    with op.batch_alter_table("vms", table_kwargs=_AUTOINC) as batch:
        batch.add_column(sa.Column("tpm", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("sgx_epc_mib", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("cpu_policy", sa.String(length=16), nullable=False, server_default="shared")
        )
        batch.add_column(sa.Column("hugepages", sa.String(length=4), nullable=True))
        batch.add_column(sa.Column("devices", sa.Text(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("machine", sa.String(length=64), nullable=True))
    op.create_table(
        "cpu_pins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "host_id", sa.Integer(), sa.ForeignKey("hosts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "vm_id", sa.Integer(), sa.ForeignKey("vms.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("vcpu", sa.Integer(), nullable=False),
        sa.Column("host_cpu", sa.Integer(), nullable=False),
        sa.Column("numa_cell", sa.Integer(), nullable=False),
        sa.UniqueConstraint("host_id", "host_cpu"),
    )
    op.create_index("ix_cpu_pins_host_id", "cpu_pins", ["host_id"])
    op.create_index("ix_cpu_pins_vm_id", "cpu_pins", ["vm_id"])
    op.create_table(
        "host_devices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "host_id", sa.Integer(), sa.ForeignKey("hosts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("address", sa.String(length=16), nullable=False),
        sa.Column("vendor_id", sa.String(length=6), nullable=False),
        sa.Column("product_id", sa.String(length=6), nullable=False),
        sa.Column("vendor", sa.String(length=255), nullable=False),
        sa.Column("product", sa.String(length=255), nullable=False),
        sa.Column("iommu_group", sa.Integer(), nullable=True),
        sa.Column("numa_node", sa.Integer(), nullable=True),
        sa.Column("alias", sa.String(length=63), nullable=True),
        sa.Column(
            "vm_id", sa.Integer(), sa.ForeignKey("vms.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("missing_since", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("host_id", "address"),
    )
    op.create_index("ix_host_devices_host_id", "host_devices", ["host_id"])
    op.create_index("ix_host_devices_alias", "host_devices", ["alias"])
    op.create_index("ix_host_devices_vm_id", "host_devices", ["vm_id"])


def downgrade() -> None:
    op.drop_table("host_devices")
    op.drop_table("cpu_pins")
    with op.batch_alter_table("vms", table_kwargs=_AUTOINC) as batch:
        for name in ("machine", "devices", "hugepages", "cpu_policy", "sgx_epc_mib", "tpm"):
            batch.drop_column(name)
    with op.batch_alter_table("hosts", table_kwargs=_AUTOINC) as batch:
        for name in ("hardware", "cpu_shared_set", "cpu_dedicated_set"):
            batch.drop_column(name)
