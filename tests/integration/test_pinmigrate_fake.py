"""Live migration of dedicated VMs (docs/hardware.md) on fake hosts, on SQLite and
PostgreSQL, with the real migration runner: the target's CPUs recorded with the migration
before it moves (and sent with it), the source's released once it arrived, the target's
released on failure and cancel, crash recovery settling them from where the VM runs, the
guest's NUMA cells kept, maintenance evacuating it, and the planner leaving it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.fake_hypervisor import FakeCloud
from tests.support.fake_world import POLL_S, World, to, wait_until
from tests.support.rows import add_migration
from vmpool.adapters.db.migrations import upgrade
from vmpool.adapters.db.tables import CpuPinRow
from vmpool.config import Settings
from vmpool.domain.hardware import CpuPolicy, HardwareRequest, HostHardware, NumaCell
from vmpool.domain.ports import MigrationRequest
from vmpool.errors import Conflict
from vmpool.services import cluster_state, hosts, maintenance, migration_recovery, migrations, vms
from vmpool.services.views import VmView
from vmpool.wiring import build_runtime

CELLS = (
    NumaCell(0, frozenset(range(4)), 8192, {}),
    NumaCell(1, frozenset(range(4, 8)), 8192, {}),
)
DEDICATED = HardwareRequest(cpu_policy=CpuPolicy.DEDICATED)


@pytest.fixture
def world(migrated_url: str, tmp_path: Path) -> Iterator[World]:
    cloud = FakeCloud()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=migrated_url,
        image_dir=tmp_path / "images",
        serial_log_dir=tmp_path / "serial",
        migration_poll_s=POLL_S,
    )
    runtime = build_runtime(settings, connector=cloud)
    upgrade(runtime.engine)
    yield World(runtime, cloud)
    cloud.release_all()
    runtime.close()


def _hosts(world: World, *splits: str) -> list[int]:
    """Hosts a, b, ... of 8 CPUs in two NUMA cells, each with its dedicated set."""
    ids = []
    for name, dedicated in zip("abcd", splits, strict=False):
        uri = f"qemu+tls://{name}.example/system"
        fake = world.cloud.add_host(uri, hostname=f"{name}.example", cpus=8, memory_mib=16384)
        fake.hardware = HostHardware(cells=CELLS)
        host_id = hosts.register_host(world.ctx, uri, name).id
        hosts.update_host(world.ctx, host_id, {"cpu_dedicated_set": dedicated}, "test")
        ids.append(host_id)
    return ids


def _dedicated(world: World, name: str, on: str, vcpus: int = 2) -> VmView:
    cmd = vms.CreateVm(name=name, vcpus=vcpus, memory_mib=64, disk_gib=0,
                       hosts=frozenset({on}), hardware=DEDICATED)  # fmt: skip
    return vms.create_vm(world.ctx, cmd)


def _pins(world: World, vm_id: int) -> dict[int, list[tuple[int, int]]]:
    """Per host: the VM's (host CPU, cell) in vCPU order."""
    with world.ctx.uow() as uow:
        rows = uow.session.execute(
            select(CpuPinRow).where(CpuPinRow.vm_id == vm_id).order_by(CpuPinRow.vcpu)
        ).scalars()
        out: dict[int, list[tuple[int, int]]] = {}
        for p in rows:
            out.setdefault(p.host_id, []).append((p.host_cpu, p.numa_cell))
        return out


def test_a_dedicated_vm_moves_with_the_target_cpus_recorded_before_and_the_source_freed(
    world: World,
) -> None:
    a_id, b_id = _hosts(world, "4-7", "2-3,6-7")
    vm = _dedicated(world, "pinned", on="a")
    assert _pins(world, vm.id) == {a_id: [(4, 1), (5, 1)]}
    a = world.cloud.find("qemu+tls://a.example/system")
    b = world.cloud.find("qemu+tls://b.example/system")
    assert a is not None and b is not None
    a.hold_migrations()

    queued = migrations.request_migration(world.ctx, vm.id, to(b_id))
    a.wait_for_migration(vm.uuid)
    # In flight: pinned on both hosts; on b, the fullest cell that fits (both have 2 free:
    # the lower), and those CPUs are nobody else's meanwhile.
    assert _pins(world, vm.id) == {a_id: [(4, 1), (5, 1)], b_id: [(2, 0), (3, 0)]}
    assert world.host(b_id).pinned_cpus == [2, 3]
    [request] = a.migration_requests
    assert request.dest_cpus is not None
    assert (request.dest_cpus.vcpu_pins, request.dest_cpus.vcpu_cells) == ((2, 3), (0, 0))
    assert request.dest_cpus.emulator_cpus == (0, 1, 4, 5)  # b's shared CPUs
    a.release_migrations()
    m = world.settled(queued.id)

    assert m.state == "completed"
    assert world.vm(vm.id).host_id == b_id
    assert _pins(world, vm.id) == {b_id: [(2, 0), (3, 0)]}  # the source's are released
    assert world.host(a_id).pinned_cpus == []
    spec = b.get_domain(vm.uuid).spec  # the definition the target runs
    assert spec is not None and (spec.vcpu_pins, spec.numa_cells) == ((2, 3), (0,))


def test_a_failed_or_cancelled_move_releases_the_target_cpus(world: World) -> None:
    a_id, b_id = _hosts(world, "4-7", "4-7")
    vm = _dedicated(world, "stayer", on="a")
    a = world.cloud.find("qemu+tls://a.example/system")
    assert a is not None
    a.fail_next_migration("operation failed: the target refused the incoming migration")
    m = world.settled(migrations.request_migration(world.ctx, vm.id, to(b_id)).id)
    assert m.state == "failed"
    assert world.vm(vm.id).host_id == a_id
    assert _pins(world, vm.id) == {a_id: [(4, 1), (5, 1)]}

    a.hold_migrations()
    queued = migrations.request_migration(world.ctx, vm.id, to(b_id))
    a.wait_for_migration(vm.uuid)
    assert set(_pins(world, vm.id)) == {a_id, b_id}
    job = a.migrating(vm.uuid)
    assert job is not None
    migrations.cancel_migration(world.ctx, queued.id)
    wait_until(lambda: job.aborted, "the runner to abort the job")
    a.release_migrations()
    assert world.settled(queued.id).state == "cancelled"
    assert _pins(world, vm.id) == {a_id: [(4, 1), (5, 1)]}

    # A queued one cancelled before it starts: released with the cancel itself.
    with world.ctx.uow() as uow:
        pool = uow.pools.get(uow.vms.get(vm.id).pool_id)
        pool.max_migrations_per_pool = 0  # nothing is dispatched
        uow.commit()
    queued = migrations.request_migration(world.ctx, vm.id, to(b_id))
    assert set(_pins(world, vm.id)) == {a_id, b_id}
    assert migrations.cancel_migration(world.ctx, queued.id).state == "cancelled"
    assert _pins(world, vm.id) == {a_id: [(4, 1), (5, 1)]}


def test_the_target_must_give_the_guest_its_numa_cells_again(world: World) -> None:
    # a: 3 dedicated CPUs per cell; a 4-vCPU VM spans both: guest cells of 3 and 1 vCPUs.
    a_id, b_id, c_id = _hosts(world, "1-3,5-7", "0-1,4-5", "0-2,4-7")
    vm = _dedicated(world, "wide", on="a", vcpus=4)
    assert _pins(world, vm.id)[a_id] == [(1, 0), (2, 0), (3, 0), (5, 1)]
    # b has 4 free CPUs, 2 in each cell: the guest's 3-vCPU cell cannot fit in one.
    with pytest.raises(Conflict) as refused:
        migrations.request_migration(world.ctx, vm.id, to(b_id))
    assert "its guest NUMA cells need 3+1 dedicated CPUs free in as many different NUMA cells" in (
        refused.value.message
    )
    assert set(_pins(world, vm.id)) == {a_id}  # nothing recorded on b
    # Without a target asked for, placement picks c (3 free in cell 0, 4 in cell 1).
    anywhere = migrations.MigrateOptions()
    m = world.settled(migrations.request_migration(world.ctx, vm.id, anywhere).id)
    assert (m.state, m.target_host_id) == ("completed", c_id)
    assert _pins(world, vm.id) == {c_id: [(0, 0), (1, 0), (2, 0), (4, 1)]}


def test_recovery_keeps_the_pins_of_where_the_vm_runs(world: World) -> None:
    a_id, b_id = _hosts(world, "4-7", "4-7")
    arrived = _dedicated(world, "arrived", on="a", vcpus=1)
    stayed = _dedicated(world, "stayed", on="a", vcpus=1)
    a = world.cloud.find("qemu+tls://a.example/system")
    b = world.cloud.find("qemu+tls://b.example/system")
    assert a is not None and b is not None
    # Records as a vmpool that died mid-way leaves them, with the target's CPUs recorded.
    ids = {}
    for vm, cpu in ((arrived, 4), (stayed, 5)):
        with world.ctx.uow() as uow:
            row = uow.vms.get(vm.id)
            m = add_migration(uow, row, uow.hosts.get(a_id), uow.hosts.get(b_id), "running")
            m.started_at = world.ctx.clock()
            row.state = "migrating"
            uow.hosts.add_cpu_pins([CpuPinRow(host_id=b_id, vm_id=vm.id, vcpu=0, host_cpu=cpu,
                                              numa_cell=1)])  # fmt: skip
            ids[vm.name] = m.id
            uow.commit()
    a.migrate(arrived.uuid, MigrationRequest(dest_uri=b.uri, data_uri="tcp://b.example"))

    result = migration_recovery.resolve_unowned(world.ctx, set)
    assert sorted(result.settled) == sorted(ids.values())
    assert world.migration(ids["arrived"]).state == "completed"
    assert _pins(world, arrived.id) == {b_id: [(4, 1)]}
    assert world.migration(ids["stayed"]).state == "failed"
    assert _pins(world, stayed.id) == {a_id: [(5, 1)]}


def test_maintenance_evacuates_a_dedicated_vm_the_planner_leaves_it(world: World) -> None:
    a_id, b_id = _hosts(world, "4-7", "6-7")
    vm = _dedicated(world, "evacuee", on="a")
    with world.ctx.read_uow() as uow:
        pool = uow.pools.get(uow.vms.get(vm.id).pool_id)
        state = cluster_state.build(uow, pool, world.ctx.clock())
    [seen] = [v for v in state.cluster.vms if v.name == vm.name]
    assert not seen.migratable  # the planner does not model free CPUs per cell

    maintenance.enter_maintenance(world.ctx, a_id, "test")
    wait_until(lambda: world.vm(vm.id).host_id == b_id and world.vm(vm.id).state == "running",
               "the evacuation")  # fmt: skip
    wait_until(lambda: a_id not in _pins(world, vm.id), "the source's CPUs released")
    assert _pins(world, vm.id) == {b_id: [(6, 1), (7, 1)]}
