"""The storage tables and queries on both databases (issue 10): what a host's disk claims
count, shared-storage use, stale disk intents, image users, and a disk name taken twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from tests.support.rows import add_host, add_migration, add_vm
from vmpool.adapters.db.engine import make_session_factory
from vmpool.adapters.db.tables import DiskRow, ImageRow
from vmpool.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from vmpool.errors import AlreadyExists

NOW = datetime(2026, 11, 28, tzinfo=UTC)


def _disk(vm_id: int, target: str, gib: int, storage: str, state: str = "attached") -> DiskRow:
    return DiskRow(vm_id=vm_id, target=target, size_gib=gib, storage=storage,
                   path=f"/d/{vm_id}-{target}", state=state, state_changed_at=NOW,
                   created_at=NOW)  # fmt: skip


def test_claims_and_shared_use_count_each_disk_where_it_lives(migrated_engine: Engine) -> None:
    with SqlAlchemyUnitOfWork(make_session_factory(migrated_engine)) as uow:
        h1, h2 = add_host(uow, "h1"), add_host(uow, "h2")
        local_boot = add_vm(uow, "local-boot", h1)
        local_boot.disk_gib, local_boot.disk_storage = 10, "local"
        shared_boot = add_vm(uow, "shared-boot", h1)
        shared_boot.disk_gib, shared_boot.disk_storage = 20, "shared"
        uow.flush()
        uow.disks.add(_disk(local_boot.id, "vdb", 5, "local"))
        uow.disks.add(_disk(local_boot.id, "vdc", 7, "shared"))
        uow.disks.add(_disk(shared_boot.id, "vdb", 3, "local"))
        # A migration in flight claims the VM's local disks on its target too.
        add_migration(uow, local_boot, h1, h2, "running")
        uow.commit()
        pool_id, h1_id, h2_id = h1.pool_id, h1.id, h2.id

        alloc = uow.hosts.allocations(pool_id)
        assert alloc[h1_id].shared.disk_gib == 10 + 5 + 3  # local boot and local data disks
        assert alloc[h2_id].shared.disk_gib == 10 + 5  # the incoming VM's local disks
        assert uow.disks.shared_use_gib(pool_id) == 20 + 7
        assert uow.disks.local_gib_by_vm(pool_id) == {local_boot.id: 5, shared_boot.id: 3}
        assert uow.disks.local_gib(local_boot.id) == 5
        assert uow.disks.storage_kinds(local_boot.id) == {"local", "shared"}
        local_boot.disk_path = "/d/boot"
        assert uow.vms.volumes(local_boot) == [
            "/d/boot",
            f"/d/{local_boot.id}-vdb",
            f"/d/{local_boot.id}-vdc",
        ]

        # One name per disk of a VM: the second is refused as a vmpool error, not a crash.
        with pytest.raises(AlreadyExists):
            uow.disks.add(_disk(local_boot.id, "vdb", 1, "local"))


def test_stale_intents_and_image_users(migrated_engine: Engine) -> None:
    with SqlAlchemyUnitOfWork(make_session_factory(migrated_engine)) as uow:
        h = add_host(uow, "h")
        vm = add_vm(uow, "v", h)
        image = uow.images.add(ImageRow(name="base", created_at=NOW))
        vm.image_id = image.id
        uow.disks.add(_disk(vm.id, "vdb", 1, "local", state="attaching"))
        uow.disks.add(_disk(vm.id, "vdc", 1, "local", state="attached"))
        uow.commit()
        stale = uow.disks.changing_since_before(NOW + timedelta(seconds=1))
        assert [d.target for d in stale] == ["vdb"]
        assert uow.disks.changing_since_before(NOW) == []
        assert list(uow.images.users(image.id)) == ["v"]
        # Deleting the VM deletes its disks' records with it.
        uow.vms.delete(vm)
        uow.commit()
        assert uow.disks.of_vm(vm.id) == [] and list(uow.images.users(image.id)) == []
