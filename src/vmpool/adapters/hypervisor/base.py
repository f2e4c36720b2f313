"""What every part of a libvirt host adapter shares: the connection, the error guard and
the deadline of each call (deadline.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Concatenate, ParamSpec, TypeVar

import libvirt

from vmpool.adapters.hypervisor.deadline import HostCalls
from vmpool.adapters.hypervisor.errors import translated
from vmpool.errors import HypervisorOperationInvalid


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

    def _attach_device(self, uuid: str, xml: str) -> None:
        """Hot-plug a device: into the running domain if it runs, and its definition."""
        with self._guard():
            dom = self._conn.lookupByUUIDString(uuid)
            flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
            if dom.isActive():
                flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
            dom.attachDeviceFlags(xml, flags)

    def _detach_device(
        self, uuid: str, xml: str, present: Callable[[str], bool], what: str, wait_s: float
    ) -> None:
        """Unplug a device: from the running domain first, confirmed by its live XML
        (`present` of the XML; libvirt returns before the guest lets go), then from its
        definition. Raises if the guest has not let go within `wait_s`: what backs the
        device must not go yet."""
        with self._guard():
            dom = self._conn.lookupByUUIDString(uuid)
            if dom.isActive() and present(dom.XMLDesc(0)):
                dom.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)
                deadline = time.monotonic() + wait_s
                while present(dom.XMLDesc(0)):
                    if time.monotonic() > deadline:
                        raise HypervisorOperationInvalid(
                            f"the guest did not release {what} within {wait_s:.0f} s; try again",
                            device=what,
                        )
                    time.sleep(0.2)
            if present(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)):
                dom.detachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_CONFIG)


H = TypeVar("H", bound=HostBase)
P = ParamSpec("P")
R = TypeVar("R")


def bounded(method: Callable[Concatenate[H, P], R]) -> Callable[Concatenate[H, P], R]:
    """The call runs with the host's deadline (deadline.py)."""

    def call(self: H, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._calls.run(self._uri, lambda: method(self, *args, **kwargs))

    call.__name__, call.__doc__ = method.__name__, method.__doc__
    return call
