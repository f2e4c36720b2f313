"""A host's storage through libvirt's storage API: one `dir` pool per folder vmpool uses
(defined, built and started on first use), the volumes in them, and the disks of domains.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt

from vmpool.adapters.hypervisor.base import HostBase, bounded
from vmpool.domain.images import GIB, DiskFormat

log = logging.getLogger(__name__)

DETACH_WAIT_S = 12.0  # within the call's deadline; a booting guest may take longer: retried


class LibvirtStorage(HostBase):
    def _storage_pool(self, folder: str) -> libvirt.virStoragePool:
        """The libvirt dir pool for `folder`, defined (and started) on first use."""
        name = _pool_name(folder)
        with self._guard():
            try:
                pool = self._conn.storagePoolLookupByName(name)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_POOL:
                    raise
                root = ET.Element("pool", type="dir")
                ET.SubElement(root, "name").text = name
                ET.SubElement(ET.SubElement(root, "target"), "path").text = folder
                pool = self._conn.storagePoolDefineXML(ET.tostring(root, encoding="unicode"), 0)
                try:
                    pool.build(0)
                    pool.create(0)
                    pool.refresh(0)
                except libvirt.libvirtError:
                    _remove_pool_quietly(pool)  # nothing left behind on the host
                    raise
                pool.setAutostart(1)
            if not pool.isActive():
                pool.create(0)
            pool.refresh(0)
        return pool

    @bounded
    def create_volume(self, folder: str, name: str, gib: int) -> str:
        return self._create_qcow2(folder, name, gib, None)

    @bounded
    def create_overlay(
        self, folder: str, name: str, backing: str, backing_format: DiskFormat, gib: int
    ) -> str:
        return self._create_qcow2(folder, name, gib, (backing, backing_format))

    def _create_qcow2(
        self, folder: str, name: str, gib: int, backing: tuple[str, DiskFormat] | None
    ) -> str:
        """A qcow2 volume (v3: libvirt 9.0 makes v2 unless told), optionally an overlay whose
        backing format is written explicitly into its header (never probed later)."""
        pool = self._storage_pool(folder)
        vol = ET.Element("volume", type="file")
        ET.SubElement(vol, "name").text = f"{name}.qcow2"
        ET.SubElement(vol, "capacity", unit="GiB").text = str(gib)
        target = ET.SubElement(vol, "target")
        ET.SubElement(target, "format", type="qcow2")
        ET.SubElement(target, "compat").text = "1.1"
        if backing is not None:
            store = ET.SubElement(vol, "backingStore")
            ET.SubElement(store, "path").text = backing[0]
            ET.SubElement(store, "format", type=backing[1].value)
        with self._guard():
            created = pool.createXML(ET.tostring(vol, encoding="unicode"), 0)
            return str(created.path())

    def upload_volume(self, folder: str, name: str, source: str) -> str:
        """A new volume `name` in `folder` holding the bytes of the local file `source`,
        streamed through libvirt (virStorageVol.upload). No deadline (it takes as long as
        the bytes take), on a connection of its own like a migration. A copy that fails
        leaves no volume: libvirt writes in place and would keep the partial bytes."""
        self.prepare_storage(folder)
        size = os.path.getsize(source)
        vol_xml = ET.Element("volume", type="file")
        ET.SubElement(vol_xml, "name").text = name
        ET.SubElement(vol_xml, "capacity", unit="bytes").text = str(size)
        ET.SubElement(vol_xml, "allocation", unit="bytes").text = "0"
        # Raw: a file of exactly `size` bytes; vmpool records the real format itself.
        ET.SubElement(ET.SubElement(vol_xml, "target"), "format", type="raw")
        with self._guard():
            conn = libvirt.open(self._uri)
        try:
            with self._guard():
                pool = conn.storagePoolLookupByName(_pool_name(folder))
                pool.refresh(0)
                vol = pool.createXML(ET.tostring(vol_xml, encoding="unicode"), 0)
            try:
                with self._guard(), open(source, "rb") as f:
                    stream = conn.newStream(0)
                    try:
                        vol.upload(stream, 0, size, 0)
                        while chunk := f.read(libvirt.virStorageVol.streamBufSize):
                            stream.send(chunk)
                        stream.finish()
                    except BaseException:
                        with contextlib.suppress(libvirt.libvirtError):
                            stream.abort()
                        raise
                    return str(vol.path())
            except BaseException:
                with contextlib.suppress(libvirt.libvirtError):
                    vol.delete(0)
                raise
        finally:
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()

    @bounded
    def volume_exists(self, path: str) -> bool:
        self._storage_pool(str(Path(path).parent))  # refreshes the listing
        with self._guard():
            try:
                self._conn.storageVolLookupByPath(path)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
                    return False
                raise
        return True

    @bounded
    def resize_volume(self, path: str, gib: int) -> None:
        """Grow a volume of a domain that is not running (vmpool's own qcow2 files)."""
        self._storage_pool(str(Path(path).parent))
        with self._guard():
            vol = self._conn.storageVolLookupByPath(path)
            vol.resize(gib * GIB, 0)

    @bounded
    def delete_volume(self, path: str) -> None:
        self._storage_pool(str(Path(path).parent))  # refreshes the listing
        with self._guard():
            try:
                vol = self._conn.storageVolLookupByPath(path)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
                    return
                raise
            vol.delete(0)

    # --- the disks of a domain ---------------------------------------------------------

    @bounded
    def attach_disk(self, uuid: str, path: str, target: str) -> None:
        """Attach a qcow2 volume as virtio disk `target` (hot-plug if the domain runs)."""
        self._attach_device(uuid, _disk_xml(path, target))

    @bounded
    def detach_disk(self, uuid: str, path: str, target: str) -> None:
        """Detach disk `target`, confirmed by the domain's live XML; raises if the guest has
        not released it in time: its volume must not be deleted yet."""
        self._detach_device(
            uuid, _disk_xml(path, target), lambda xml: _has_disk(xml, target), f"disk {target}",
            DETACH_WAIT_S,
        )  # fmt: skip

    @bounded
    def resize_disk(self, uuid: str, path: str, target: str, gib: int) -> None:
        """Grow disk `target`: online (blockResize, the guest sees the new size at once)
        if the domain runs, else its volume."""
        with self._guard():
            dom = self._conn.lookupByUUIDString(uuid)
            if dom.isActive():
                dom.blockResize(target, gib * GIB, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
                return
            self._storage_pool(str(Path(path).parent))
            self._conn.storageVolLookupByPath(path).resize(gib * GIB, 0)

    @bounded
    def prepare_storage(self, folder: str) -> None:
        self._storage_pool(folder)

    @bounded
    def folder_capacity_gib(self, folder: str) -> int:
        pool = self._storage_pool(folder)
        with self._guard():
            _state, capacity, _allocation, _available = pool.info()
        return int(capacity // 2**30)


def _pool_name(folder: str) -> str:
    return "vmpool-" + hashlib.sha256(folder.encode()).hexdigest()[:12]


def _disk_xml(path: str, target: str) -> str:
    disk = ET.Element("disk", type="file", device="disk")
    ET.SubElement(disk, "driver", name="qemu", type="qcow2", cache="none")
    ET.SubElement(disk, "source", file=path)
    ET.SubElement(disk, "target", dev=target, bus="virtio")
    # The guest names disks in the order it finds them; the serial says which one this is.
    ET.SubElement(disk, "serial").text = target
    return ET.tostring(disk, encoding="unicode")


def _has_disk(domain_xml: str, target: str) -> bool:
    root = ET.fromstring(domain_xml)
    return any(t.get("dev") == target for t in root.findall("devices/disk/target"))


def _remove_pool_quietly(pool: libvirt.virStoragePool) -> None:
    try:
        if pool.isActive():
            pool.destroy()
        pool.undefine()
    except libvirt.libvirtError:
        log.warning("could not remove a storage pool that failed to start", exc_info=True)
