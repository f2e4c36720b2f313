"""A domain's internal snapshots through libvirt's snapshot API (domain/snapshot.py).

Only vmpool's own generated name goes into the snapshot XML given to libvirt; a client's
name and description stay in vmpool's database. Taking and reverting a snapshot of a
running domain saves or loads its whole memory (QEMU's savevm/loadvm): they run without
the host's call deadline (as a migration does), the others within it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import libvirt

from vmpool.adapters.hypervisor.base import HostBase, bounded


def snapshot_xml(name: str, with_memory: bool) -> str:
    """`<domainsnapshot>` with vmpool's name and internal snapshots only (libvirt 9.0
    cannot revert external ones)."""
    root = ET.Element("domainsnapshot")
    ET.SubElement(root, "name").text = name
    ET.SubElement(root, "memory", snapshot="internal" if with_memory else "no")
    return ET.tostring(root, encoding="unicode")


class LibvirtSnapshots(HostBase):
    def create_snapshot(self, uuid: str, name: str, with_memory: bool) -> str:
        with self._guard():
            dom = self._conn.lookupByUUIDString(uuid)
            snap = dom.snapshotCreateXML(snapshot_xml(name, with_memory), 0)
            return str(snap.getXMLDesc(libvirt.VIR_DOMAIN_SNAPSHOT_XML_SECURE))

    def revert_snapshot(self, uuid: str, name: str) -> None:
        with self._guard():
            dom = self._conn.lookupByUUIDString(uuid)
            snap = dom.snapshotLookupByName(name, 0)
            dom.revertToSnapshot(snap, 0)

    @bounded
    def delete_snapshot(self, uuid: str, name: str, metadata_only: bool = False) -> None:
        flags = libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY if metadata_only else 0
        with self._guard():
            dom = self._conn.lookupByUUIDString(uuid)
            try:
                snap = dom.snapshotLookupByName(name, 0)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT:
                    return  # already gone: what was asked for
                raise
            snap.delete(flags)

    @bounded
    def snapshot_xml(self, uuid: str, name: str) -> str:
        with self._guard():
            dom = self._conn.lookupByUUIDString(uuid)
            snap = dom.snapshotLookupByName(name, 0)
            return str(snap.getXMLDesc(libvirt.VIR_DOMAIN_SNAPSHOT_XML_SECURE))

    @bounded
    def snapshot_names(self, uuid: str) -> list[str]:
        with self._guard():
            dom = self._conn.lookupByUUIDString(uuid)
            return [str(n) for n in dom.snapshotListNames(0)]

    @bounded
    def current_snapshot(self, uuid: str) -> str | None:
        with self._guard():
            dom = self._conn.lookupByUUIDString(uuid)
            if not dom.hasCurrentSnapshot(0):
                return None
            return str(dom.snapshotCurrent(0).getName())

    @bounded
    def redefine_snapshot(self, uuid: str, xml: str, current: bool) -> None:
        flags = libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE
        if current:
            flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT
        with self._guard():
            dom = self._conn.lookupByUUIDString(uuid)
            dom.snapshotCreateXML(xml, flags)
