"""What every part of a libvirt host adapter shares: the connection, the error guard and
the deadline of each call (deadline.py)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Concatenate, ParamSpec, TypeVar

import libvirt

from vmpool.adapters.hypervisor.deadline import HostCalls
from vmpool.adapters.hypervisor.errors import translated


class HostBase:
    def __init__(
        self,
        uri: str,
        conn: libvirt.virConnect,
        on_broken: Callable[[], None],
        calls: HostCalls,
    ) -> None:
        self._uri = uri
        self._conn = conn
        self._on_broken = on_broken
        self._calls = calls

    @property
    def uri(self) -> str:
        return self._uri

    def _guard(self) -> AbstractContextManager[None]:
        return translated(self._uri, on_unreachable=self._on_broken)


H = TypeVar("H", bound=HostBase)
P = ParamSpec("P")
R = TypeVar("R")


def bounded(method: Callable[Concatenate[H, P], R]) -> Callable[Concatenate[H, P], R]:
    """The call runs with the host's deadline (deadline.py)."""

    def call(self: H, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._calls.run(self._uri, lambda: method(self, *args, **kwargs))

    call.__name__, call.__doc__ = method.__name__, method.__doc__
    return call
