"""Repositories: the only code that queries tables. They never commit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Row,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vmpool.adapters.db.tables import (
    ApiTokenRow,
    CpuPinRow,
    DaemonLeaseRow,
    DiskRow,
    EventRow,
    ForeignDomainRow,
    HostDeviceRow,
    HostNetworkRow,
    HostRow,
    IdempotencyKeyRow,
    ImageCopyRow,
    ImageRow,
    LoadRow,
    MigrationRow,
    NetworkRow,
    NicRow,
    PlacementGroupRow,
    PlanRow,
    PoolRow,
    ProjectRow,
    SnapshotRow,
    UtcDateTime,
    VmRow,
)
from vmpool.domain.cpu_pinning import hugepage_claims
from vmpool.domain.hardware import HUGEPAGE_SIZES_KIB, HardwareUse
from vmpool.domain.migration import ACTIVE_MIGRATION_STATES, MigrationState
from vmpool.domain.model import Resources
from vmpool.domain.snapshot import BUSY_SNAPSHOT_STATES, SnapshotState
from vmpool.errors import AlreadyExists, NotFound


def insert(session: Session, row: Any, duplicate: str, **details: Any) -> None:
    """Add and flush `row`; a unique key already taken (by a concurrent transaction
    that won the race) is the vmpool error `duplicate` describes, not a database error."""
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(duplicate, **details) from exc


_Row = TypeVar("_Row")


def locked(session: Session, model: type[_Row], row_id: int) -> _Row | None:
    """The row, locked for this transaction (PostgreSQL; SQLite's write lock is already
    held) and read afresh under the lock: an object the session loaded before must not
    hide a change committed meanwhile (the one rule of every `get_for_update`)."""
    return session.get(model, row_id, with_for_update=True, populate_existing=True)


@dataclass(frozen=True)
class HostAllocation:
    shared: Resources = field(default_factory=Resources)
    # What guaranteed VMs asked for, before the ratio scales it.
    dedicated: Resources = field(default_factory=Resources)
    vm_count: int = 0

    def plus(self, other: HostAllocation) -> HostAllocation:
        return HostAllocation(
            self.shared + other.shared,
            self.dedicated + other.dedicated,
            self.vm_count + other.vm_count,
        )


class Scoped:
    """A repository that sees one project's rows only (`project_id`), or every row (None:
    an admin, the scheduler). Another project's row is as if it did not exist."""

    def __init__(self, session: Session, project_id: int | None = None) -> None:
        self._s = session
        self._project = project_id

    def _sees(self, owner: int | None, shared: bool = False) -> bool:
        """Whether a row of project `owner` is visible; `shared`: a row without a project is
        shared with every project (images, networks)."""
        if self._project is None:
            return True
        return owner == self._project or (shared and owner is None)

    def _sees_vm(self, vm_id: int) -> bool:
        if self._project is None:
            return True
        owner = self._s.execute(select(VmRow.project_id).where(VmRow.id == vm_id)).scalar()
        return owner == self._project


class PoolRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, pool_id: int) -> PoolRow:
        row = self._s.get(PoolRow, pool_id)
        if row is None:
            raise NotFound(f"pool {pool_id} does not exist", pool_id=pool_id)
        return row

    def get_for_update(self, pool_id: int) -> PoolRow:
        """Lock the pool row: placement and claims in one pool happen one at a time.

        On PostgreSQL this is a row lock; SQLite already holds its write lock
        (BEGIN IMMEDIATE) and ignores FOR UPDATE.
        """
        row = locked(self._s, PoolRow, pool_id)
        if row is None:
            raise NotFound(f"pool {pool_id} does not exist", pool_id=pool_id)
        return row

    def by_name(self, name: str) -> PoolRow | None:
        return self._s.execute(select(PoolRow).where(PoolRow.name == name)).scalar_one_or_none()

    def list(
        self, after_id: int = 0, limit: int | None = None, name: str | None = None
    ) -> Sequence[PoolRow]:
        q = select(PoolRow).where(PoolRow.id > after_id).order_by(PoolRow.id).limit(limit)
        if name is not None:
            q = q.where(PoolRow.name == name)
        return self._s.execute(q).scalars().all()

    def add(self, row: PoolRow) -> PoolRow:
        insert(self._s, row, f"a pool named {row.name} already exists", name=row.name)
        return row

    def delete(self, row: PoolRow) -> None:
        self._s.delete(row)
        self._s.flush()


# A VM with a disk on its host's own storage: a local boot disk or a local data disk. Its
# snapshots are counted on that host's disk; a VM whose disks are all shared, on the pool's
# shared storage.
_HAS_LOCAL_DISK = or_(
    and_(VmRow.disk_path.is_not(None), func.coalesce(VmRow.disk_storage, "local") != "shared"),
    exists().where(DiskRow.vm_id == VmRow.id, DiskRow.storage == "local"),
)


class HostRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, host_id: int) -> HostRow:
        row = self._s.get(HostRow, host_id)
        if row is None:
            raise NotFound(f"host {host_id} does not exist", host_id=host_id)
        return row

    def get_for_update(self, host_id: int) -> HostRow:
        """Lock the host row (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises)."""
        row = locked(self._s, HostRow, host_id)
        if row is None:
            raise NotFound(f"host {host_id} does not exist", host_id=host_id)
        return row

    def find(self, host_id: int) -> HostRow | None:
        return self._s.get(HostRow, host_id)

    def by_name(self, name: str) -> HostRow | None:
        return self._s.execute(select(HostRow).where(HostRow.name == name)).scalar_one_or_none()

    def by_uri(self, uri: str) -> HostRow | None:
        return self._s.execute(select(HostRow).where(HostRow.uri == uri)).scalar_one_or_none()

    def by_host_uuid(self, host_uuid: str) -> HostRow | None:
        return self._s.execute(
            select(HostRow).where(HostRow.host_uuid == host_uuid)
        ).scalar_one_or_none()

    def count_by_state(self) -> dict[str, int]:
        """State -> hosts (states without hosts left out)."""
        q = select(HostRow.state, func.count()).group_by(HostRow.state)
        return {state: n for state, n in self._s.execute(q)}

    def list(
        self,
        pool_id: int | None = None,
        after_id: int = 0,
        limit: int | None = None,
        name: str | None = None,
    ) -> Sequence[HostRow]:
        q = select(HostRow).where(HostRow.id > after_id).order_by(HostRow.id).limit(limit)
        if pool_id is not None:
            q = q.where(HostRow.pool_id == pool_id)
        if name is not None:
            q = q.where(HostRow.name == name)
        return self._s.execute(q).scalars().all()

    def placement_rows(self, pool_id: int) -> Sequence[Row[Any]]:
        """Just the columns placement needs, without ORM objects: placement reads
        every host of the pool on every create, so this path is kept lean."""
        h = HostRow
        # Through the connection: a Core statement, without the ORM's result processing.
        return (
            self._s.connection()
            .execute(
                select(
                    h.id,
                    h.name,
                    h.state,
                    h.cpus,
                    h.memory_mib,
                    h.disk_gib,
                    h.arch,
                    h.domain_types,
                    h.traits,
                    h.operator_traits,
                    h.cpu_allocation_ratio,
                    h.ram_allocation_ratio,
                    h.disk_allocation_ratio,
                    h.reserved_vcpus,
                    h.reserved_memory_mib,
                    h.shared_disk_path,
                    h.hardware,
                    h.cpu_dedicated_set,
                    h.cpu_shared_set,
                )
                .where(h.pool_id == pool_id)
                .order_by(h.id)
            )
            .all()
        )

    def due_ids(self, now: datetime) -> Sequence[tuple[int, str]]:
        """(id, URI) of the hosts due for a check, without loading them."""
        q = (
            select(HostRow.id, HostRow.uri)
            .where((HostRow.next_check_at.is_(None)) | (HostRow.next_check_at <= now))
            .order_by(HostRow.id)
        )
        return [(int(i), str(u)) for i, u in self._s.connection().execute(q)]

    def sync_snapshot(self, host_id: int) -> Row[Any] | None:
        """What a host's sync compares with the host's answer, as one plain row (with
        `has_foreign`: whether foreign domains are recorded on it)."""
        return self._s.connection().execute(_SYNC_SNAPSHOT, {"b_id": host_id}).first()

    def mark_seen(self, seen: Sequence[tuple[int, datetime]]) -> None:
        """last_seen_at of many hosts at once, as (id, when): one statement."""
        if seen:
            self._s.connection().execute(_MARK_SEEN, [{"b_id": i, "b_seen": at} for i, at in seen])

    def record_facts(self, rows: Sequence[tuple[int, datetime, Mapping[str, object]]]) -> None:
        """last_seen_at and what the hosts report (`INVENTORY`, disk_gib, shared_disk_gib) of
        many hosts at once, as (id, when, columns): one statement."""
        if rows:
            params = [
                {"b_id": i, "b_seen": at, **{f"b_{c}": v for c, v in cols.items()}}
                for i, at, cols in rows
            ]
            self._s.connection().execute(_RECORD_FACTS, params)

    def add(self, row: HostRow) -> HostRow:
        insert(self._s, row, f"host {row.name} or its URI is already registered", name=row.name)
        return row

    def delete(self, row: HostRow) -> None:
        self._s.delete(row)
        self._s.flush()

    def hardware_use(self, pool_id: int) -> dict[int, HardwareUse]:
        """Per host of the pool that has any: what is claimed of its special hardware
        (docs/hardware.md): its pinned CPUs, its SGX EPC, its free assignable devices by
        alias. Hosts without any are left out (`NO_USE`)."""
        conn = self._s.connection()
        pinned: dict[int, set[int]] = {}
        for host_id, cpu in conn.execute(
            select(CpuPinRow.host_id, CpuPinRow.host_cpu)
            .join(HostRow, HostRow.id == CpuPinRow.host_id)
            .where(HostRow.pool_id == pool_id)
        ):
            pinned.setdefault(host_id, set()).add(cpu)
        epc: dict[int, int] = {
            int(host_id): int(n or 0)
            for host_id, n in conn.execute(
                select(VmRow.host_id, func.sum(VmRow.sgx_epc_mib))
                .where(VmRow.pool_id == pool_id, VmRow.host_id.is_not(None), VmRow.sgx_epc_mib > 0)
                .group_by(VmRow.host_id)
            )
        }
        devices: dict[int, dict[str, int]] = {}
        for host_id, alias, n in conn.execute(
            select(HostDeviceRow.host_id, HostDeviceRow.alias, func.count())
            .join(HostRow, HostRow.id == HostDeviceRow.host_id)
            .where(
                HostRow.pool_id == pool_id,
                HostDeviceRow.alias.is_not(None),
                HostDeviceRow.vm_id.is_(None),
                HostDeviceRow.missing_since.is_(None),
            )
            .group_by(HostDeviceRow.host_id, HostDeviceRow.alias)
        ):
            devices.setdefault(host_id, {})[alias] = int(n)
        hugepages = self.hugepages_use(pool_id)
        out: dict[int, HardwareUse] = {}
        for host_id in set(pinned) | set(epc) | set(devices) | set(hugepages):
            out[host_id] = HardwareUse(
                pinned_cpus=frozenset(pinned.get(host_id, ())),
                hugepages_mib=hugepages.get(host_id, {}),
                sgx_epc_mib=int(epc.get(host_id) or 0),
                free_devices=devices.get(host_id, {}),
            )
        return out

    def hugepages_use(self, pool_id: int) -> dict[int, dict[tuple[int, int], int]]:
        """Per host: MiB of huge pages claimed by (NUMA cell, page size in KiB): by each VM
        backed by them on its host, and on the target of its migration in progress; per
        cell of its pinned CPUs there, else from the host as a whole
        (domain/cpu_pinning.py hugepage_claims)."""
        conn = self._s.connection()
        vms = conn.execute(
            select(VmRow.id, VmRow.host_id, VmRow.memory_mib, VmRow.hugepages).where(
                VmRow.pool_id == pool_id, VmRow.host_id.is_not(None), VmRow.hugepages.is_not(None)
            )
        ).all()
        if not vms:
            return {}
        homes: list[tuple[int, int, int, str]] = [(v, h, m, p) for v, h, m, p in vms]
        sizes = {v: (m, p) for v, _, m, p in homes}
        for vm_id, target in conn.execute(
            select(MigrationRow.vm_id, MigrationRow.target_host_id).where(
                MigrationRow.vm_id.in_(list(sizes)),
                MigrationRow.target_host_id.is_not(None),
                MigrationRow.state.in_([s.value for s in ACTIVE_MIGRATION_STATES]),
            )
        ):
            homes.append((vm_id, target, *sizes[vm_id]))
        cells: dict[tuple[int, int], list[int]] = {}
        for vm_id, host_id, _vcpu, cell in conn.execute(
            select(CpuPinRow.vm_id, CpuPinRow.host_id, CpuPinRow.vcpu, CpuPinRow.numa_cell)
            .where(CpuPinRow.vm_id.in_(list(sizes)))
            .order_by(CpuPinRow.vm_id, CpuPinRow.vcpu)
        ):
            cells.setdefault((vm_id, host_id), []).append(cell)
        out: dict[int, dict[tuple[int, int], int]] = {}
        for vm_id, host_id, memory_mib, size in homes:
            kib = HUGEPAGE_SIZES_KIB.get(size)
            if kib is None:
                continue
            mine = out.setdefault(host_id, {})
            bound = cells.get((vm_id, host_id), ())
            for key, mib in hugepage_claims(memory_mib, kib, bound).items():
                mine[key] = mine.get(key, 0) + mib
        return out

    def cpu_pins(self, vm_id: int, host_id: int) -> Sequence[CpuPinRow]:
        """A dedicated VM's pinned CPUs on a host, in vCPU order."""
        return (
            self._s.execute(
                select(CpuPinRow)
                .where(CpuPinRow.vm_id == vm_id, CpuPinRow.host_id == host_id)
                .order_by(CpuPinRow.vcpu)
            )
            .scalars()
            .all()
        )

    def pinned_cpus(self, host_id: int) -> set[int]:
        """The host's CPUs given to dedicated VMs (those running there and those coming)."""
        return set(
            self._s.execute(select(CpuPinRow.host_cpu).where(CpuPinRow.host_id == host_id))
            .scalars()
            .all()
        )

    def add_cpu_pins(self, pins: Sequence[CpuPinRow]) -> None:
        """Recorded at once: UNIQUE(host_id, host_cpu) refuses a CPU given twice."""
        self._s.add_all(pins)
        self._s.flush()

    def release_cpu_pins(self, vm_id: int, host_id: int | None = None) -> None:
        """A VM's pinned CPUs on one host (None: on every host other than its own)."""
        q = delete(CpuPinRow).where(CpuPinRow.vm_id == vm_id)
        if host_id is not None:
            q = q.where(CpuPinRow.host_id == host_id)
        else:
            own = select(VmRow.host_id).where(VmRow.id == vm_id).scalar_subquery()
            q = q.where(or_(own.is_(None), CpuPinRow.host_id != own))
        self._s.execute(q)
        self._s.flush()

    def allocations(self, pool_id: int) -> dict[int, HostAllocation]:
        """Per host of the pool: what VMs claim, shared and dedicated apart.

        Every VM row with a host holds its claim, whatever its state: a stopped
        VM keeps its place, as in Nova, so that it can always start again. A VM
        being migrated also holds a claim on its target until the migration ends.
        """
        g = VmRow.guaranteed
        # A dedicated VM's vCPUs are its pinned CPUs (cpu_pins), not vCPU capacity; a huge-page
        # VM's memory is its pages (hugepages_use), not ordinary memory (domain/cpu_pinning.py
        # ordinary_memory_claim_mib).
        vcpus = case((VmRow.cpu_policy == "dedicated", 0), else_=VmRow.vcpus)
        memory = case((VmRow.hugepages.is_not(None), 0), else_=VmRow.memory_mib)
        sums = (
            func.sum(case((g, 0), else_=vcpus)),
            func.sum(case((g, 0), else_=memory)),
            func.sum(case((g, vcpus), else_=0)),
            func.sum(case((g, memory), else_=0)),
            # A host's disk holds the boot disks local to it (shared ones are elsewhere).
            func.sum(case((VmRow.disk_storage == "shared", 0), else_=VmRow.disk_gib)),
            func.count(),
        )
        conn = self._s.connection()  # Core, without the ORM's result processing
        on_hosts = conn.execute(
            select(VmRow.host_id, *sums)
            .where(VmRow.pool_id == pool_id, VmRow.host_id.is_not(None))
            .group_by(VmRow.host_id)
        ).all()
        incoming = conn.execute(
            select(MigrationRow.target_host_id, *sums)
            .join(VmRow, VmRow.id == MigrationRow.vm_id)
            .where(
                MigrationRow.pool_id == pool_id,
                MigrationRow.target_host_id.is_not(None),
                MigrationRow.state.in_([s.value for s in ACTIVE_MIGRATION_STATES]),
            )
            .group_by(MigrationRow.target_host_id)
        ).all()
        local = DiskRow.storage == "local"
        data_on_hosts = conn.execute(
            select(VmRow.host_id, func.sum(DiskRow.size_gib))
            .join(VmRow, VmRow.id == DiskRow.vm_id)
            .where(VmRow.pool_id == pool_id, VmRow.host_id.is_not(None), local)
            .group_by(VmRow.host_id)
        ).all()
        data_incoming = conn.execute(
            select(MigrationRow.target_host_id, func.sum(DiskRow.size_gib))
            .join(DiskRow, DiskRow.vm_id == MigrationRow.vm_id)
            .where(
                MigrationRow.pool_id == pool_id,
                MigrationRow.target_host_id.is_not(None),
                MigrationRow.state.in_([s.value for s in ACTIVE_MIGRATION_STATES]),
                local,
            )
            .group_by(MigrationRow.target_host_id)
        ).all()
        # Snapshots live in the VM's volumes: on its host's disk when it has a disk there,
        # else on shared storage (domain/snapshot.py snapshot_size_gib; docs/lifecycle.md).
        snapshots_on_hosts = conn.execute(
            select(VmRow.host_id, func.sum(SnapshotRow.size_gib))
            .join(VmRow, VmRow.id == SnapshotRow.vm_id)
            .where(VmRow.pool_id == pool_id, VmRow.host_id.is_not(None), _HAS_LOCAL_DISK)
            .group_by(VmRow.host_id)
        ).all()
        none = Resources()
        out: dict[int, HostAllocation] = {}
        for host_id, gib in (*data_on_hosts, *data_incoming, *snapshots_on_hosts):
            data = HostAllocation(shared=Resources(0.0, 0.0, float(gib or 0)))
            prior = out.get(host_id)
            out[host_id] = data if prior is None else prior.plus(data)
        for host_id, sv, sm, dv, dm, disk, n in (*on_hosts, *incoming):
            alloc = HostAllocation(
                shared=Resources(float(sv or 0), float(sm or 0), float(disk or 0)),
                dedicated=Resources(float(dv), float(dm), 0.0) if dv or dm else none,
                vm_count=int(n),
            )
            prior = out.get(host_id)
            out[host_id] = alloc if prior is None else prior.plus(alloc)
        return out


class VmRepository(Scoped):
    def get(self, vm_id: int) -> VmRow:
        row = self.find(vm_id)
        if row is None:
            raise NotFound(f"vm {vm_id} does not exist", vm_id=vm_id)
        return row

    def find(self, vm_id: int) -> VmRow | None:
        row = self._s.get(VmRow, vm_id)
        return row if row is not None and self._sees(row.project_id) else None

    def get_for_update(self, vm_id: int) -> VmRow:
        """Lock the VM row, read afresh under the lock (a resize changes its sizes)."""
        row = locked(self._s, VmRow, vm_id)
        if row is None or not self._sees(row.project_id):
            raise NotFound(f"vm {vm_id} does not exist", vm_id=vm_id)
        return row

    def same(self, vm_id: int, vm_uuid: str) -> VmRow | None:
        """The VM with this id if it is still the one with this UUID (a final step after
        a libvirt call acts on the VM it started with, never on another)."""
        row = self.find(vm_id)
        return row if row is not None and row.uuid == vm_uuid else None

    def by_name(self, name: str) -> VmRow | None:
        return self._s.execute(select(VmRow).where(VmRow.name == name)).scalar_one_or_none()

    def by_uuid(self, vm_uuid: str) -> VmRow | None:
        return self._s.execute(select(VmRow).where(VmRow.uuid == vm_uuid)).scalar_one_or_none()

    def on_host(self, host_id: int) -> Sequence[VmRow]:
        return (
            self._s.execute(select(VmRow).where(VmRow.host_id == host_id).order_by(VmRow.id))
            .scalars()
            .all()
        )

    def states_on_host(self, host_id: int) -> Sequence[Row[Any]]:
        """(uuid, state, state_changed_at) of the VMs on a host, without loading them."""
        return self._s.connection().execute(_VM_STATES, {"b_id": host_id}).all()

    def count_on_host(self, host_id: int) -> int:
        return self._s.execute(
            select(func.count()).select_from(VmRow).where(VmRow.host_id == host_id)
        ).scalar_one()

    def page(
        self,
        *,
        host_id: int | None = None,
        state: str | None = None,
        pool_id: int | None = None,
        name: str | None = None,
        after_id: int = 0,
        limit: int = 100,
        idle: bool | None = None,
    ) -> Sequence[VmRow]:
        q = select(VmRow).where(VmRow.id > after_id).order_by(VmRow.id).limit(limit)
        if name is not None:
            q = q.where(VmRow.name == name)
        if self._project is not None:
            q = q.where(VmRow.project_id == self._project)
        if host_id is not None:
            q = q.where(VmRow.host_id == host_id)
        if state is not None:
            q = q.where(VmRow.state == state)
        if pool_id is not None:
            q = q.where(VmRow.pool_id == pool_id)
        if idle is not None:
            q = q.where(
                VmRow.idle_warned_at.is_not(None) if idle else VmRow.idle_warned_at.is_(None)
            )
        return self._s.execute(q).scalars().all()

    # --- leases and the idle rule (services/reclaim.py) -------------------------------

    def with_lease_ending(self, before: datetime) -> Sequence[VmRow]:
        """VMs whose lease ends before `before` (expired ones included), soonest first."""
        q = (
            select(VmRow)
            .where(VmRow.lease_expires_at.is_not(None), VmRow.lease_expires_at < before)
            .order_by(VmRow.lease_expires_at, VmRow.id)
        )
        return self._s.execute(q).scalars().all()

    def in_pools(self, pool_ids: Iterable[int]) -> Sequence[VmRow]:
        ids = list(pool_ids)
        if not ids:
            return []
        q = select(VmRow).where(VmRow.pool_id.in_(ids)).order_by(VmRow.id)
        return self._s.execute(q).scalars().all()

    def idle_marked(self) -> Sequence[VmRow]:
        """VMs with an idle mark (to clear it where the pool no longer has an idle rule)."""
        q = select(VmRow).where(VmRow.idle_since.is_not(None)).order_by(VmRow.id)
        return self._s.execute(q).scalars().all()

    def snapshot_busy(self, vm_id: int) -> str | None:
        """The state of a snapshot of the VM being taken, reverted or deleted, if any."""
        q = (
            select(SnapshotRow.state)
            .where(
                SnapshotRow.vm_id == vm_id,
                SnapshotRow.state.in_([s.value for s in BUSY_SNAPSHOT_STATES]),
            )
            .limit(1)
        )
        return self._s.execute(q).scalar_one_or_none()

    def add(self, row: VmRow) -> VmRow:
        insert(self._s, row, f"a VM named {row.name} already exists", name=row.name)
        return row

    def volumes(self, row: VmRow) -> list[str]:
        """Every volume of the VM: its boot disk, its seed and its data disks."""
        data = select(DiskRow.path).where(DiskRow.vm_id == row.id).order_by(DiskRow.id)
        boot = [p for p in (row.disk_path, row.seed_path) if p]
        return boot + list(self._s.execute(data).scalars().all())

    def delete(self, row: VmRow) -> None:
        """The VM's record, with its data disks' records (their volumes are gone first) and
        its NICs (and so their MAC and IP addresses)."""
        for disk in self._s.execute(select(DiskRow).where(DiskRow.vm_id == row.id)).scalars():
            self._s.delete(disk)
        for nic in self._s.execute(select(NicRow).where(NicRow.vm_id == row.id)).scalars():
            self._s.delete(nic)
        # Its snapshots lived in its volumes (gone) and libvirt's records of them went with
        # the domain (undefined with VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA).
        for snap in self._s.execute(
            select(SnapshotRow).where(SnapshotRow.vm_id == row.id)
        ).scalars():
            self._s.delete(snap)
        # Its dedicated CPUs and assignable devices are free again (docs/hardware.md).
        self._s.execute(delete(CpuPinRow).where(CpuPinRow.vm_id == row.id))
        self._s.execute(
            update(HostDeviceRow).where(HostDeviceRow.vm_id == row.id).values(vm_id=None)
        )
        self._s.flush()
        self._s.delete(row)
        self._s.flush()

    def count_by_project_state(self) -> dict[tuple[str, str], int]:
        """(project name, state) -> VMs, for the combinations that have any."""
        q = (
            select(ProjectRow.name, VmRow.state, func.count())
            .join(ProjectRow, ProjectRow.id == VmRow.project_id)
            .group_by(ProjectRow.name, VmRow.state)
        )
        if self._project is not None:
            q = q.where(VmRow.project_id == self._project)
        return {(name, state): n for name, state, n in self._s.execute(q)}

    def briefs(self, limit: int) -> Sequence[Row[Any]]:
        """(id, name, state, host_id, vcpus, memory_mib, disk_gib) of the VMs this repository
        sees, by id, at most `limit`, without loading rows (the dashboard reads every VM)."""
        v = VmRow
        q = select(v.id, v.name, v.state, v.host_id, v.vcpus, v.memory_mib, v.disk_gib)
        if self._project is not None:
            q = q.where(v.project_id == self._project)
        return self._s.execute(q.order_by(v.id).limit(limit)).all()


class PlacementGroupRepository(Scoped):
    def get(self, group_id: int) -> PlacementGroupRow:
        row = self._s.get(PlacementGroupRow, group_id)
        if row is None or not self._sees(row.project_id):
            raise NotFound(f"placement group {group_id} does not exist", group_id=group_id)
        return row

    def by_name(self, name: str) -> PlacementGroupRow | None:
        row = self._s.execute(
            select(PlacementGroupRow).where(PlacementGroupRow.name == name)
        ).scalar_one_or_none()
        return row if row is not None and self._sees(row.project_id) else None

    def list(
        self, pool_id: int | None = None, after_id: int = 0, limit: int | None = None
    ) -> Sequence[PlacementGroupRow]:
        q = (
            select(PlacementGroupRow)
            .where(PlacementGroupRow.id > after_id)
            .order_by(PlacementGroupRow.id)
            .limit(limit)
        )
        if self._project is not None:
            q = q.where(PlacementGroupRow.project_id == self._project)
        if pool_id is not None:
            q = q.where(PlacementGroupRow.pool_id == pool_id)
        return self._s.execute(q).scalars().all()

    def add(self, row: PlacementGroupRow) -> PlacementGroupRow:
        insert(self._s, row, f"a placement group named {row.name} already exists", name=row.name)
        return row

    def delete(self, row: PlacementGroupRow) -> None:
        self._s.delete(row)
        self._s.flush()

    def members_by_host(self, group_id: int) -> dict[str, tuple[str, ...]]:
        """host name -> names of the group's VMs on it."""
        rows = self._s.execute(
            select(HostRow.name, VmRow.name)
            .join(HostRow, HostRow.id == VmRow.host_id)
            .where(VmRow.placement_group_id == group_id)
            .order_by(VmRow.name)
        ).all()
        out: dict[str, list[str]] = {}
        for host_name, vm_name in rows:
            out.setdefault(host_name, []).append(vm_name)
        return {h: tuple(v) for h, v in out.items()}

    def member_count(self, group_id: int) -> int:
        return self._s.execute(
            select(func.count()).select_from(VmRow).where(VmRow.placement_group_id == group_id)
        ).scalar_one()


class MigrationRepository(Scoped):
    def get(self, migration_id: int) -> MigrationRow:
        row = self.find(migration_id)
        if row is None:
            raise NotFound(f"migration {migration_id} does not exist", migration_id=migration_id)
        return row

    def find(self, migration_id: int) -> MigrationRow | None:
        row = self._s.get(MigrationRow, migration_id)
        return row if row is not None and self._sees_vm(row.vm_id) else None

    def add(self, row: MigrationRow) -> MigrationRow:
        self._s.add(row)
        self._s.flush()
        return row

    def in_states(self, states: Iterable[str]) -> Sequence[MigrationRow]:
        return (
            self._s.execute(
                select(MigrationRow)
                .where(MigrationRow.state.in_(list(states)))
                .order_by(MigrationRow.id)
            )
            .scalars()
            .all()
        )

    def active_for_vm(self, vm_id: int) -> MigrationRow | None:
        active = [s.value for s in ACTIVE_MIGRATION_STATES]
        return self._s.execute(
            select(MigrationRow).where(MigrationRow.vm_id == vm_id, MigrationRow.state.in_(active))
        ).scalar_one_or_none()

    def page(
        self,
        *,
        vm_id: int | None = None,
        host_id: int | None = None,
        state: str | None = None,
        since: datetime | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> Sequence[MigrationRow]:
        q = select(MigrationRow).where(MigrationRow.id > after_id)
        if self._project is not None:
            mine = select(VmRow.id).where(VmRow.project_id == self._project)
            q = q.where(MigrationRow.vm_id.in_(mine))
        if vm_id is not None:
            q = q.where(MigrationRow.vm_id == vm_id)
        if host_id is not None:
            q = q.where(
                (MigrationRow.source_host_id == host_id) | (MigrationRow.target_host_id == host_id)
            )
        if state is not None:
            q = q.where(MigrationRow.state == state)
        if since is not None:
            q = q.where(MigrationRow.created_at >= since)
        return self._s.execute(q.order_by(MigrationRow.id).limit(limit)).scalars().all()

    def active_in_pool(self, pool_id: int) -> int:
        active = [s.value for s in ACTIVE_MIGRATION_STATES]
        return self._s.execute(
            select(func.count())
            .select_from(MigrationRow)
            .where(MigrationRow.pool_id == pool_id, MigrationRow.state.in_(active))
        ).scalar_one()

    def last_dirty_rates(self, pool_id: int) -> dict[int, int]:
        """Per VM of the pool, the memory dirty rate (bytes/s) its latest migration saw."""
        latest = (
            select(func.max(MigrationRow.id))
            .where(MigrationRow.pool_id == pool_id, MigrationRow.memory_dirty_rate.is_not(None))
            .group_by(MigrationRow.vm_id)
        )
        rows = self._s.execute(
            select(MigrationRow.vm_id, MigrationRow.memory_dirty_rate).where(
                MigrationRow.id.in_(latest)
            )
        ).all()
        return {vm_id: int(rate) for vm_id, rate in rows}

    def vms_moved_since(self, pool_id: int, since: datetime) -> set[int]:
        """VMs of the pool whose live migration completed at or after `since`."""
        return set(
            self._s.scalars(
                select(MigrationRow.vm_id).where(
                    MigrationRow.pool_id == pool_id,
                    MigrationRow.state == MigrationState.COMPLETED.value,
                    MigrationRow.finished_at >= since,
                )
            ).all()
        )

    def count_by_state(self) -> dict[str, int]:
        """State -> migrations recorded."""
        q = select(MigrationRow.state, func.count()).group_by(MigrationRow.state)
        if self._project is not None:
            q = q.join(VmRow, VmRow.id == MigrationRow.vm_id).where(
                VmRow.project_id == self._project
            )
        return {state: n for state, n in self._s.execute(q)}


class LoadRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def all_of(self, kind: str, subject_ids: Iterable[int]) -> dict[int, LoadRow]:
        ids = list(subject_ids)
        if not ids:
            return {}
        rows = self._s.scalars(
            select(LoadRow).where(LoadRow.kind == kind, LoadRow.subject_id.in_(ids))
        ).all()
        return {r.subject_id: r for r in rows}

    def get(self, kind: str, subject_id: int) -> LoadRow | None:
        return self._s.execute(
            select(LoadRow).where(LoadRow.kind == kind, LoadRow.subject_id == subject_id)
        ).scalar_one_or_none()

    def add(self, row: LoadRow) -> None:
        self._s.add(row)


class ForeignDomainRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def on_host(self, host_id: int) -> Sequence[ForeignDomainRow]:
        return (
            self._s.execute(select(ForeignDomainRow).where(ForeignDomainRow.host_id == host_id))
            .scalars()
            .all()
        )

    def seen(self, row: ForeignDomainRow, state: str, now: datetime) -> None:
        """The domain is still there, in the power state the host reports."""
        row.state = state
        row.last_seen_at = now

    def found(self, host_id: int, uuid: str, name: str, state: str, now: datetime) -> None:
        """A domain first seen now."""
        row = ForeignDomainRow(
            host_id=host_id,
            uuid=uuid,
            name=name[:255],
            state=state,
            first_seen_at=now,
            last_seen_at=now,
        )
        self.add(row)

    def add(self, row: ForeignDomainRow) -> None:
        self._s.add(row)

    def delete(self, row: ForeignDomainRow) -> None:
        self._s.delete(row)


class TokenRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def by_hash(self, token_hash: str) -> ApiTokenRow | None:
        return self._s.execute(
            select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash)
        ).scalar_one_or_none()

    def add(self, row: ApiTokenRow) -> ApiTokenRow:
        self._s.add(row)
        self._s.flush()
        return row

    def find(self, token_id: int) -> ApiTokenRow | None:
        return self._s.get(ApiTokenRow, token_id)

    def page(self, after_id: int = 0, limit: int = 100) -> Sequence[ApiTokenRow]:
        q = select(ApiTokenRow).where(ApiTokenRow.id > after_id).order_by(ApiTokenRow.id)
        return self._s.execute(q.limit(limit)).scalars().all()

    def count_of_project(self, project_id: int) -> int:
        q = select(func.count(ApiTokenRow.id)).where(
            ApiTokenRow.project_id == project_id, ApiTokenRow.revoked_at.is_(None)
        )
        return int(self._s.execute(q).scalar_one())


class EventRepository(Scoped):
    def record(
        self, actor: str, kind: str, subject: str, project_id: int | None = None, **details: Any
    ) -> None:
        """An audit event; its project is `project_id`, else the project this unit of work
        acts in; its request id that of the API request being served (if any)."""
        self._s.add(
            EventRow(
                actor=actor, kind=kind, subject=subject, details=details,
                project_id=project_id if project_id is not None else self._project,
                request_id=current_request_id.get(),
            )
        )  # fmt: skip

    def page(self, q: EventQuery) -> Sequence[EventRow]:
        """Newest first, `before_id` the keyset cursor; a project's token sees its events."""
        s = select(EventRow).order_by(EventRow.id.desc()).limit(q.limit)
        project = self._project if self._project is not None else q.project_id
        if project is not None:
            s = s.where(EventRow.project_id == project)
        if q.before_id is not None:
            s = s.where(EventRow.id < q.before_id)
        for column, value in (
            (EventRow.kind, q.kind), (EventRow.actor, q.actor), (EventRow.subject, q.subject),
            (EventRow.request_id, q.request_id),
        ):  # fmt: skip
            if value is not None:
                s = s.where(column == value)
        if q.since is not None:
            s = s.where(EventRow.at >= q.since)
        if q.until is not None:
            s = s.where(EventRow.at < q.until)
        return self._s.execute(s).scalars().all()


@dataclass(frozen=True)
class EventQuery:
    limit: int = 100
    before_id: int | None = None
    project_id: int | None = None
    kind: str | None = None
    actor: str | None = None
    subject: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


# The id of the API request being served (set by the API's middleware), for the audit trail.
current_request_id: ContextVar[str | None] = ContextVar("vmpool_request_id", default=None)


class PlanRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, plan_id: int) -> PlanRow:
        row = self._s.get(PlanRow, plan_id)
        if row is None:
            raise NotFound(f"plan {plan_id} does not exist", plan_id=plan_id)
        return row

    def add(self, row: PlanRow) -> PlanRow:
        self._s.add(row)
        self._s.flush()
        return row

    def in_states(self, pool_id: int, states: Iterable[str]) -> Sequence[PlanRow]:
        return self._s.scalars(
            select(PlanRow)
            .where(PlanRow.pool_id == pool_id, PlanRow.state.in_(list(states)))
            .order_by(PlanRow.id)
        ).all()

    def page(
        self, pool_id: int, state: str | None = None, limit: int = 50, after_id: int | None = None
    ) -> Sequence[PlanRow]:
        q = select(PlanRow).where(PlanRow.pool_id == pool_id)
        if state is not None:
            q = q.where(PlanRow.state == state)
        if after_id is not None:
            q = q.where(PlanRow.id < after_id)
        return self._s.scalars(q.order_by(PlanRow.id.desc()).limit(limit)).all()

    def count_by_pool_state(self) -> dict[tuple[int, str], int]:
        """(pool id, state) -> plans."""
        q = select(PlanRow.pool_id, PlanRow.state, func.count()).group_by(
            PlanRow.pool_id, PlanRow.state
        )
        return {(pool_id, state): n for pool_id, state, n in self._s.execute(q)}


class LeaseRepository:
    """The one row saying which daemon runs the background jobs."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, lease_id: int, *, for_update: bool = False) -> DaemonLeaseRow | None:
        return self._s.get(DaemonLeaseRow, lease_id, with_for_update=for_update)

    def take(self, lease_id: int, *, wait_s: float) -> DaemonLeaseRow | None:
        """The row locked for a new generation, waiting at most `wait_s` for the lock
        (PostgreSQL's `lock_timeout`; the wait ends in an error)."""
        self._set_local("lock_timeout", wait_s)
        return self._s.get(DaemonLeaseRow, lease_id, with_for_update=True, populate_existing=True)

    def hold_for_fence(self, lease_id: int, *, idle_s: float) -> DaemonLeaseRow | None:
        """The row share-locked until this transaction ends: no new generation can be
        written meanwhile, while the leader's other fenced writes go on side by side. Should
        this process stop mid-transaction (paused, frozen), PostgreSQL ends the transaction
        once it has been idle `idle_s` (`idle_in_transaction_session_timeout`), so that the
        lock never keeps another replica from taking over."""
        self._set_local("idle_in_transaction_session_timeout", idle_s)
        return self._s.get(
            DaemonLeaseRow, lease_id, with_for_update={"read": True}, populate_existing=True
        )

    def _set_local(self, setting: str, seconds: float) -> None:
        if self._s.get_bind().dialect.name == "postgresql":
            # SET takes no bind parameters; the name is ours and the value an int
            self._s.execute(text(f"SET LOCAL {setting} = {max(1, int(seconds * 1000))}"))

    def add(self, row: DaemonLeaseRow) -> None:
        self._s.add(row)

    def delete(self, row: DaemonLeaseRow) -> None:
        self._s.delete(row)
        self._s.flush()


class ImageRepository(Scoped):
    def get(self, image_id: int) -> ImageRow:
        row = self.find(image_id)
        if row is None:
            raise NotFound(f"image {image_id} does not exist", image_id=image_id)
        return row

    def find(self, image_id: int) -> ImageRow | None:
        row = self._s.get(ImageRow, image_id)
        return row if row is not None and self._sees(row.project_id, shared=True) else None

    def by_name(self, name: str) -> ImageRow | None:
        row = self._s.execute(select(ImageRow).where(ImageRow.name == name)).scalar_one_or_none()
        return row if row is not None and self._sees(row.project_id, shared=True) else None

    def list(self, after_id: int = 0, limit: int | None = None) -> Sequence[ImageRow]:
        q = select(ImageRow).where(ImageRow.id > after_id).order_by(ImageRow.id).limit(limit)
        if self._project is not None:
            q = q.where((ImageRow.project_id == self._project) | ImageRow.project_id.is_(None))
        return self._s.execute(q).scalars().all()

    def add(self, row: ImageRow) -> ImageRow:
        insert(self._s, row, f"an image named {row.name} already exists", name=row.name)
        return row

    def delete(self, row: ImageRow) -> None:
        self._s.delete(row)
        self._s.flush()

    def copy_on(self, image_id: int, host_id: int) -> ImageCopyRow | None:
        return self._s.execute(
            select(ImageCopyRow).where(
                ImageCopyRow.image_id == image_id, ImageCopyRow.host_id == host_id
            )
        ).scalar_one_or_none()

    def add_copy(self, image_id: int, host_id: int, path: str, now: datetime) -> None:
        self._s.add(ImageCopyRow(image_id=image_id, host_id=host_id, path=path, created_at=now))
        self._s.flush()

    def forget_copy(self, row: ImageCopyRow) -> None:
        self._s.delete(row)
        self._s.flush()

    def users(self, image_id: int) -> Sequence[str]:
        """Names of the VMs whose boot disk is an overlay of the image."""
        q = select(VmRow.name).where(VmRow.image_id == image_id).order_by(VmRow.id)
        return self._s.execute(q).scalars().all()


class DiskRepository(Scoped):
    def get(self, vm_id: int, disk_id: int, *, for_update: bool = False) -> DiskRow:
        """`for_update`: the row locked (PostgreSQL) and read afresh."""
        row = locked(self._s, DiskRow, disk_id) if for_update else self._s.get(DiskRow, disk_id)
        if row is None or row.vm_id != vm_id or not self._sees_vm(vm_id):
            raise NotFound(f"VM {vm_id} has no disk {disk_id}", disk_id=disk_id)
        return row

    def find(self, disk_id: int) -> DiskRow | None:
        return self._s.get(DiskRow, disk_id)

    def of_vm(self, vm_id: int) -> Sequence[DiskRow]:
        q = select(DiskRow).where(DiskRow.vm_id == vm_id).order_by(DiskRow.id)
        return self._s.execute(q).scalars().all()

    def storage_kinds(self, vm_id: int) -> set[str]:
        """The storage kinds (local, shared) of the VM's data disks."""
        q = select(DiskRow.storage).where(DiskRow.vm_id == vm_id).distinct()
        return set(self._s.execute(q).scalars().all())

    def changing_since_before(self, before: datetime) -> Sequence[DiskRow]:
        """Disks whose intent (attaching, resizing, detaching) was written before `before`."""
        q = (
            select(DiskRow)
            .where(DiskRow.state != "attached", DiskRow.state_changed_at < before)
            .order_by(DiskRow.id)
        )
        return self._s.execute(q).scalars().all()

    def shared_use_gib(self, pool_id: int) -> int:
        """GiB the pool's disks on shared storage take: boot disks and data disks."""
        boot = select(func.coalesce(func.sum(VmRow.disk_gib), 0)).where(
            VmRow.pool_id == pool_id, VmRow.disk_storage == "shared"
        )
        data = (
            select(func.coalesce(func.sum(DiskRow.size_gib), 0))
            .join(VmRow, VmRow.id == DiskRow.vm_id)
            .where(VmRow.pool_id == pool_id, DiskRow.storage == "shared")
        )
        snaps = (
            select(func.coalesce(func.sum(SnapshotRow.size_gib), 0))
            .join(VmRow, VmRow.id == SnapshotRow.vm_id)
            .where(VmRow.pool_id == pool_id, ~_HAS_LOCAL_DISK)
        )
        return (
            int(self._s.execute(boot).scalar_one())
            + int(self._s.execute(data).scalar_one())
            + int(self._s.execute(snaps).scalar_one())
        )

    def local_gib_by_vm(self, pool_id: int) -> dict[int, int]:
        """Per VM of the pool: GiB of its local data disks (one query for the planner)."""
        q = (
            select(DiskRow.vm_id, func.sum(DiskRow.size_gib))
            .join(VmRow, VmRow.id == DiskRow.vm_id)
            .where(VmRow.pool_id == pool_id, DiskRow.storage == "local")
            .group_by(DiskRow.vm_id)
        )
        return {int(vm_id): int(gib) for vm_id, gib in self._s.execute(q).all()}

    def local_gib(self, vm_id: int) -> int:
        """GiB of the VM's data disks that live on its host (they move with it)."""
        q = select(func.coalesce(func.sum(DiskRow.size_gib), 0)).where(
            DiskRow.vm_id == vm_id, DiskRow.storage == "local"
        )
        return int(self._s.execute(q).scalar_one())

    def add(self, row: DiskRow) -> DiskRow:
        insert(self._s, row, f"the VM already has a disk {row.target}", target=row.target)
        return row

    def delete(self, row: DiskRow) -> None:
        self._s.delete(row)
        self._s.flush()


class SnapshotRepository(Scoped):
    def get(self, vm_id: int, snapshot_id: int, *, for_update: bool = False) -> SnapshotRow:
        """`for_update`: the row locked (PostgreSQL) and read afresh. Another VM's snapshot,
        or another project's, is as if it did not exist."""
        row = (
            locked(self._s, SnapshotRow, snapshot_id)
            if for_update
            else self._s.get(SnapshotRow, snapshot_id)
        )
        if row is None or row.vm_id != vm_id or not self._sees_vm(vm_id):
            raise NotFound(f"VM {vm_id} has no snapshot {snapshot_id}", snapshot_id=snapshot_id)
        return row

    def find(self, snapshot_id: int) -> SnapshotRow | None:
        return self._s.get(SnapshotRow, snapshot_id)

    def of_vm(self, vm_id: int) -> Sequence[SnapshotRow]:
        q = select(SnapshotRow).where(SnapshotRow.vm_id == vm_id).order_by(SnapshotRow.id)
        return self._s.execute(q).scalars().all()

    def count_of_vm(self, vm_id: int) -> int:
        q = select(func.count()).where(SnapshotRow.vm_id == vm_id)
        return int(self._s.execute(q).scalar_one())

    def count_of_project(self, project_id: int) -> int:
        q = (
            select(func.count())
            .select_from(SnapshotRow)
            .join(VmRow, VmRow.id == SnapshotRow.vm_id)
            .where(VmRow.project_id == project_id)
        )
        return int(self._s.execute(q).scalar_one())

    def vms_with_snapshots(self, pool_id: int) -> set[int]:
        q = (
            select(SnapshotRow.vm_id)
            .join(VmRow, VmRow.id == SnapshotRow.vm_id)
            .where(VmRow.pool_id == pool_id)
            .distinct()
        )
        return {int(v) for v in self._s.execute(q).scalars()}

    def vms_with_ready_snapshots(self) -> list[int]:
        q = (
            select(SnapshotRow.vm_id)
            .where(SnapshotRow.state == SnapshotState.READY.value)
            .distinct()
        )
        return sorted(int(v) for v in self._s.execute(q).scalars())

    def changing_since_before(self, before: datetime) -> Sequence[SnapshotRow]:
        """Snapshots left in an intent (creating, reverting, deleting) since before
        `before`: the daemon stopped during the change."""
        q = (
            select(SnapshotRow)
            .where(
                SnapshotRow.state.in_([s.value for s in BUSY_SNAPSHOT_STATES]),
                SnapshotRow.state_changed_at < before,
            )
            .order_by(SnapshotRow.id)
        )
        return self._s.execute(q).scalars().all()

    def add(self, row: SnapshotRow) -> SnapshotRow:
        insert(self._s, row, f"the VM already has a snapshot named {row.name}", name=row.name)
        return row

    def delete(self, row: SnapshotRow) -> None:
        self._s.delete(row)
        self._s.flush()


class NetworkRepository(Scoped):
    def get(self, network_id: int) -> NetworkRow:
        row = self._s.get(NetworkRow, network_id)
        if row is None or not self._sees(row.project_id, shared=True):
            raise NotFound(f"network {network_id} does not exist", network_id=network_id)
        return row

    def by_name(self, name: str) -> NetworkRow | None:
        row = self._s.execute(
            select(NetworkRow).where(NetworkRow.name == name)
        ).scalar_one_or_none()
        return row if row is not None and self._sees(row.project_id, shared=True) else None

    def get_for_update(self, network_id: int) -> NetworkRow:
        """Lock the network row: its addresses are handed out one transaction at a time."""
        row = locked(self._s, NetworkRow, network_id)
        if row is None:
            raise NotFound(f"network {network_id} does not exist", network_id=network_id)
        return row

    def list(self, after_id: int = 0, limit: int | None = None) -> Sequence[NetworkRow]:
        if (after_id, limit, self._project) == (0, None, None):
            return self._s.execute(_ALL_NETWORKS).scalars().all()  # each host's sync
        q = select(NetworkRow).where(NetworkRow.id > after_id).order_by(NetworkRow.id).limit(limit)
        if self._project is not None:
            q = q.where((NetworkRow.project_id == self._project) | NetworkRow.project_id.is_(None))
        return self._s.execute(q).scalars().all()

    def add(self, row: NetworkRow) -> NetworkRow:
        insert(self._s, row, f"a network named {row.name} already exists", name=row.name)
        return row

    def delete(self, row: NetworkRow) -> None:
        self._s.delete(row)
        self._s.flush()

    def hosts_with(self, network_id: int) -> Sequence[str]:
        """Names of the hosts that offer the network."""
        q = (
            select(HostRow.name)
            .join(HostNetworkRow, HostNetworkRow.host_id == HostRow.id)
            .where(HostNetworkRow.network_id == network_id)
            .order_by(HostRow.name)
        )
        return self._s.execute(q).scalars().all()

    def names_on_hosts(self, pool_id: int) -> dict[int, frozenset[str]]:
        """Per host of the pool: the names of the networks it offers (one query)."""
        q = (
            select(HostNetworkRow.host_id, NetworkRow.name)
            .join(NetworkRow, NetworkRow.id == HostNetworkRow.network_id)
            .join(HostRow, HostRow.id == HostNetworkRow.host_id)
            .where(HostRow.pool_id == pool_id)
        )
        out: dict[int, set[str]] = {}
        for host_id, name in self._s.execute(q).all():
            out.setdefault(int(host_id), set()).add(name)
        return {h: frozenset(names) for h, names in out.items()}

    def names_on_host(self, host_id: int) -> frozenset[str]:
        q = (
            select(NetworkRow.name)
            .join(HostNetworkRow, HostNetworkRow.network_id == NetworkRow.id)
            .where(HostNetworkRow.host_id == host_id)
        )
        return frozenset(self._s.execute(q).scalars().all())

    def ids_on_host(self, host_id: int) -> set[int]:
        rows = self._s.connection().execute(_NETWORK_IDS_ON_HOST, {"b_id": host_id})
        return {int(n) for n in rows.scalars()}

    def mark_seen_on_hosts(self, seen: Sequence[tuple[int, datetime]]) -> None:
        """The networks recorded on each host, all still offered: seen_at, as (host, when)."""
        if seen:
            params = [{"b_id": i, "b_seen": at} for i, at in seen]
            self._s.connection().execute(_MARK_NETWORKS_SEEN, params)

    def set_on_host(self, host_id: int, network_ids: Iterable[int], now: datetime) -> None:
        """Record what the host offers now: rows for `network_ids`, none for the others."""
        wanted = set(network_ids)
        rows = self._s.execute(
            select(HostNetworkRow).where(HostNetworkRow.host_id == host_id)
        ).scalars()
        for row in rows:
            if row.network_id in wanted:
                row.seen_at = now
                wanted.discard(row.network_id)
            else:
                self._s.delete(row)
        for network_id in sorted(wanted):
            if self._s.get(NetworkRow, network_id) is not None:  # not deleted meanwhile
                self._s.add(HostNetworkRow(host_id=host_id, network_id=network_id, seen_at=now))
        self._s.flush()


class NicRepository(Scoped):
    def get(self, vm_id: int, nic_id: int) -> NicRow:
        row = self._s.get(NicRow, nic_id)
        if row is None or row.vm_id != vm_id or not self._sees_vm(vm_id):
            raise NotFound(f"VM {vm_id} has no NIC {nic_id}", nic_id=nic_id)
        return row

    def find(self, nic_id: int) -> NicRow | None:
        return self._s.get(NicRow, nic_id)

    def of_vm(self, vm_id: int) -> Sequence[NicRow]:
        q = select(NicRow).where(NicRow.vm_id == vm_id).order_by(NicRow.id)
        return self._s.execute(q).scalars().all()

    def mac_taken(self, mac: str) -> bool:
        return self._s.execute(select(NicRow.id).where(NicRow.mac == mac)).first() is not None

    def count(self) -> int:
        return int(self._s.execute(select(func.count(NicRow.id))).scalar_one())

    def count_on(self, network_id: int) -> int:
        q = select(func.count(NicRow.id)).where(NicRow.network_id == network_id)
        return int(self._s.execute(q).scalar_one())

    def addresses(self, network_id: int, version: int) -> list[str]:
        column = NicRow.ipv4 if version == 4 else NicRow.ipv6
        q = select(column).where(NicRow.network_id == network_id, column.is_not(None))
        return [a for a in self._s.execute(q).scalars().all() if a is not None]

    def network_names(self, vm_id: int) -> frozenset[str]:
        """The networks the VM's NICs are on: every host it runs on must offer them."""
        q = (
            select(NetworkRow.name)
            .join(NicRow, NicRow.network_id == NetworkRow.id)
            .where(NicRow.vm_id == vm_id)
        )
        return frozenset(self._s.execute(q).scalars().all())

    def network_names_by_vm(self, pool_id: int) -> dict[int, frozenset[str]]:
        q = (
            select(NicRow.vm_id, NetworkRow.name)
            .join(NetworkRow, NetworkRow.id == NicRow.network_id)
            .join(VmRow, VmRow.id == NicRow.vm_id)
            .where(VmRow.pool_id == pool_id)
        )
        out: dict[int, set[str]] = {}
        for vm_id, name in self._s.execute(q).all():
            out.setdefault(int(vm_id), set()).add(name)
        return {v: frozenset(names) for v, names in out.items()}

    def changing_since_before(self, before: datetime) -> Sequence[NicRow]:
        q = (
            select(NicRow)
            .where(NicRow.state != "attached", NicRow.state_changed_at < before)
            .order_by(NicRow.id)
        )
        return self._s.execute(q).scalars().all()

    def add(self, row: NicRow) -> NicRow:
        insert(
            self._s, row, f"MAC {row.mac} or address {row.ipv4 or row.ipv6} is already used",
            mac=row.mac,
        )  # fmt: skip
        return row

    def delete(self, row: NicRow) -> None:
        self._s.delete(row)
        self._s.flush()


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def find(self, scope: str, key: str) -> IdempotencyKeyRow | None:
        q = select(IdempotencyKeyRow).where(
            IdempotencyKeyRow.scope == scope, IdempotencyKeyRow.key == key
        )
        return self._s.execute(q).scalar_one_or_none()

    def add(self, row: IdempotencyKeyRow) -> None:
        insert(self._s, row, "this Idempotency-Key is in use by a request in progress")

    def delete(self, row: IdempotencyKeyRow) -> None:
        self._s.delete(row)
        self._s.flush()

    def purge_before(self, before: datetime) -> None:
        self._s.execute(delete(IdempotencyKeyRow).where(IdempotencyKeyRow.created_at < before))


class ProjectRepository(Scoped):
    def get(self, project_id: int) -> ProjectRow:
        row = self._s.get(ProjectRow, project_id)
        if row is None or not self._sees(row.id):
            raise NotFound(f"project {project_id} does not exist", project_id=project_id)
        return row

    def get_for_update(self, project_id: int) -> ProjectRow:
        """Lock the project row: its quotas are checked one transaction at a time."""
        row = locked(self._s, ProjectRow, project_id)
        if row is None or not self._sees(row.id):
            raise NotFound(f"project {project_id} does not exist", project_id=project_id)
        return row

    def by_name(self, name: str) -> ProjectRow | None:
        row = self._s.execute(
            select(ProjectRow).where(ProjectRow.name == name)
        ).scalar_one_or_none()
        return row if row is not None and self._sees(row.id) else None

    def page(self, after_id: int = 0, limit: int = 100) -> Sequence[ProjectRow]:
        q = select(ProjectRow).where(ProjectRow.id > after_id).order_by(ProjectRow.id)
        if self._project is not None:
            q = q.where(ProjectRow.id == self._project)
        return self._s.execute(q.limit(limit)).scalars().all()

    def add(self, row: ProjectRow) -> ProjectRow:
        insert(self._s, row, f"a project named {row.name} already exists", name=row.name)
        return row

    def delete(self, row: ProjectRow) -> None:
        """The project, with its revoked tokens (they can never be used again; the audit
        trail keeps their events)."""
        for token in self._s.execute(
            select(ApiTokenRow).where(ApiTokenRow.project_id == row.id)
        ).scalars():
            self._s.delete(token)
        self._s.flush()
        self._s.delete(row)
        self._s.flush()

    def usage(self, project_id: int) -> ProjectUsage:
        """What the project's VMs take: vCPUs, memory, disk (boot disks and data disks) and
        their number; every VM record counts, whatever its state (as its claim does)."""
        vms = self._s.execute(
            select(
                func.count(VmRow.id), func.coalesce(func.sum(VmRow.vcpus), 0),
                func.coalesce(func.sum(VmRow.memory_mib), 0),
                func.coalesce(func.sum(VmRow.disk_gib), 0),
            ).where(VmRow.project_id == project_id)
        ).one()  # fmt: skip
        data = self._s.execute(
            select(func.coalesce(func.sum(DiskRow.size_gib), 0))
            .join(VmRow, VmRow.id == DiskRow.vm_id)
            .where(VmRow.project_id == project_id)
        ).scalar_one()
        return ProjectUsage(
            vms=int(vms[0]), vcpus=int(vms[1]), memory_mib=int(vms[2]),
            disk_gib=int(vms[3]) + int(data),
        )  # fmt: skip

    def owned(self, project_id: int) -> dict[str, int]:
        """How many of each kind of thing the project owns (a project that owns anything
        cannot be deleted)."""
        counts = {}
        for label, table in (
            ("vms", VmRow), ("placement_groups", PlacementGroupRow), ("images", ImageRow),
            ("networks", NetworkRow), ("tokens", ApiTokenRow),
        ):  # fmt: skip
            q = select(func.count()).select_from(table).where(table.project_id == project_id)
            if table is ApiTokenRow:
                q = q.where(ApiTokenRow.revoked_at.is_(None))
            n = int(self._s.execute(q).scalar_one())
            if n:
                counts[label] = n
        return counts


@dataclass(frozen=True)
class ProjectUsage:
    vms: int = 0
    vcpus: int = 0
    memory_mib: int = 0
    disk_gib: int = 0


# Built once: a host's sync runs these for every host of every round, and building a
# statement costs more than running it.
_SYNC_SNAPSHOT = select(
    HostRow.state, HostRow.failures, HostRow.next_check_at, HostRow.last_error,
    HostRow.local_disk_path, HostRow.shared_disk_path, HostRow.disk_gib,
    HostRow.shared_disk_gib, *(getattr(HostRow, c) for c in HostRow.INVENTORY),
    exists().where(ForeignDomainRow.host_id == HostRow.id).label("has_foreign"),
).where(HostRow.id == bindparam("b_id"))  # fmt: skip
_MARK_SEEN = (
    update(HostRow)
    .where(HostRow.id == bindparam("b_id"))
    .values(last_seen_at=bindparam("b_seen", type_=UtcDateTime()))
)
_FACTS = (*HostRow.INVENTORY, "disk_gib", "shared_disk_gib")
_RECORD_FACTS = (
    update(HostRow)
    .where(HostRow.id == bindparam("b_id"))
    .values(
        last_seen_at=bindparam("b_seen", type_=UtcDateTime()),
        **{c: bindparam(f"b_{c}") for c in _FACTS},
    )
)
_VM_STATES = select(VmRow.uuid, VmRow.state, VmRow.state_changed_at).where(
    VmRow.host_id == bindparam("b_id")
)
_NETWORK_IDS_ON_HOST = select(HostNetworkRow.network_id).where(
    HostNetworkRow.host_id == bindparam("b_id")
)
_MARK_NETWORKS_SEEN = (
    update(HostNetworkRow)
    .where(HostNetworkRow.host_id == bindparam("b_id"))
    .values(seen_at=bindparam("b_seen", type_=UtcDateTime()))
)
_ALL_NETWORKS = select(NetworkRow).order_by(NetworkRow.id)
