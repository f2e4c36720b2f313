"""The sync at scale (issue 13): a host whose answer matches the database costs one read,
which takes no write lock, and a share of one write for the last_seen_at of every such
host; a host with something to correct is written as before."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from tests.support.fake_world import World
from vmpool.adapters.db.tables import HostRow, VmRow
from vmpool.services import sync


@contextmanager
def counting_transactions(world: World) -> Iterator[dict[str, int]]:
    """How many transactions began, by kind (`write` takes SQLite's write lock)."""
    counts = {"read": 0, "write": 0}

    def began(conn: Any) -> None:
        read_only = conn.get_execution_options().get("vmpool_read_only", False)
        counts["read" if read_only else "write"] += 1

    event.listen(world.runtime.engine, "begin", began)
    try:
        yield counts
    finally:
        event.remove(world.runtime.engine, "begin", began)


def _seen(world: World) -> dict[int, Any]:
    with world.ctx.read_uow() as uow:
        return dict(uow.session.execute(select(HostRow.id, HostRow.last_seen_at)).all())


def _vm_updated(world: World) -> dict[int, Any]:
    with world.ctx.read_uow() as uow:
        return dict(uow.session.execute(select(VmRow.id, VmRow.updated_at)).all())


def test_hosts_that_match_the_database_share_one_write(world: World) -> None:
    for name in ("a", "b", "c"):
        world.add_host(name)
    for i in range(6):
        world.create(f"vm-{i}")
    sync.sync_all(world.ctx, base_interval_s=1.0, max_backoff_s=10.0)
    before, vms_before = _seen(world), _vm_updated(world)

    with counting_transactions(world) as counts:
        report = sync.sync_all(world.ctx, base_interval_s=1.0, max_backoff_s=10.0, workers=1)
    assert report.hosts_checked == 3 and report.vms_corrected == []
    # One read per host (and the due hosts'); only last_seen_at is written: with one
    # worker, nothing is written meanwhile to group it with (three writes, not nine).
    assert counts == {"read": 4, "write": 3}
    after = _seen(world)
    assert all(after[h] > before[h] for h in before)  # each one that answered
    assert _vm_updated(world) == vms_before  # no VM row written


def test_a_host_with_a_change_is_corrected_and_the_others_stay_untouched(world: World) -> None:
    _, a = world.add_host("a")
    world.add_host("b")
    on_a = world.create("on-a", on="a")
    on_b = world.create("on-b", on="b")
    sync.sync_all(world.ctx, base_interval_s=1.0, max_backoff_s=10.0)
    vms_before = _vm_updated(world)

    a.power_off_out_of_band(on_a.uuid)
    with counting_transactions(world) as counts:
        report = sync.sync_all(world.ctx, base_interval_s=1.0, max_backoff_s=10.0, workers=1)
    assert report.vms_corrected == ["on-a"]
    assert counts["write"] == 2  # host a's own transaction; b's last_seen_at
    assert world.vm(on_a.id).state == "stopped"
    assert _vm_updated(world)[on_b.id] == vms_before[on_b.id]


def test_a_new_inventory_is_recorded_without_touching_the_vms(world: World) -> None:
    a_id, a = world.add_host("a")
    vm = world.create("steady")
    sync.sync_all(world.ctx, base_interval_s=1.0, max_backoff_s=10.0)
    vms_before, seen_before = _vm_updated(world), _seen(world)

    a.cpus = 48  # the host grew
    sync.sync_all(world.ctx, base_interval_s=1.0, max_backoff_s=10.0)
    assert world.host(a_id).cpus == 48
    assert _seen(world)[a_id] > seen_before[a_id]
    assert _vm_updated(world) == vms_before and world.vm(vm.id).state == "running"


def test_a_read_only_unit_of_work_cannot_commit(world: World) -> None:
    with world.ctx.read_uow() as uow, pytest.raises(RuntimeError):
        uow.commit()
