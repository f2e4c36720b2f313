"""The daemon and its service manager, on the fake hosts: the notify datagrams on a real
socket, READY=1 held until the first sync round has synced every host, a graceful stop that
leaves a running migration to libvirt, and the local host registered once."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_world import World, to, wait_until
from vmpool.adapters.systemd_notify import SystemdNotifier
from vmpool.domain.ports import DomainInfo
from vmpool.services import hosts, migration_recovery, migrations
from vmpool.services.service_status import StartupGate, status_line
from vmpool.services.sync import HostSyncer


@pytest.fixture
def notify_socket() -> Iterator[socket.socket]:
    """A datagram socket in the abstract namespace, as systemd's would be."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(f"\0vmpool-test-{os.getpid()}-{time.monotonic_ns()}")
    s.settimeout(5)
    yield s
    s.close()


def test_the_notifier_sends_the_protocol_lines(notify_socket: socket.socket) -> None:
    name = notify_socket.getsockname()
    address = "@" + (name[1:].decode() if isinstance(name, bytes) else name[1:])
    n = SystemdNotifier(address, watchdog_usec=2_000_000)
    assert n.watchdog_interval_s == 1.0
    n.ready("leader: 2/2 hosts up")
    n.watchdog()
    n.status("a status\nof two lines")
    n.stopping("stopping (SIGTERM)")
    got = [notify_socket.recv(4096).decode() for _ in range(4)]
    assert got == [
        "READY=1\nSTATUS=leader: 2/2 hosts up",
        "WATCHDOG=1",
        "STATUS=a status of two lines",
        "STOPPING=1\nSTATUS=stopping (SIGTERM)",
    ]


def test_a_notify_socket_that_is_gone_is_no_failure(tmp_path: Path) -> None:
    n = SystemdNotifier(str(tmp_path / "gone.sock"))
    n.ready("ready")  # logged once, never raised: the daemon serves on
    n.watchdog()


def test_ready_waits_for_the_first_round_to_sync_every_host(world: World) -> None:
    _, fast = world.add_host("fast")
    _, slow = world.add_host("slow")
    release = threading.Event()
    entered = threading.Event()
    listing = slow.list_domains

    def slow_listing() -> list[DomainInfo]:
        entered.set()
        release.wait(10)
        return listing()

    slow.list_domains = slow_listing  # type: ignore[method-assign]
    gate = StartupGate(None, ["first-sync"])
    syncer = HostSyncer(world.ctx, 60, 300, world.ctx.clock(),
                        on_first_round=lambda: gate.met("first-sync"))  # fmt: skip
    try:
        assert len(syncer.round()) == 2
        assert entered.wait(5)
        time.sleep(0.2)  # the fast host is done by now; the slow one holds the round
        assert fast.calls_of("list_domains") == 1 and not gate.ready
        release.set()
        wait_until(lambda: gate.ready, "the end of the first round")
    finally:
        release.set()
        syncer.close()


def test_a_first_round_with_no_host_due_is_over_at_once(world: World) -> None:
    gate = StartupGate(None, ["first-sync"])
    syncer = HostSyncer(world.ctx, 60, 300, world.ctx.clock(),
                        on_first_round=lambda: gate.met("first-sync"))  # fmt: skip
    try:
        assert syncer.round() == []
        assert gate.ready
    finally:
        syncer.close()


def test_a_graceful_stop_leaves_a_running_migration_to_libvirt(world: World) -> None:
    _, a = world.add_host("a")
    b_id, _ = world.add_host("b")
    vm = world.create("mover", on="a")
    a.hold_migrations()  # it runs until released
    m = migrations.request_migration(world.ctx, vm.id, to(b_id))
    a.wait_for_migration(vm.uuid)
    wait_until(lambda: world.migration(m.id).state == "running", "the migration to run")

    start = time.monotonic()
    left = world.runtime.close(leave_migrations=True)
    assert time.monotonic() - start < 5  # not waited for: the workers leave within a poll

    assert left == [m.id]
    assert world.migration(m.id).state == "running"  # its record as it was
    assert world.vm(vm.id).state == "migrating"
    assert a.job_progress(vm.uuid).active  # libvirt carries it on
    # The next start finds it still running and follows it (the queue job adopts it).
    found = migration_recovery.resolve_unowned(world.ctx, set)
    assert found.still_running == [m.id] and found.settled == []
    assert status_line(world.ctx, "single daemon") == (
        "single daemon: 2/2 hosts up, 1 migration in flight"
    )


def test_the_local_host_is_registered_once(world: World) -> None:
    uri = "qemu+tls://local.example/system"
    world.cloud.add_host(uri, hostname="local.example")
    first = hosts.register_local_host(world.ctx, uri)
    assert first is not None and first.name == "local" and first.uri == uri
    assert hosts.register_local_host(world.ctx, uri) is None  # the next start: nothing
    assert [h.uri for h in hosts.list_hosts(world.ctx)] == [uri]
