"""What the daemon tells systemd, without a socket: when READY=1 goes out (the startup
gate), how the notify adapter reads its environment, and when a replica knows its role."""

from __future__ import annotations

import threading
from typing import Any, cast

from vmpool.adapters.systemd_notify import SystemdNotifier
from vmpool.services.leadership import Leadership
from vmpool.services.service_status import StartupGate


class Recorder:
    """A service manager that remembers what it was told."""

    enabled = True
    watchdog_interval_s = None

    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def ready(self, status: str) -> None:
        self.said.append(("ready", status))

    def status(self, status: str) -> None:
        self.said.append(("status", status))

    def watchdog(self) -> None:
        self.said.append(("watchdog", ""))

    def stopping(self, status: str) -> None:
        self.said.append(("stopping", status))


def test_ready_goes_out_once_every_condition_is_met() -> None:
    manager = Recorder()
    gate = StartupGate(manager, ["listening"])
    gate.require("first-sync")
    gate.status = lambda: "single daemon: 2/2 hosts up"
    gate.met("listening")
    gate.met("listening")
    assert manager.said == [] and not gate.ready
    gate.met("first-sync")
    assert manager.said == [("ready", "single daemon: 2/2 hosts up")] and gate.ready
    gate.require("late")  # after READY=1: nothing more to wait for
    gate.met("first-sync")
    assert len(manager.said) == 1


def test_ready_goes_out_once_when_conditions_are_met_from_many_threads() -> None:
    manager = Recorder()
    names = [f"c{i}" for i in range(8)]
    gate = StartupGate(manager, names)
    threads = [threading.Thread(target=gate.met, args=(n,)) for n in names * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [what for what, _ in manager.said] == ["ready"]


def test_a_status_that_fails_does_not_hold_ready_back() -> None:
    manager = Recorder()
    gate = StartupGate(manager, ["x"])

    def broken() -> str:
        raise RuntimeError("no status")

    gate.status = broken
    gate.met("x")
    assert manager.said == [("ready", "ready")]


def test_the_notifier_reads_its_environment_and_takes_it_out() -> None:
    env = {"NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "30000000", "PATH": "/bin"}
    n = SystemdNotifier.from_environment(env)
    assert n.enabled and n.watchdog_interval_s == 15.0
    assert env == {"PATH": "/bin"}  # the commands the daemon runs do not inherit them

    abstract = SystemdNotifier.from_environment({"NOTIFY_SOCKET": "@vmpool-notify"})
    assert abstract.enabled and abstract.watchdog_interval_s is None
    assert abstract._address == b"\0vmpool-notify"

    # the watchdog of another process, a relative path, or no socket at all: nothing
    other = {"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"}
    assert SystemdNotifier.from_environment(other).watchdog_interval_s is None
    assert not SystemdNotifier.from_environment({"NOTIFY_SOCKET": "relative"}).enabled
    none = SystemdNotifier.from_environment({"WATCHDOG_USEC": "1000"})
    assert not none.enabled and none.watchdog_interval_s is None
    none.ready("x")  # no socket: nothing is sent, nothing fails


class NeverMine:
    """A leader lock that another replica always holds."""

    def try_acquire(self) -> bool:
        return False

    def held(self) -> bool:
        return False

    def release(self) -> None:
        pass


def test_a_follower_says_it_knows_its_role_once() -> None:
    decided: list[bool] = []
    done = threading.Event()

    def on_decided(leader: bool) -> None:
        decided.append(leader)
        done.set()

    ctx = cast(Any, None)  # a follower's round never reaches the database
    leadership = Leadership(ctx, NeverMine(), "me", "host", 1, lambda g: None, lambda: None,
                            on_decided=on_decided)  # fmt: skip
    leadership.start(0.01)
    try:
        assert done.wait(5)
        threading.Event().wait(0.1)  # a few more rounds
    finally:
        leadership.stop()
    assert decided == [False]
