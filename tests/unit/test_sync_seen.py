"""The sync's shared write of last_seen_at: hosts that answer while one write is under
way go into the next one (a group commit), and a failed write leaves the rest pending."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from vmpool.services.sync import SeenWriter

AT = datetime(2026, 11, 28, tzinfo=UTC)


class FakeUow:
    def __init__(self, log: list[list[int]], gate: threading.Event, fail: list[bool]) -> None:
        self.hosts = SimpleNamespace(mark_seen=self._hosts, record_facts=self._facts)
        self.networks = SimpleNamespace(mark_seen_on_hosts=lambda seen: None)
        self._log, self._gate, self._fail = log, gate, fail

    def _hosts(self, seen: list[tuple[int, datetime]]) -> None:
        self._gate.wait(5)
        if self._fail and self._fail.pop():
            raise RuntimeError("the database went away")
        self._log.append([h for h, _ in seen])

    def _facts(self, rows: list[tuple[int, datetime, dict[str, object]]]) -> None:
        if rows:
            self._log.append([-h for h, _, _ in rows])  # negative: with new facts

    def __enter__(self) -> FakeUow:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def commit(self) -> None:
        pass


def _writer(gate: threading.Event, fail: list[bool] | None = None) -> tuple[SeenWriter, list]:
    log: list[list[int]] = []
    ctx = SimpleNamespace(uow=lambda: FakeUow(log, gate, fail or []))
    return SeenWriter(ctx), log  # type: ignore[arg-type]


def test_hosts_seen_during_a_write_share_the_next_one() -> None:
    gate = threading.Event()
    writer, log = _writer(gate)
    first = threading.Thread(target=writer.add, args=(1, AT, False))
    first.start()
    while not writer._writing:  # the first write is under way (held at the gate)
        pass
    for host in (2, 3, 4):
        writer.add(host, AT, False)  # returns at once: the writing worker takes it
    writer.add(5, AT, False, {"cpus": 48})
    gate.set()
    first.join(5)
    assert log == [[1], [2, 3, 4], [-5]]


def test_a_failed_write_leaves_the_later_hosts_for_the_next_flush() -> None:
    gate = threading.Event()
    gate.set()
    writer, log = _writer(gate, fail=[True])
    with pytest.raises(RuntimeError):
        writer.add(1, AT, False)
    writer.add(2, AT, False)
    writer.flush()
    assert log == [[2]]
