"""The use cases end to end on the fake hypervisor (issue 9): no root, no libvirt.

Each test wires vmpool as the daemon does (`wiring.build_runtime`: a real SQLite
database, migrated, and the migration runner on its worker threads) with a `FakeCloud`
as the hypervisor connector, calls the services, and checks both what the database
says and what the fake hosts hold.
"""

from __future__ import annotations

import pytest

from tests.support.fake_hypervisor import FakeHost
from tests.support.fake_world import DISK_FOLDER, NOTHING, World, to, wait_until
from tests.support.rows import add_migration
from vmpool.domain.ports import MigrationRequest, PowerState
from vmpool.errors import (
    AlreadyExists,
    Conflict,
    DomainMissing,
    HostUnreachable,
    HypervisorFailure,
    InvalidState,
    NoCapacity,
)
from vmpool.scheduler import jobs
from vmpool.services import (
    hosts,
    maintenance,
    migration_recovery,
    migrations,
    plan_execution,
    plan_views,
    rebalance,
    sync,
    vm_actions,
    vms,
)
from vmpool.services.views import Evacuation, ResourceFigures, VmView

# --- hosts -----------------------------------------------------------------------------


def test_registering_hosts_records_their_inventory(world: World) -> None:
    a_id, a = world.add_host("a", cpus=16, memory_mib=65536, disk_gib=500, traits=frozenset())
    b_uri = "qemu+tls://b.example/system"
    b = world.cloud.add_host(b_uri, hostname="Beta.example", arch="aarch64", cpus=4)
    b_view = hosts.register_host(world.ctx, b_uri)  # no name: taken from the hostname

    a_view = world.host(a_id)
    assert (a_view.name, a_view.state, a_view.host_uuid) == ("a", "up", a.host_uuid)
    assert (a_view.cpus, a_view.memory_mib, a_view.disk_gib) == (16, 65536, 500)
    assert a_view.domain_types == ["kvm", "qemu"] and a_view.traits == []
    assert a_view.allocated == NOTHING and a_view.vm_count == 0
    assert (b_view.name, b_view.arch, b_view.cpus, b_view.traits) == ("beta", "aarch64", 4, ["kvm"])
    assert b_view.host_uuid == b.host_uuid
    # The capacity of the disk folder was asked of each host (libvirt makes a pool of it).
    assert DISK_FOLDER in a.storage_folders and DISK_FOLDER in b.storage_folders

    # The same machine under another URI, and an URI nobody answers at, are refused.
    world.cloud.add_host("qemu+tls://a-again.example/system", host_uuid=a.host_uuid)
    with pytest.raises(AlreadyExists):
        hosts.register_host(world.ctx, "qemu+tls://a-again.example/system", "a-again")
    with pytest.raises(HostUnreachable):
        hosts.register_host(world.ctx, "qemu+tls://nowhere.example/system", "nowhere")
    assert [h.name for h in hosts.list_hosts(world.ctx)] == ["a", "beta"]


# --- create, actions, delete -----------------------------------------------------------


def test_create_defines_and_starts_the_domain_and_claims_capacity(world: World) -> None:
    a_id, a = world.add_host("a")
    b_id, b = world.add_host("b")
    vm = world.create("web-1", on="b", vcpus=2, memory_mib=256, disk_gib=3)

    assert vm.state == "running" and vm.host_id == b_id and vm.host_name == "b"
    assert vm.disk_storage == "local" and vm.disk_path is not None
    assert vm.disk_path.startswith(DISK_FOLDER + "/web-1-")
    dom = b.get_domain(vm.uuid)
    assert dom.state == PowerState.RUNNING and dom.boots == 1
    assert dom.vmpool_vm_id == vm.id and dom.name == "web-1"
    assert dom.spec is not None
    assert (dom.spec.vcpus, dom.spec.memory_mib, dom.spec.disk_path) == (2, 256, vm.disk_path)
    assert dom.spec.domain_type.value == vm.domain_type == "kvm"  # the host offers kvm
    assert b.volumes == {vm.disk_path: 3}
    assert a.domain_uuids() == set() and a.volumes == {}
    assert world.allocated(b_id) == ResourceFigures(vcpus=2.0, memory_mib=256.0, disk_gib=3.0)
    assert world.allocated(a_id) == NOTHING

    with pytest.raises(AlreadyExists):
        world.create("web-1")
    assert b.domain_uuids() == {vm.uuid}


def test_a_create_the_host_fails_leaves_nothing_behind(world: World) -> None:
    a_id, a = world.add_host("a")
    a.fail_next("start", HypervisorFailure("internal error: qemu unexpectedly closed"))
    with pytest.raises(HypervisorFailure):
        world.create("broken", disk_gib=1)
    assert vms.list_vms(world.ctx) == []
    assert a.domain_uuids() == set() and a.volumes == {}
    assert world.allocated(a_id) == NOTHING


def test_each_power_action_reaches_the_domain_and_records_its_state(world: World) -> None:
    _, a = world.add_host("a")
    vm = world.create("app")
    dom = a.get_domain(vm.uuid)

    assert vm_actions.power_action(world.ctx, vm.id, "stop").state == "stopped"
    assert dom.state == PowerState.STOPPED
    # Only what the state allows is even tried: no hypervisor call.
    calls = len(a.calls)
    with pytest.raises(InvalidState):
        vm_actions.power_action(world.ctx, vm.id, "reboot")
    assert len(a.calls) == calls and world.vm(vm.id).state == "stopped"

    assert vm_actions.power_action(world.ctx, vm.id, "start").state == "running"
    assert dom.state == PowerState.RUNNING and dom.boots == 2

    assert vm_actions.power_action(world.ctx, vm.id, "reboot").state == "running"
    assert dom.reboots == 1 and dom.state == PowerState.RUNNING

    # A guest that acts on the ACPI request powers off.
    assert vm_actions.power_action(world.ctx, vm.id, "shutdown").state == "stopped"
    assert dom.state == PowerState.STOPPED and dom.shutdown_requests == 1

    # One that ignores it keeps running: the record says so until the sync sees more.
    vm_actions.power_action(world.ctx, vm.id, "start")
    a.guests_obey_acpi = False
    assert vm_actions.power_action(world.ctx, vm.id, "shutdown").state == "shutting_down"
    assert dom.state == PowerState.RUNNING and dom.shutdown_requests == 2
    # ... and "stop" is what is left to do.
    assert vm_actions.power_action(world.ctx, vm.id, "stop").state == "stopped"
    assert dom.state == PowerState.STOPPED
    assert world.vm(vm.id).last_error is None


def test_an_action_on_a_domain_gone_from_its_host_records_the_error(world: World) -> None:
    _, a = world.add_host("a")
    vm = world.create("vanishing")
    a.undefine_out_of_band(vm.uuid)
    with pytest.raises(DomainMissing):
        vm_actions.power_action(world.ctx, vm.id, "stop")
    after = world.vm(vm.id)
    assert after.state == "error"
    assert after.last_error is not None and after.last_error.startswith("stop failed")


def test_delete_removes_the_domain_the_disk_and_the_claim(world: World) -> None:
    a_id, a = world.add_host("a")
    keep = world.create("keep")
    gone = world.create("gone", disk_gib=2)
    assert gone.disk_path in a.volumes

    vms.delete_vm(world.ctx, gone.id)
    assert [v.name for v in vms.list_vms(world.ctx)] == ["keep"]
    assert a.domain_uuids() == {keep.uuid}
    assert a.volumes == {}
    assert world.allocated(a_id) == ResourceFigures(vcpus=1.0, memory_mib=64.0, disk_gib=0.0)
    assert a.calls_of("undefine") == 1 and a.calls_of("delete_volume") == 1


# --- sync ------------------------------------------------------------------------------


def test_sync_records_a_power_off_done_behind_vmpools_back(world: World) -> None:
    a_id, a = world.add_host("a")
    vm = world.create("quiet")
    other = world.create("busy")
    a.power_off_out_of_band(vm.uuid)
    intruder = a.add_foreign_domain("intruder")

    report = sync.sync_all(world.ctx, base_interval_s=1.0, max_backoff_s=10.0)
    assert report.hosts_checked == 1 and report.hosts_unreachable == []
    assert report.vms_corrected == ["quiet"] and report.foreign_found == ["intruder"]
    assert world.vm(vm.id).state == "stopped"
    assert world.vm(other.id).state == "running"
    host = world.host(a_id)
    assert [(f.uuid, f.name) for f in host.foreign_domains] == [(intruder, "intruder")]
    # The stopped VM keeps its place; the foreign domain claims nothing.
    assert world.allocated(a_id) == ResourceFigures(vcpus=2.0, memory_mib=128.0, disk_gib=0.0)


def test_an_unreachable_host_is_refused_and_a_create_it_broke_is_finished_later(
    world: World,
) -> None:
    a_id, a = world.add_host("a")
    b_id, _ = world.add_host("b")
    on_a = world.create("on-a", on="a")

    # The host stops answering before any sync noticed: the create placed on it fails,
    # and the record stays `deleting`, holding its claim, until the host answers again.
    a.unreachable = True
    with pytest.raises(HostUnreachable):
        world.create("doomed", on="a")
    doomed = next(v for v in vms.list_vms(world.ctx) if v.name == "doomed")
    assert doomed.state == "deleting" and doomed.host_id == a_id
    assert doomed.last_error is not None and doomed.last_error.startswith("create failed")
    assert world.allocated(a_id) == ResourceFigures(vcpus=2.0, memory_mib=128.0, disk_gib=0.0)

    # The sync marks it unreachable: it takes no new VM and is not asked by API calls.
    report = sync.sync_all(world.ctx, base_interval_s=1.0, max_backoff_s=10.0)
    assert report.hosts_unreachable == [a.uri]
    assert world.host(a_id).state == "unreachable"
    with pytest.raises(NoCapacity):
        world.create("pinned", on="a")
    elsewhere = world.create("elsewhere")
    assert elsewhere.host_id == b_id
    connects = len(world.cloud.connects)
    with pytest.raises(HostUnreachable):
        vm_actions.power_action(world.ctx, on_a.id, "stop")
    assert len(world.cloud.connects) == connects
    # what it does is not known while its host is silent (not "stopped": it may run on)
    assert world.vm(on_a.id).state == "unknown"

    # Back again: the sync finishes the broken create; the other VM never left.
    a.unreachable = False
    with world.ctx.uow() as uow:  # due now, not after the backoff
        uow.hosts.get(a_id).next_check_at = None
        uow.commit()
    report = sync.sync_all(world.ctx, base_interval_s=1.0, max_backoff_s=10.0)
    assert report.vms_removed == ["doomed"]
    assert world.host(a_id).state == "up"
    assert sorted(v.name for v in vms.list_vms(world.ctx)) == ["elsewhere", "on-a"]
    assert world.vm(on_a.id).state == "running"  # as the host says again
    assert a.domain_uuids() == {on_a.uuid}
    assert world.allocated(a_id) == ResourceFigures(vcpus=1.0, memory_mib=64.0, disk_gib=0.0)


# --- migration -------------------------------------------------------------------------


def test_a_migration_moves_the_vm_and_its_disk(world: World) -> None:
    a_id, a = world.add_host("a")
    b_id, b = world.add_host("b")
    vm = world.create("mover", on="a", memory_mib=128, disk_gib=2)
    assert vm.disk_path is not None

    opts = to(b_id, storage="copy")
    queued = migrations.request_migration(world.ctx, vm.id, opts)
    assert (queued.source_host, queued.target_host) == ("a", "b")
    m = world.settled(queued.id)

    assert m.state == "completed" and m.error is None
    assert m.downtime_ms == a.migration_downtime_ms
    assert m.data_total == m.data_processed == 128 * 1024 * 1024 and m.data_remaining == 0
    assert m.total_time_ms is not None and m.finished_at is not None
    after = world.vm(vm.id)
    assert (after.host_id, after.state, after.last_error) == (b_id, "running", None)
    # The domain and its disk are on the target only.
    assert world.cloud.where(vm.uuid) == [b.uri]
    assert b.state_of(vm.uuid) == PowerState.RUNNING
    assert b.volumes == {vm.disk_path: 2} and a.volumes == {}
    assert b.calls_of("create_volume") == 1  # vmpool made the target volume (incremental copy)
    spec = b.get_domain(vm.uuid).spec
    assert spec is not None and spec.vm_id == vm.id
    # What vmpool asked of libvirt: a copy of the one disk, to the target's address.
    [request] = a.migration_requests
    assert (request.dest_uri, request.data_uri) == (b.uri, "tcp://b.example")
    assert request.copy_storage and request.disks == ("vda",)
    assert not request.trust_shared_storage and request.max_downtime_ms == 125
    assert world.allocated(a_id) == NOTHING
    assert world.allocated(b_id) == ResourceFigures(vcpus=1.0, memory_mib=128.0, disk_gib=2.0)


def test_a_vm_on_shared_storage_moves_without_its_disk_being_copied(world: World) -> None:
    world.cloud.shared_folders.add("/srv/shared")  # an NFS mount both hosts see
    a_id, a = world.add_host("a")
    b_id, b = world.add_host("b")
    for host_id in (a_id, b_id):
        hosts.update_host(world.ctx, host_id, {"shared_disk_path": "/srv/shared"}, "op")
    vm = world.create("nfs", on="a", disk_gib=4, disk_storage="shared")
    assert vm.disk_storage == "shared" and vm.disk_path is not None
    assert vm.disk_path.startswith("/srv/shared/")
    assert world.cloud.shared_volumes == {vm.disk_path: 4} and a.volumes == {}

    # A shared disk is never copied: asking for it is refused before anything runs.
    with pytest.raises(Conflict):
        migrations.request_migration(world.ctx, vm.id, to(b_id, storage="copy"))
    # The fake, as libvirt on a file system it does not know as shared, refuses the move
    # unless vmpool vouches for the storage (VIR_MIGRATE_UNSAFE): it completing shows it did.
    m = world.settled(migrations.request_migration(world.ctx, vm.id, to(b_id)).id)

    assert m.state == "completed" and m.storage == "shared"
    assert world.vm(vm.id).host_id == b_id and world.cloud.where(vm.uuid) == [b.uri]
    assert b.calls_of("prepare_storage") == 0 and b.volumes == {}
    [request] = a.migration_requests
    assert request.trust_shared_storage and not request.copy_storage and request.disks == ()
    assert world.cloud.shared_volumes == {vm.disk_path: 4}  # the same file, still there
    assert world.allocated(a_id) == NOTHING
    # A disk on shared storage takes nothing of a host's own disk (issue 10).
    assert world.allocated(b_id) == ResourceFigures(vcpus=1.0, memory_mib=64.0, disk_gib=0.0)


def test_a_failed_migration_leaves_the_vm_on_its_source(world: World) -> None:
    a_id, a = world.add_host("a")
    b_id, b = world.add_host("b")
    vm = world.create("stayer", on="a")
    a.fail_next_migration("operation failed: the target refused the incoming migration")

    queued = migrations.request_migration(world.ctx, vm.id, migrations.MigrateOptions())
    assert queued.target_host == "b"  # the only other host
    m = world.settled(queued.id)

    assert m.state == "failed" and m.error == (
        "operation failed: the target refused the incoming migration"
    )
    after = world.vm(vm.id)
    assert (after.host_id, after.state) == (a_id, "running")
    assert world.cloud.where(vm.uuid) == [a.uri] and a.state_of(vm.uuid) == PowerState.RUNNING
    assert b.domain_uuids() == set() and b.state_of(vm.uuid) is None  # no incoming left
    assert world.allocated(b_id) == NOTHING
    assert world.allocated(a_id) == ResourceFigures(vcpus=1.0, memory_mib=64.0, disk_gib=0.0)
    # It can be tried again.
    again = world.settled(migrations.request_migration(world.ctx, vm.id, to(b_id)).id)
    assert again.state == "completed" and world.vm(vm.id).host_id == b_id


def test_a_migration_held_in_flight_shows_progress_and_can_be_cancelled(world: World) -> None:
    a_id, a = world.add_host("a")
    b_id, b = world.add_host("b")
    vm = world.create("held", on="a", memory_mib=96)
    a.hold_migrations()

    queued = migrations.request_migration(world.ctx, vm.id, to(b_id))
    progress = a.wait_for_migration(vm.uuid)
    assert progress.active and progress.data_total == 96 * 1024 * 1024
    assert progress.data_processed == progress.data_total // a.migration_steps
    # libvirt's incoming domain waits, paused, on the target.
    assert b.state_of(vm.uuid) == PowerState.PAUSED and world.cloud.where(vm.uuid) == [a.uri]

    # The runner records the progress it reads while the job runs.
    wait_until(lambda: world.migration(queued.id).data_processed is not None, "progress")
    running = world.migration(queued.id)
    assert running.state == "running" and running.started_at is not None
    assert running.data_total == progress.data_total
    assert running.data_processed == progress.data_processed
    assert running.current_max_downtime_ms is not None
    assert world.vm(vm.id).state == "migrating"
    # The target's capacity is claimed while it runs.
    assert world.allocated(b_id) == ResourceFigures(vcpus=1.0, memory_mib=96.0, disk_gib=0.0)

    cancelling = migrations.cancel_migration(world.ctx, queued.id)
    assert cancelling.cancel_requested and cancelling.state == "running"
    m = world.settled(queued.id)

    assert m.state == "cancelled" and m.error == "cancelled"
    assert a.calls_of("abort_job") >= 1
    assert a.get_domain(vm.uuid).job is None
    after = world.vm(vm.id)
    assert (after.host_id, after.state) == (a_id, "running")
    assert world.cloud.where(vm.uuid) == [a.uri] and b.state_of(vm.uuid) is None
    assert world.allocated(b_id) == NOTHING
    with pytest.raises(InvalidState):
        migrations.cancel_migration(world.ctx, queued.id)


def test_a_migration_that_does_not_complete_in_time_is_aborted(world: World) -> None:
    a_id, a = world.add_host("a")
    b_id, b = world.add_host("b")
    vm = world.create("slow", on="a", memory_mib=64)
    a.hold_migrations()  # it never converges

    # The shortest allowed: 1 s per GiB, and at least 1 s (Nova's rule).
    opts = to(b_id, completion_timeout_s_per_gib=1)
    m = world.settled(migrations.request_migration(world.ctx, vm.id, opts).id)

    assert m.state == "failed"
    assert m.error is not None and m.error.startswith("timeout: not completed within 1 s")
    assert a.calls_of("abort_job") >= 1 and a.calls_of("start_post_copy") == 0
    # The allowed downtime was raised in steps while it waited, never past the maximum.
    steps = a.get_domain(vm.uuid).downtimes_set
    assert steps[0] == 125 and steps == sorted(steps) and steps[-1] <= 500
    assert len(steps) >= 2
    after = world.vm(vm.id)
    assert (after.host_id, after.state) == (a_id, "running")
    assert world.cloud.where(vm.uuid) == [a.uri] and b.state_of(vm.uuid) is None
    assert world.allocated(b_id) == NOTHING


def test_at_the_timeout_a_post_copy_migration_switches_and_completes(world: World) -> None:
    _, a = world.add_host("a")
    b_id, b = world.add_host("b")
    vm = world.create("switcher", on="a")
    a.hold_migrations()

    opts = to(b_id, completion_timeout_s_per_gib=1, allow_post_copy=True)
    m = world.settled(migrations.request_migration(world.ctx, vm.id, opts).id)

    assert m.state == "completed" and m.post_copy
    assert a.calls_of("start_post_copy") == 1 and a.calls_of("abort_job") == 0
    assert world.vm(vm.id).host_id == b_id
    assert world.cloud.where(vm.uuid) == [b.uri]


# --- maintenance -----------------------------------------------------------------------


def test_maintenance_evacuates_every_running_vm(world: World) -> None:
    a_id, a = world.add_host("a")
    b_id, b = world.add_host("b")
    c_id, c = world.add_host("c")
    moved = [world.create(f"evac-{i}", on="a", disk_gib=1 if i == 0 else 0) for i in range(3)]
    stays = world.create("elsewhere", on="b")

    view = maintenance.enter_maintenance(world.ctx, a_id, "op")
    assert view.state == "maintenance" and view.maintenance_since is not None

    def evacuation() -> Evacuation:
        e = world.host(a_id).evacuation
        assert isinstance(e, Evacuation)
        return e

    wait_until(lambda: evacuation().status != "evacuating", "the evacuation")
    done = evacuation()
    assert done.status == "done" and done.vms_remaining == 0
    assert sorted((i.vm_name, i.state) for i in done.items) == [
        (f"evac-{i}", "completed") for i in range(3)
    ]
    ms = migrations.list_migrations(world.ctx, host_id=a_id)
    assert len(ms) == 3 and {m.reason for m in ms} == {"evacuation"}
    for vm in moved:
        after = world.vm(vm.id)
        assert after.host_id in (b_id, c_id) and after.state == "running"
        fake = b if after.host_id == b_id else c
        assert world.cloud.where(vm.uuid) == [fake.uri]
    assert a.domain_uuids() == set() and a.volumes == {}  # the copied disk left too
    assert world.vm(stays.id).host_id == b_id
    assert world.allocated(a_id) == NOTHING and world.host(a_id).vm_count == 0
    # A host in maintenance takes no new VM.
    with pytest.raises(NoCapacity):
        world.create("late", on="a")


def test_a_vm_busy_moving_at_maintenance_entry_is_evacuated_once_that_move_fails(
    world: World,
) -> None:
    """A VM in the middle of another migration when its host enters maintenance is not
    asked for then; if that migration leaves it on the host (cancelled here), the migration
    queue's job asks for its evacuation, once."""
    a_id, a = world.add_host("a")
    b_id, _ = world.add_host("b")
    world.add_host("c")
    busy = world.create("busy", on="a")
    a.hold_migrations()
    elsewhere = migrations.request_migration(world.ctx, busy.id, to(b_id))
    a.wait_for_migration(busy.uuid)

    maintenance.enter_maintenance(world.ctx, a_id, "op")
    e = world.host(a_id).evacuation
    assert isinstance(e, Evacuation)
    assert [(i.vm_name, i.state) for i in e.items] == [("busy", "pending")]

    migrations.cancel_migration(world.ctx, elsewhere.id)
    assert world.settled(elsewhere.id).state == "cancelled"
    a.release_migrations()
    assert world.vm(busy.id).host_id == a_id  # still there, and nobody asks for it...

    jobs.settle_migrations(world.ctx)  # ...but the queue's job does
    wait_until(lambda: world.vm(busy.id).host_id != a_id, "the evacuation")
    e = world.host(a_id).evacuation
    assert isinstance(e, Evacuation) and e.status == "done", e
    moves = migrations.list_migrations(world.ctx, host_id=a_id)
    assert sorted(m.reason for m in moves) == ["api", "evacuation"]
    jobs.settle_migrations(world.ctx)  # once: nothing more is asked for
    assert len(migrations.list_migrations(world.ctx, host_id=a_id)) == 2


# --- rebalance plans -------------------------------------------------------------------


def test_a_plan_skips_a_step_that_became_invalid_and_runs_the_others(world: World) -> None:
    a_id, a = world.add_host("a")
    world.add_host("b")
    world.add_host("c")
    made = {v.name: v for v in (world.create(f"r{i}", on="a") for i in range(6))}
    pool_id = world.host(a_id).pool_id

    proposal = rebalance.create_plan(
        world.ctx, pool_id, rebalance.PlanRequest(max_moves=3), False, "op"
    )
    assert proposal.id is not None and proposal.state == "proposed"
    plan_id = proposal.id
    assert len(proposal.steps) == 3
    assert len({s.vm_name for s in proposal.steps}) == 3
    assert all(s.source_host == "a" for s in proposal.steps)
    first, second, third = proposal.steps

    a.hold_migrations()
    running = plan_execution.approve_plan(world.ctx, plan_id, "op")
    assert running.state == "running"
    assert [s.state for s in running.steps] == ["running", "pending", "pending"]
    a.wait_for_migration(made[first.vm_name].uuid)

    # Before its turn, the second step's VM is deleted; the step waits for its turn.
    vms.delete_vm(world.ctx, made[second.vm_name].id)
    plan_execution.advance_plan(world.ctx, plan_id)
    assert [s.state for s in plan_views.get_plan(world.ctx, plan_id).steps] == [
        "running",
        "pending",
        "pending",
    ]
    a.release_migrations()

    def plan_done() -> bool:
        plan_execution.advance_plan(world.ctx, plan_id)  # what the scheduler's tick does
        return plan_views.get_plan(world.ctx, plan_id).state == "completed"

    wait_until(plan_done, "the plan")
    done = plan_views.get_plan(world.ctx, plan_id)
    assert [s.state for s in done.steps] == ["completed", "skipped", "completed"]
    assert done.steps[1].detail == f"VM {second.vm_name} no longer exists"
    assert done.steps[1].migration_id is None
    assert done.score_final is not None and done.finished_at is not None
    for step in (first, third):
        vm = made[step.vm_name]
        target = world.cloud.host(f"qemu+tls://{step.target_host}.example/system")
        assert world.vm(vm.id).host_name == step.target_host
        assert world.cloud.where(vm.uuid) == [target.uri]
        assert world.migration(done.steps[step.seq - 1].migration_id or 0).reason == "rebalance"
    assert world.cloud.where(made[second.vm_name].uuid) == []
    assert len(a.domain_uuids()) == 3


# --- crash recovery --------------------------------------------------------------------


def _left_mid_way(
    world: World, vm: VmView, source_id: int, target_id: int, state: str
) -> int:  # fmt: skip
    """A migration record as a vmpool that died mid-way leaves it."""
    with world.ctx.uow() as uow:
        row = uow.vms.get(vm.id)
        m = add_migration(uow, row, uow.hosts.get(source_id), uow.hosts.get(target_id), state)
        if state == "running":
            m.started_at = world.ctx.clock()
            row.state = "migrating"
        uow.commit()
        return m.id


def _request_to(target: FakeHost) -> MigrationRequest:
    return MigrationRequest(dest_uri=target.uri, data_uri="tcp://target.example")


def test_migrations_left_mid_way_are_settled_from_where_the_domain_is(world: World) -> None:
    a_id, a = world.add_host("a")
    b_id, b = world.add_host("b")
    arrived = world.create("arrived", on="a")
    stayed = world.create("stayed", on="a")
    lost = world.create("lost", on="a")
    unstarted = world.create("unstarted", on="a")
    # libvirt finished one move while vmpool was gone; another VM vanished from both hosts.
    a.migrate(arrived.uuid, _request_to(b))
    a.undefine_out_of_band(lost.uuid)
    ids = {
        "arrived": _left_mid_way(world, arrived, a_id, b_id, "running"),
        "stayed": _left_mid_way(world, stayed, a_id, b_id, "running"),
        "lost": _left_mid_way(world, lost, a_id, b_id, "running"),
        "unstarted": _left_mid_way(world, unstarted, a_id, b_id, "preparing"),
    }

    result = migration_recovery.resolve_unowned(world.ctx, set)
    assert sorted(result.settled) == sorted(ids.values()) and result.still_running == []

    assert world.migration(ids["arrived"]).state == "completed"
    assert (world.vm(arrived.id).host_id, world.vm(arrived.id).state) == (b_id, "running")

    m = world.migration(ids["stayed"])
    assert m.state == "failed" and m.error is not None and "stayed on its source" in m.error
    assert (world.vm(stayed.id).host_id, world.vm(stayed.id).state) == (a_id, "running")

    m = world.migration(ids["lost"])
    assert m.state == "failed" and m.error is not None and "neither host" in m.error
    assert world.vm(lost.id).state == "error"

    # Never started: queued again, and the runner takes it from there.
    assert world.migration(ids["unstarted"]).state == "queued"
    assert world.vm(unstarted.id).state == "running"
    jobs.settle_migrations(world.ctx)
    assert world.settled(ids["unstarted"]).state == "completed"
    assert world.vm(unstarted.id).host_id == b_id
    assert world.cloud.where(unstarted.uuid) == [b.uri]
    assert world.allocated(a_id) == ResourceFigures(vcpus=2.0, memory_mib=128.0, disk_gib=0.0)
    assert world.allocated(b_id) == ResourceFigures(vcpus=2.0, memory_mib=128.0, disk_gib=0.0)


def test_a_migration_libvirt_still_runs_is_adopted_and_followed_to_its_end(
    world: World,
) -> None:
    a_id, a = world.add_host("a")
    b_id, b = world.add_host("b")
    vm = world.create("orphan", on="a")
    a.hold_migrations()
    a.migrate_in_background(vm.uuid, _request_to(b))  # the vmpool that started it died
    a.wait_for_migration(vm.uuid)
    mid = _left_mid_way(world, vm, a_id, b_id, "running")

    result = migration_recovery.resolve_unowned(world.ctx, set)
    assert result.settled == [] and result.still_running == [mid]
    assert world.migration(mid).state == "running"

    jobs.settle_migrations(world.ctx)  # the daemon's queue job: it adopts the migration
    wait_until(lambda: mid in world.runtime.migration_runner.owned(), "the adoption")
    assert world.migration(mid).state == "running"
    a.release_migrations()
    m = world.settled(mid)

    assert m.state == "completed" and m.downtime_ms == a.migration_downtime_ms
    after = world.vm(vm.id)
    assert (after.host_id, after.state) == (b_id, "running")
    assert world.cloud.where(vm.uuid) == [b.uri]
    assert world.allocated(a_id) == NOTHING


def test_a_migration_whose_target_cannot_tell_is_left_to_recovery_not_failed(
    world: World,
) -> None:
    """The target runs the VM but cannot be asked at the end: recording a failure would
    leave the VM `error` on its source and the target's claim released."""
    a_id, _a = world.add_host("a")
    b_id, b = world.add_host("b")
    vm = world.create("quiet-target", on="a")
    b.fail_next("is_active", HostUnreachable("a blip", uri=b.uri))

    queued = migrations.request_migration(world.ctx, vm.id, to(b_id))
    wait_until(lambda: queued.id not in world.runtime.migration_runner.owned()
               and world.cloud.where(vm.uuid) == [b.uri], "the worker to let go")  # fmt: skip
    assert world.migration(queued.id).state == "running"  # undecided, not failed
    assert world.vm(vm.id).state == "migrating"

    result = migration_recovery.resolve_unowned(world.ctx, world.runtime.migration_runner.owned)
    assert result.settled == [queued.id]
    m = world.migration(queued.id)
    assert m.state == "completed"
    after = world.vm(vm.id)
    assert (after.host_id, after.state, after.last_error) == (b_id, "running", None)
    assert world.allocated(a_id) == NOTHING


def test_a_migration_whose_source_cannot_be_reached_at_start_fails_at_once(
    world: World,
) -> None:
    a_id, a = world.add_host("a")
    b_id, _b = world.add_host("b")
    vm = world.create("cut-off", on="a")
    a.unreachable = True  # the sync has not noticed yet: the database still says up

    m = world.settled(migrations.request_migration(world.ctx, vm.id, to(b_id)).id)

    assert m.state == "failed" and m.error is not None and m.error.startswith("not started:")
    after = world.vm(vm.id)
    assert (after.host_id, after.state) == (a_id, "running")
    assert world.allocated(b_id) == NOTHING  # the target's claim went with the failure
