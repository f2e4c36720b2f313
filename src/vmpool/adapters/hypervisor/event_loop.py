"""libvirt's default event loop, run on a thread of its own.

With an event loop registered, libvirt's remote driver sends keepalive messages on every
connection and closes one whose daemon stops answering them (libvirt's own default: a
probe every 5 s, 5 missed in a row), which wakes any call blocked on it with an error.
Once registered the loop must keep running, so the thread lives as long as the process.
It has to be registered before the connections it should watch are opened.
"""

from __future__ import annotations

import logging
import threading

import libvirt

log = logging.getLogger(__name__)

_lock = threading.Lock()
_started = False


def ensure_event_loop() -> None:
    global _started
    with _lock:
        if _started:
            return
        libvirt.virEventRegisterDefaultImpl()
        threading.Thread(target=_run, name="libvirt-event-loop", daemon=True).start()
        _started = True


def _run() -> None:
    while True:
        try:
            libvirt.virEventRunDefaultImpl()
        except libvirt.libvirtError:
            log.warning("libvirt event loop iteration failed", exc_info=True)
