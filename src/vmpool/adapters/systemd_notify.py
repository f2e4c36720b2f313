"""systemd's service notification protocol (sd_notify(3)), the `ServiceManager` port.

The protocol is a datagram of `KEY=VALUE` lines sent to the AF_UNIX socket named by
`$NOTIFY_SOCKET` (a path, or an abstract socket written `@name`); the watchdog's period is
`$WATCHDOG_USEC`, meant for the process `$WATCHDOG_PID` if set. Both are read once, then
taken out of the environment so that the commands the daemon runs (fence commands) do not
inherit them. With no `$NOTIFY_SOCKET` (not started by systemd, or not `Type=notify`),
nothing is sent.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import MutableMapping

log = logging.getLogger(__name__)

ENVIRONMENT = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


class SystemdNotifier:
    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        """`address`: the socket, as `$NOTIFY_SOCKET` gives it; `watchdog_usec`: the
        watchdog's timeout (systemd's `WatchdogSec=`), None if it has none."""
        self._address: str | bytes | None = None
        if address and address.startswith("@"):
            self._address = b"\0" + address[1:].encode()  # Linux's abstract namespace
        elif address and address.startswith("/"):
            self._address = address
        elif address:
            log.warning("NOTIFY_SOCKET=%s is not a socket this daemon can use: ignored", address)
        self._watchdog_usec = watchdog_usec if self._address is not None else None
        self._failed = False

    @classmethod
    def from_environment(
        cls, environ: MutableMapping[str, str] | None = None, unset: bool = True
    ) -> SystemdNotifier:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or None
        usec_text, pid_text = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
        usec = int(usec_text) if usec_text.isdigit() and int(usec_text) > 0 else None
        if pid_text and pid_text != str(os.getpid()):
            usec = None  # the watchdog is some other process's
        if unset:
            for key in ENVIRONMENT:
                env.pop(key, None)
        return cls(address, usec)

    @property
    def enabled(self) -> bool:
        return self._address is not None

    @property
    def watchdog_interval_s(self) -> float | None:
        """Half the timeout, as sd_watchdog_enabled(3) advises."""
        return self._watchdog_usec / 2e6 if self._watchdog_usec is not None else None

    def ready(self, status: str) -> None:
        self._send("READY=1", _status(status))

    def status(self, status: str) -> None:
        self._send(_status(status))

    def watchdog(self) -> None:
        self._send("WATCHDOG=1")

    def stopping(self, status: str) -> None:
        self._send("STOPPING=1", _status(status))

    def _send(self, *lines: str) -> None:
        """One datagram; a failure is logged once, never raised (the daemon serves on). No
        lock: each call has its own socket (it may be called from a signal handler)."""
        if self._address is None:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                s.sendto("\n".join(lines).encode(), self._address)
        except OSError as exc:
            if not self._failed:
                self._failed = True
                log.warning("cannot notify the service manager at %r: %s", self._address, exc)


def _status(text: str) -> str:
    return "STATUS=" + " ".join(text.split())  # one line
