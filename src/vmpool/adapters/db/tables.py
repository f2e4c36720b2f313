"""The relational mapping. A row class persists a domain entity (`Vm`, `Migration`, `Plan`,
`PlanStep`, `Host`): the entity brings its states and rules, the row adds the columns.
Other rows are plain records. A new row starts in its entity's initial state."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from vmpool.domain.disk import Disk
from vmpool.domain.host import Host
from vmpool.domain.images import Image
from vmpool.domain.migration import Migration
from vmpool.domain.network import Nic
from vmpool.domain.plan import Plan, PlanStep
from vmpool.domain.snapshot import Snapshot
from vmpool.domain.vm import Vm

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite hands back naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite reuses the id of the newest row once it is deleted (a table without AUTOINCREMENT
# takes max(id) + 1). A client, a retry or vmpool's own final step holding an old id would
# then act on another row. PostgreSQL's sequences never go back.
NO_ID_REUSE = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), dict[str, Any]: JSON}


class Stateful:
    """A new entity row starts in its entity's `INITIAL` state, unless one is given."""

    def __init__(self, **kw: Any) -> None:
        initial: enum.StrEnum = self.INITIAL  # type: ignore[attr-defined]  # from the entity
        kw.setdefault("state", initial.value)
        super().__init__(**kw)


class ProjectRow(Base):
    """A tenant: it owns VMs, placement groups and (unless shared) images and networks, within
    its quotas (None: no limit)."""

    __tablename__ = "projects"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    quota_vcpus: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quota_memory_mib: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quota_disk_gib: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quota_vms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The snapshots its VMs may hold together (None: no limit).
    quota_snapshots: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Its VMs' lease and reclaim policy when they name none, before their pool's (None: the
    # pool's): docs/lifecycle.md#leases-and-reclaim.
    default_lease_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    default_reclaim_policy: Mapped[str | None] = mapped_column(String(24), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped when a field of REVISED changes (`_bump_revision`): the API's ETag.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    REVISED: ClassVar[frozenset[str]] = frozenset(
        {"description", "quota_vcpus", "quota_memory_mib", "quota_disk_gib", "quota_vms",
         "quota_snapshots", "default_lease_s", "default_reclaim_policy"}
    )  # fmt: skip


DEFAULT_PROJECT_ID = 1  # made by the schema migration; every VM before projects is in it


class PoolRow(Base):
    __tablename__ = "pools"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    cpu_allocation_ratio: Mapped[float] = mapped_column(Float, default=4.0)
    ram_allocation_ratio: Mapped[float] = mapped_column(Float, default=1.0)
    disk_allocation_ratio: Mapped[float] = mapped_column(Float, default=1.0)
    reserved_vcpus: Mapped[int] = mapped_column(Integer, default=0)
    reserved_memory_mib: Mapped[int] = mapped_column(Integer, default=512)
    reserved_disk_gib: Mapped[int] = mapped_column(Integer, default=0)
    strategy: Mapped[str] = mapped_column(String(16), default="spread")
    # Concurrent live migrations: per host out and in (Nova's default is 1), and per pool.
    max_migrations_out_per_host: Mapped[int] = mapped_column(Integer, default=1)
    max_migrations_in_per_host: Mapped[int] = mapped_column(Integer, default=1)
    max_migrations_per_pool: Mapped[int] = mapped_column(Integer, default=4)
    # The scheduling loop (docs/rebalance.md): off | recommend | auto.
    rebalance_mode: Mapped[str] = mapped_column(String(16), default="off")
    rebalance_strategy: Mapped[str] = mapped_column(String(16), default="balance")
    rebalance_interval_s: Mapped[int] = mapped_column(Integer, default=300)
    rebalance_min_gain: Mapped[float] = mapped_column(Float, default=0.01)
    rebalance_hysteresis_cycles: Mapped[int] = mapped_column(Integer, default=3)
    rebalance_cooldown_s: Mapped[int] = mapped_column(Integer, default=1800)
    rebalance_max_moves: Mapped[int] = mapped_column(Integer, default=5)
    # The memory a plan may copy, in MiB; 0: no memory budget (only the move budget).
    rebalance_max_memory_mib: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Loop state: consecutive cycles that found an improving plan, and the last outcome.
    rebalance_streak: Mapped[int] = mapped_column(Integer, default=0)
    rebalance_last_run_at: Mapped[datetime | None] = mapped_column(nullable=True)
    rebalance_last_result: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Migration data encrypted by QEMU (VIR_MIGRATE_TLS): needs TLS certificates on the hosts.
    migration_tls: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Whether project members may ask for a migration of their VMs (never to a chosen host).
    members_may_migrate: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Leases (docs/lifecycle.md): the lease a new VM gets unless it asks for its own (None:
    # none), the longest a lease may reach from now (None: no limit), and the reclaim policy
    # a VM gets unless it names one: stop | delete | snapshot_then_delete.
    default_lease_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_lease_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    default_reclaim_policy: Mapped[str] = mapped_column(
        String(24), default="stop", server_default="stop"
    )
    # The idle rule: a running VM whose measured CPU stays under idle_cpu_percent (None: no
    # rule) for idle_period_s is idle; idle_action report only shows it, reclaim applies its
    # reclaim policy idle_warning_s after a warning event.
    idle_cpu_percent: Mapped[float | None] = mapped_column(Float, nullable=True)
    idle_period_s: Mapped[int] = mapped_column(Integer, default=3600, server_default="3600")
    idle_action: Mapped[str] = mapped_column(String(16), default="report", server_default="report")
    idle_warning_s: Mapped[int] = mapped_column(Integer, default=3600, server_default="3600")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Bumped when a field of REVISED changes (`_bump_revision`): the API's ETag.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    # The allocation policy (PATCH); not the loop's own state (streak, last run).
    REVISED: ClassVar[frozenset[str]] = frozenset(
        {
            "cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio",
            "reserved_vcpus", "reserved_memory_mib", "reserved_disk_gib", "strategy",
            "max_migrations_out_per_host", "max_migrations_in_per_host",
            "max_migrations_per_pool", "rebalance_mode", "rebalance_strategy",
            "rebalance_interval_s", "rebalance_min_gain", "rebalance_hysteresis_cycles",
            "rebalance_cooldown_s", "rebalance_max_moves", "rebalance_max_memory_mib",
            "migration_tls", "members_may_migrate", "default_lease_s", "max_lease_s",
            "default_reclaim_policy", "idle_cpu_percent", "idle_period_s", "idle_action",
            "idle_warning_s",
        }
    )  # fmt: skip


class HostRow(Stateful, Base, Host):
    __tablename__ = "hosts"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"), index=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    uri: Mapped[str] = mapped_column(String(512), unique=True)
    host_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    hostname: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(16), default="up")
    arch: Mapped[str] = mapped_column(String(32), default="x86_64")
    cpus: Mapped[int] = mapped_column(Integer, default=0)
    memory_mib: Mapped[int] = mapped_column(Integer, default=0)
    disk_gib: Mapped[int] = mapped_column(Integer, default=0)
    # The size of the file system holding its shared folder, if it has one (all the pool's
    # hosts mount the same one): what shared disks of the pool may take.
    shared_disk_gib: Mapped[int | None] = mapped_column(Integer, nullable=True)
    domain_types: Mapped[str] = mapped_column(String(32), default="qemu")
    traits: Mapped[str] = mapped_column(Text, default="")
    cpu_model: Mapped[str] = mapped_column(String(128), default="")
    libvirt_version: Mapped[str] = mapped_column(String(32), default="")
    hypervisor_version: Mapped[str] = mapped_column(String(32), default="")
    cpu_allocation_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    ram_allocation_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    disk_allocation_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    reserved_vcpus: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reserved_memory_mib: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Traits an operator sets (e.g. gpu:a100), on top of those discovered from libvirt.
    operator_traits: Mapped[str] = mapped_column(Text, default="")
    # Where migration data to this host goes (tcp://ADDRESS); the URI's host when unset.
    migration_address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The URI other hosts reach this one at for peer-to-peer migration, if not `uri`
    # (e.g. a TLS name on the migration network).
    peer_uri: Mapped[str | None] = mapped_column(String(512), nullable=True)
    # Folders for VM disks on this host: local (private to it) and shared (seen by all
    # hosts that set the same path, as an NFS mount would be). None: the default / none.
    local_disk_path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    shared_disk_path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    maintenance_since: Mapped[datetime | None] = mapped_column(nullable=True)
    # Fencing: when and how (operator | command) it was known to be off; the command that
    # powers it off (a JSON argv, run by the leader once it has not answered fence_after_s).
    fenced_at: Mapped[datetime | None] = mapped_column(nullable=True)
    fenced_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    fence_command: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Dedicated CPUs (docs/hardware.md): the operator's split of the host's CPUs, as Nova's
    # cpu_dedicated_set / cpu_shared_set ("2-7,^4"); None: no CPU is for dedicated VMs.
    cpu_dedicated_set: Mapped[str | None] = mapped_column(String(255), nullable=True)
    cpu_shared_set: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # What libvirt reports beyond its size (domain/hardware.py HostHardware, as JSON): NUMA
    # cells and huge pages, SGX EPC, machine types, its driver's features.
    hardware: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    # Reachability, with backoff: when to try an unreachable host again.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_check_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped when a field of REVISED changes (`_bump_revision`): the API's ETag.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    # What an operator sets (PATCH); not what the sync writes every few seconds (state,
    # last_seen_at, inventory, reachability).
    REVISED: ClassVar[frozenset[str]] = frozenset(
        {
            "pool_id", "name", "uri", "cpu_allocation_ratio", "ram_allocation_ratio",
            "disk_allocation_ratio", "reserved_vcpus", "reserved_memory_mib",
            "operator_traits", "migration_address", "peer_uri", "local_disk_path",
            "shared_disk_path", "fence_command", "cpu_dedicated_set", "cpu_shared_set",
        }
    )  # fmt: skip
    # What the host itself reports (`HostInventory`), written by registration and the sync.
    INVENTORY: ClassVar[tuple[str, ...]] = (
        "host_uuid", "hostname", "arch", "cpus", "memory_mib", "domain_types", "traits",
        "cpu_model", "libvirt_version", "hypervisor_version", "hardware",
    )  # fmt: skip

    foreign_domains: Mapped[list[ForeignDomainRow]] = relationship(
        back_populates="host", cascade="all, delete-orphan", order_by="ForeignDomainRow.name"
    )


class VmRow(Stateful, Base, Vm):
    __tablename__ = "vms"
    # Covers the per-host claim sums that every placement reads (HostRepository.allocations).
    __table_args__ = (
        Index(
            "ix_vms_claims", "pool_id", "host_id", "guaranteed", "vcpus", "memory_mib", "disk_gib"
        ),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id"), index=True, default=DEFAULT_PROJECT_ID
    )
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"), index=True)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("hosts.id"), index=True, nullable=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    # The current sizes, which its host's claim counts; hot-plug changes them live within
    # the maxima set at create (the domain's `<vcpu>` and `<memory>`).
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mib: Mapped[int] = mapped_column(Integer)
    max_vcpus: Mapped[int] = mapped_column(Integer)
    max_memory_mib: Mapped[int] = mapped_column(Integer)
    disk_gib: Mapped[int] = mapped_column(Integer, default=0)
    image: Mapped[str | None] = mapped_column(String(63), nullable=True)
    # Dedicated resources: vCPUs and memory count at ratio 1.0 whatever the pool's ratios.
    guaranteed: Mapped[bool] = mapped_column(Boolean, default=False)
    migratable: Mapped[bool] = mapped_column(Boolean, default=True)
    disk_storage: Mapped[str | None] = mapped_column(String(8), nullable=True)  # local | shared
    # High availability: started on another host when its host fails and is fenced.
    ha: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    lost_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The kernel command line asked for at create (a JSON list), to define it again elsewhere.
    kernel_args: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    disk_path: Mapped[str | None] = mapped_column(String(512), nullable=True)
    # The first-boot seed volume (cloud-init NoCloud ISO) on the VM's host, if it has one.
    seed_path: Mapped[str | None] = mapped_column(String(512), nullable=True)
    placement_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("placement_groups.id"), index=True, nullable=True
    )
    domain_type: Mapped[str] = mapped_column(String(8), default="qemu")
    # Placement requirements asked for at create, kept for every later move (migration,
    # evacuation, rebalance): architecture and required traits (a comma list); a kvm_only VM
    # is one whose domain_type is kvm. The `hosts` asked for at create choose the first host
    # only, as Nova's forced hosts do (reset for later moves).
    arch: Mapped[str | None] = mapped_column(String(32), nullable=True)
    required_traits: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The catalog image the boot disk is an overlay of (its backing file); an image a VM
    # uses cannot be deleted.
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"), index=True, nullable=True)
    # Its lease (None: none): the reclaim job applies reclaim_policy once it has expired;
    # lease_warned_s is the smallest "expires in" warning already given (seconds before).
    lease_expires_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    reclaim_policy: Mapped[str | None] = mapped_column(String(24), nullable=True)
    lease_warned_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The pool's idle rule: since when its measured CPU stays under the threshold (None: not
    # idle), and when it was warned that it will be reclaimed for it.
    idle_since: Mapped[datetime | None] = mapped_column(nullable=True)
    idle_warned_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Special hardware asked for at create (docs/hardware.md), kept for every later move.
    tpm: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sgx_epc_mib: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cpu_policy: Mapped[str] = mapped_column(String(16), default="shared", server_default="shared")
    hugepages: Mapped[str | None] = mapped_column(String(4), nullable=True)  # 2M | 1G
    # Assignable devices asked for (a JSON list of {"alias", "count"}); host_devices holds
    # the ones it got.
    devices: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    # The machine type it was defined with (from its host's domain capabilities).
    machine: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    host: Mapped[HostRow | None] = relationship()
    placement_group: Mapped[PlacementGroupRow | None] = relationship()

    def __init__(self, **kw: Any) -> None:
        # A VM that names no maximum can grow no further than it starts.
        kw.setdefault("max_vcpus", kw.get("vcpus"))
        kw.setdefault("max_memory_mib", kw.get("memory_mib"))
        super().__init__(**kw)

    # Loaded with the VM (one more query for a whole list): a VM's view shows its NICs.
    nics: Mapped[list[NicRow]] = relationship(order_by="NicRow.id", lazy="selectin", viewonly=True)


class CpuPinRow(Base):
    """A host CPU given to a dedicated VM's vCPU (docs/hardware.md): one row per CPU, so that
    the database itself refuses to give one CPU twice. A VM being migrated holds its target's
    CPUs too, recorded before the move."""

    __tablename__ = "cpu_pins"
    __table_args__ = (UniqueConstraint("host_id", "host_cpu"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    vm_id: Mapped[int] = mapped_column(ForeignKey("vms.id", ondelete="CASCADE"), index=True)
    vcpu: Mapped[int] = mapped_column(Integer)
    host_cpu: Mapped[int] = mapped_column(Integer)
    numa_cell: Mapped[int] = mapped_column(Integer, default=0)


class HostDeviceRow(Base):
    """A PCI device of a host (libvirt's node device API), assignable once an operator gives
    it an alias; `vm_id` is the VM it is claimed by."""

    __tablename__ = "host_devices"
    __table_args__ = (UniqueConstraint("host_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(16))  # 0000:01:00.0
    vendor_id: Mapped[str] = mapped_column(String(6))
    product_id: Mapped[str] = mapped_column(String(6))
    vendor: Mapped[str] = mapped_column(String(255), default="")
    product: Mapped[str] = mapped_column(String(255), default="")
    iommu_group: Mapped[int | None] = mapped_column(Integer, nullable=True)
    numa_node: Mapped[int | None] = mapped_column(Integer, nullable=True)
    alias: Mapped[str | None] = mapped_column(String(63), nullable=True, index=True)
    vm_id: Mapped[int | None] = mapped_column(
        ForeignKey("vms.id", ondelete="SET NULL"), index=True, nullable=True
    )
    # Gone from the host's inventory since (kept while a VM holds it).
    missing_since: Mapped[datetime | None] = mapped_column(nullable=True)


class ImageRow(Stateful, Base, Image):
    """A disk image of the catalog; its bytes are kept in the daemon's image store and
    copied to each host's storage as VMs need them (`ImageCopyRow`)."""

    __tablename__ = "images"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: shared by an admin with every project; else the project's own.
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id"), index=True, nullable=True
    )
    name: Mapped[str] = mapped_column(String(63), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    format: Mapped[str] = mapped_column(String(8), default="", server_default="")
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    virtual_size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(63), default="api")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stored_at: Mapped[datetime | None] = mapped_column(nullable=True)

    copies: Mapped[list[ImageCopyRow]] = relationship(
        back_populates="image", cascade="all, delete-orphan", order_by="ImageCopyRow.host_id"
    )


class ImageCopyRow(Base):
    """An image present on a host, as a volume in the host's storage."""

    __tablename__ = "image_copies"
    __table_args__ = (UniqueConstraint("image_id", "host_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    image: Mapped[ImageRow] = relationship(back_populates="copies")


class DiskRow(Stateful, Base, Disk):
    """A data disk of a VM: a volume vmpool created and will delete."""

    __tablename__ = "disks"
    __table_args__ = (UniqueConstraint("vm_id", "target"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    vm_id: Mapped[int] = mapped_column(ForeignKey("vms.id"), index=True)
    target: Mapped[str] = mapped_column(String(8))  # vdb, vdc, ... as the guest sees it
    size_gib: Mapped[int] = mapped_column(Integer)
    storage: Mapped[str] = mapped_column(String(8))  # local | shared
    path: Mapped[str] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(16))
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped when a field of REVISED changes (`_bump_revision`): the API's ETag.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    # Its size (PATCH grows it; a failed resize gives the old size back).
    REVISED: ClassVar[frozenset[str]] = frozenset({"size_gib", "storage", "path"})


class SnapshotRow(Stateful, Base, Snapshot):
    """A snapshot of a VM (domain/snapshot.py): internal to its qcow2 volumes, with
    libvirt's record of it kept here to define it again wherever the VM goes."""

    __tablename__ = "snapshots"
    __table_args__ = (UniqueConstraint("vm_id", "name"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(primary_key=True)
    vm_id: Mapped[int] = mapped_column(ForeignKey("vms.id"), index=True)
    name: Mapped[str] = mapped_column(String(63))  # the client's
    description: Mapped[str] = mapped_column(String(255), default="")
    # libvirt's name for it, made by vmpool (never a client's text in libvirt's XML).
    libvirt_name: Mapped[str] = mapped_column(String(63), unique=True)
    with_memory: Mapped[bool] = mapped_column(Boolean, default=False)
    # What it may take on its host's storage, counted in the host's disk claim.
    size_gib: Mapped[int] = mapped_column(Integer, default=0)
    # libvirt's snapshot XML (getXMLDesc), to REDEFINE it on another host.
    xml: Mapped[str | None] = mapped_column(Text, nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(63), default="api")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NetworkRow(Base):
    """A pool-wide network: a Linux bridge on the hosts, or a libvirt network vmpool defines
    on each host; with optional IPv4 and IPv6 address pools."""

    __tablename__ = "networks"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: shared by an admin with every project; else the project's own.
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id"), index=True, nullable=True
    )
    name: Mapped[str] = mapped_column(String(63), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # bridge | libvirt
    bridge: Mapped[str] = mapped_column(String(15))  # the Linux bridge the NICs join
    mode: Mapped[str | None] = mapped_column(String(16), nullable=True)  # libvirt: isolated|routed
    ipv4_cidr: Mapped[str | None] = mapped_column(String(18), nullable=True)
    ipv4_gateway: Mapped[str | None] = mapped_column(String(15), nullable=True)
    ipv6_cidr: Mapped[str | None] = mapped_column(String(43), nullable=True)
    ipv6_gateway: Mapped[str | None] = mapped_column(String(39), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HostNetworkRow(Base):
    """A network a host offers (its bridge exists, or its libvirt network is active), as the
    sync last found it."""

    __tablename__ = "host_networks"

    host_id: Mapped[int] = mapped_column(
        ForeignKey("hosts.id", ondelete="CASCADE"), primary_key=True
    )
    network_id: Mapped[int] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class NicRow(Stateful, Base, Nic):
    """A VM's network interface: its MAC is unique in the database, its addresses in the
    network."""

    __tablename__ = "nics"
    __table_args__ = (
        UniqueConstraint("network_id", "ipv4", name="uq_nics_network_id_ipv4"),
        UniqueConstraint("network_id", "ipv6", name="uq_nics_network_id_ipv6"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vm_id: Mapped[int] = mapped_column(ForeignKey("vms.id"), index=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id"), index=True)
    mac: Mapped[str] = mapped_column(String(17), unique=True)
    model: Mapped[str] = mapped_column(String(16), default="virtio")
    ipv4: Mapped[str | None] = mapped_column(String(15), nullable=True)
    ipv6: Mapped[str | None] = mapped_column(String(39), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    network: Mapped[NetworkRow] = relationship(lazy="joined")


class PlacementGroupRow(Base):
    """VMs that should share a host (affinity) or never share one (anti-affinity)."""

    __tablename__ = "placement_groups"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id"), index=True, default=DEFAULT_PROJECT_ID
    )
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"), index=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    policy: Mapped[str] = mapped_column(String(16))
    hard: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MigrationRow(Stateful, Base, Migration):
    """One live migration, written before libvirt is called and after each step."""

    __tablename__ = "migrations"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    vm_id: Mapped[int] = mapped_column(ForeignKey("vms.id", ondelete="CASCADE"), index=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"))
    # A host's id is NULL once the host is deleted; its name stays (the history outlives it).
    # A host with a migration in flight cannot be deleted.
    source_host_id: Mapped[int | None] = mapped_column(
        ForeignKey("hosts.id", ondelete="SET NULL"), index=True, nullable=True
    )
    target_host_id: Mapped[int | None] = mapped_column(
        ForeignKey("hosts.id", ondelete="SET NULL"), index=True, nullable=True
    )
    source_host_name: Mapped[str] = mapped_column(String(63), server_default="")
    target_host_name: Mapped[str | None] = mapped_column(String(63), nullable=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(String(16), default="api")
    # Options.
    bandwidth_mib_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_downtime_ms: Mapped[int] = mapped_column(Integer, default=500)
    auto_converge: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_post_copy: Mapped[bool] = mapped_column(Boolean, default=False)
    completion_timeout_s_per_gib: Mapped[int] = mapped_column(Integer, default=800)
    storage: Mapped[str] = mapped_column(String(8), default="shared")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # Progress, while running.
    data_total: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    data_processed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    data_remaining: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    memory_dirty_rate: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    iteration: Mapped[int | None] = mapped_column(Integer, nullable=True)
    current_max_downtime_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    post_copy: Mapped[bool] = mapped_column(Boolean, default=False)
    # Outcome.
    downtime_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total_time_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    vm: Mapped[VmRow] = relationship()
    source_host: Mapped[HostRow | None] = relationship(foreign_keys=[source_host_id])
    target_host: Mapped[HostRow | None] = relationship(foreign_keys=[target_host_id])


class PlanRow(Stateful, Base, Plan):
    """A rebalance plan: proposed, approved, run step by step, and its outcome."""

    __tablename__ = "plans"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    origin: Mapped[str] = mapped_column(String(16))  # scheduled | api
    actor: Mapped[str] = mapped_column(String(63))
    strategy: Mapped[str] = mapped_column(String(16))
    min_gain: Mapped[float] = mapped_column(Float)
    score_before: Mapped[float] = mapped_column(Float)
    score_after: Mapped[float] = mapped_column(Float)  # as planned
    score_final: Mapped[float | None] = mapped_column(Float, nullable=True)  # as measured
    components_before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    components_after: Mapped[dict[str, Any]] = mapped_column(default=dict)
    empty_hosts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"after": [...]}
    stopped_because: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(63), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    steps: Mapped[list[PlanStepRow]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanStepRow.seq"
    )


class PlanStepRow(Stateful, Base, PlanStep):
    """One move of a plan; names are kept so that the history reads after deletions."""

    __tablename__ = "plan_steps"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    vm_id: Mapped[int | None] = mapped_column(
        ForeignKey("vms.id", ondelete="SET NULL"), nullable=True
    )
    vm_name: Mapped[str] = mapped_column(String(63))
    source_host_id: Mapped[int | None] = mapped_column(
        ForeignKey("hosts.id", ondelete="SET NULL"), nullable=True
    )
    source_host: Mapped[str] = mapped_column(String(63))
    target_host_id: Mapped[int | None] = mapped_column(
        ForeignKey("hosts.id", ondelete="SET NULL"), nullable=True
    )
    target_host: Mapped[str] = mapped_column(String(63))
    score_before: Mapped[float] = mapped_column(Float)
    score_after: Mapped[float] = mapped_column(Float)
    memory_mib: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(16))
    # pending | running | completed | skipped | failed | cancelled
    state: Mapped[str] = mapped_column(String(16))
    migration_id: Mapped[int | None] = mapped_column(
        ForeignKey("migrations.id", ondelete="SET NULL"), nullable=True
    )
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)

    plan: Mapped[PlanRow] = relationship(back_populates="steps")


class ForeignDomainRow(Base):
    """A domain found on a host that vmpool did not define: reported, never adopted."""

    __tablename__ = "foreign_domains"
    __table_args__ = (UniqueConstraint("host_id", "uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    uuid: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    host: Mapped[HostRow] = relationship(back_populates="foreign_domains")


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63))
    role: Mapped[str] = mapped_column(String(16))  # admin | member | reader
    # The project a member or reader acts in; None for admin (every project).
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id"), index=True, nullable=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)


class IdempotencyKeyRow(Base):
    """A POST sent with an Idempotency-Key: its answer (once it has one), replayed for a
    repeat of the same request by the same caller within a day."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))  # whose key: a hash of the credentials
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(512))
    body_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: in progress
    content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    response: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LoadRow(Base):
    """The last reading of a host or VM and its smoothed CPU utilisation."""

    __tablename__ = "load"
    __table_args__ = (UniqueConstraint("kind", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # host | vm
    subject_id: Mapped[int] = mapped_column(Integer)
    sampled_at: Mapped[datetime] = mapped_column(default=utcnow)
    cpu_time_ns: Mapped[int] = mapped_column(BigInteger)  # cumulative counter (busy time)
    cpu_total_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # hosts only
    cpu_usage: Mapped[float | None] = mapped_column(Float, nullable=True)  # last interval
    cpu_usage_avg: Mapped[float | None] = mapped_column(Float, nullable=True)  # smoothed
    memory_used_mib: Mapped[int | None] = mapped_column(Integer, nullable=True)
    samples: Mapped[int] = mapped_column(Integer, default=0)


class DaemonLeaseRow(Base):
    """Who runs the background jobs on this database: one daemon at a time."""

    __tablename__ = "daemon_lease"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    owner: Mapped[str] = mapped_column(String(255))  # hostname:pid:random
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Raised by each new leader (PostgreSQL replicas): a write that starts or settles a
    # migration or a plan step checks it is still the one it was elected with.
    generation: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class EventRow(Base):
    """An audit trail: who changed what, and what the sync found."""

    __tablename__ = "events"
    __table_args__ = NO_ID_REUSE

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(63))
    subject: Mapped[str] = mapped_column(String(255))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The project the change concerns (None: the pool's own objects), and the API request
    # that made it (also in the response's X-Request-ID header).
    project_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)


def _bump_revision(_mapper: Mapper[Any], _conn: Connection, row: Any) -> None:
    """The one rule of `revision`: it goes up by one in each UPDATE that changes a field of
    the row's REVISED, whichever code changed it; a write that changes none (the sync's,
    a PATCH giving the values already there) leaves it, so a client's ETag stays valid."""
    state = inspect(row)
    if any(state.attrs[name].history.has_changes() for name in row.REVISED):
        row.revision = row.revision + 1


for _revised in (ProjectRow, PoolRow, HostRow, DiskRow):
    event.listen(_revised, "before_update", _bump_revision)
