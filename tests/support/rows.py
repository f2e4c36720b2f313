"""Rows written straight into a database, for tests of what the API makes of them."""

from __future__ import annotations

from vmpool.adapters.db.tables import HostRow, MigrationRow, VmRow
from vmpool.adapters.db.unit_of_work import SqlAlchemyUnitOfWork


def default_pool_id(uow: SqlAlchemyUnitOfWork) -> int:
    pool = uow.pools.by_name("default")
    assert pool is not None
    return pool.id


def add_host(uow: SqlAlchemyUnitOfWork, name: str) -> HostRow:
    return uow.hosts.add(
        HostRow(pool_id=default_pool_id(uow), name=name, uri=f"qemu+tls://{name}/system",
                host_uuid=f"uuid-{name}", state="up")
    )  # fmt: skip


def add_vm(uow: SqlAlchemyUnitOfWork, name: str, host: HostRow) -> VmRow:
    return uow.vms.add(
        VmRow(pool_id=host.pool_id, host_id=host.id, name=name, uuid=f"uuid-{name}",
              vcpus=1, memory_mib=64, state="running")
    )  # fmt: skip


def add_migration(
    uow: SqlAlchemyUnitOfWork, vm: VmRow, source: HostRow, target: HostRow | None, state: str
) -> MigrationRow:
    return uow.migrations.add(
        MigrationRow(vm_id=vm.id, pool_id=vm.pool_id, state=state,
                     source_host_id=source.id, source_host_name=source.name,
                     target_host_id=target.id if target else None,
                     target_host_name=target.name if target else None)
    )  # fmt: skip
