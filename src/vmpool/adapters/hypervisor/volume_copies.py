"""Copies of a volume out of a host, through libvirt's storage API: a standalone copy next
to it (createXMLFrom, which runs `qemu-img convert` and so flattens an overlay's backing
chain) and its bytes read back (virStorageVol.download on a stream). The reclaim policy
snapshot_then_delete keeps a VM's disks this way (docs/lifecycle.md).

Neither has the host's call deadline: each takes as long as the bytes take, on a connection
of its own (as an upload or a migration does)."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import libvirt

from vmpool.adapters.hypervisor.storage import LibvirtStorage, _pool_name

CHUNK = 1024 * 1024


class LibvirtVolumeCopies(LibvirtStorage):
    def clone_volume(self, path: str, folder: str, name: str) -> str:
        self.prepare_storage(folder)
        self.prepare_storage(str(Path(path).parent))  # the source's pool, refreshed
        vol_xml = ET.Element("volume", type="file")
        ET.SubElement(vol_xml, "name").text = f"{name}.qcow2"
        # The capacity is the source's (libvirt takes the larger of the two).
        ET.SubElement(vol_xml, "capacity", unit="bytes").text = "0"
        target = ET.SubElement(vol_xml, "target")
        ET.SubElement(target, "format", type="qcow2")
        ET.SubElement(target, "compat").text = "1.1"
        with self._guard():
            conn = libvirt.open(self._uri)
        try:
            with self._guard():
                source = conn.storageVolLookupByPath(path)
                pool = conn.storagePoolLookupByName(_pool_name(folder))
                made = pool.createXMLFrom(ET.tostring(vol_xml, encoding="unicode"), source, 0)
                return str(made.path())
        finally:
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()

    def read_volume(self, path: str) -> Iterator[bytes]:
        self.prepare_storage(str(Path(path).parent))
        with self._guard():
            conn = libvirt.open(self._uri)
        try:
            with self._guard():
                vol = conn.storageVolLookupByPath(path)
                stream = conn.newStream(0)
                vol.download(stream, 0, 0, 0)
            done = False
            try:
                while True:
                    with self._guard():
                        chunk = stream.recv(CHUNK)
                    if isinstance(chunk, int):  # -2: would block (not on a blocking stream)
                        continue
                    if not chunk:
                        break
                    yield chunk
                with self._guard():
                    stream.finish()
                done = True
            finally:
                if not done:
                    with contextlib.suppress(libvirt.libvirtError):
                        stream.abort()
        finally:
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()
