"""Every call on a host has a deadline, and one host never holds up another.

libvirt calls have no time limit of their own: a host that accepts connections but never
answers (a hung libvirtd; in the lab, one stopped with SIGSTOP) blocks its caller until it
answers again. So each call runs on a worker of that host's own small pool and the caller
waits at most `timeout_s`:

- a call that misses its deadline raises `HostUnreachable` (503, temporary); the host is
  then cut off for `timeout_s`: further calls fail at once instead of each waiting out the
  deadline, and its connection is dropped;
- libvirt keepalive (`event_loop.py`) closes a connection whose daemon stopped answering,
  which frees the worker still waiting inside libvirt;
- each host has its own workers (at most `workers_per_host` threads, however many calls
  are stuck), so a frozen host cannot exhaust the threads other hosts need.

A call made from one of the host's own workers (a bounded method calling another) runs
inline, so that nested calls cannot deadlock the pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from vmpool.errors import HostUnreachable

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 30.0
WORKERS_PER_HOST = 4


class HostCalls:
    def __init__(
        self,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        on_timeout: Callable[[str], None] | None = None,
        workers_per_host: int = WORKERS_PER_HOST,
    ) -> None:
        self.timeout_s = timeout_s
        self._on_timeout = on_timeout
        self._workers_per_host = workers_per_host
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._cut_off_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def check(self, uri: str) -> None:
        """Fail at once while `uri` is cut off after a missed deadline."""
        until = self._cut_off_until.get(uri)
        if until is not None and time.monotonic() < until:
            raise HostUnreachable(
                f"host {uri} did not answer within {self.timeout_s:g} s; "
                f"not asked again for {until - time.monotonic():.0f} s",
                uri=uri,
            )

    def run(self, uri: str, call: Callable[[], T]) -> T:
        if getattr(self._local, "uri", None) == uri:
            return call()  # already on this host's worker
        self.check(uri)
        future = self._pool(uri).submit(self._on_worker, uri, call)
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout:
            future.cancel()  # if it never started
            self.cut_off(uri)
            if self._on_timeout is not None:
                self._on_timeout(uri)
            raise HostUnreachable(
                f"host {uri} did not answer within {self.timeout_s:g} s", uri=uri
            ) from None

    def cut_off(self, uri: str) -> None:
        with self._lock:
            self._cut_off_until[uri] = time.monotonic() + self.timeout_s

    def _on_worker(self, uri: str, call: Callable[[], T]) -> T:
        self._local.uri = uri
        try:
            return call()
        finally:
            self._local.uri = None

    def _pool(self, uri: str) -> ThreadPoolExecutor:
        with self._lock:
            pool = self._pools.get(uri)
            if pool is None:
                pool = ThreadPoolExecutor(
                    max_workers=self._workers_per_host, thread_name_prefix=f"host {uri}"
                )
                self._pools[uri] = pool
            return pool

    def close(self) -> None:
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
