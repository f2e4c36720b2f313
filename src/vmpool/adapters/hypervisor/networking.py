"""A host's networks through libvirt: the Linux bridges it has (its interface driver, which
reads the host's network devices), the libvirt networks vmpool defines on it, and the NICs
of domains (hot-plug)."""

from __future__ import annotations

import contextlib
import logging
import xml.etree.ElementTree as ET

import libvirt

from vmpool.adapters.hypervisor.base import HostBase, bounded
from vmpool.adapters.hypervisor.domain_xml import build_network_xml, has_nic, nic_xml
from vmpool.domain.ports import HostNetworks, NetworkSpec, NicSpec
from vmpool.errors import HypervisorOperationInvalid

log = logging.getLogger(__name__)

NIC_DETACH_WAIT_S = 12.0  # within the call's deadline, as for disks

# An interface or network that vanishes while being read is simply not there.
_GONE = {libvirt.VIR_ERR_NO_INTERFACE, libvirt.VIR_ERR_NO_NETWORK}


class LibvirtNetworking(HostBase):
    @bounded
    def host_networks(self) -> HostNetworks:
        with self._guard():
            bridges = frozenset(self._bridges())
            active = frozenset(
                n.name()
                for n in self._conn.listAllNetworks(libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE)
            )
        return HostNetworks(bridges=bridges, libvirt_networks=active)

    def _bridges(self) -> list[str]:
        """Names of the host's Linux bridges (libvirt's interface driver), up or not: a
        bridge without ports yet has no carrier, and a tap is plugged into it all the same."""
        found = []
        for iface in self._conn.listAllInterfaces(0):
            try:
                root = ET.fromstring(iface.XMLDesc(0))
            except libvirt.libvirtError as exc:
                if exc.get_error_code() in _GONE:
                    continue
                raise
            if root.get("type") == "bridge" and root.get("name"):
                found.append(str(root.get("name")))
        return found

    @bounded
    def ensure_network(self, spec: NetworkSpec) -> None:
        xml = build_network_xml(spec)
        with self._guard():
            try:
                net = self._conn.networkLookupByName(spec.name)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() not in _GONE:
                    raise
                net = self._conn.networkDefineXML(xml)
                try:
                    net.create()
                except libvirt.libvirtError:
                    with contextlib.suppress(libvirt.libvirtError):
                        net.undefine()  # nothing half-made left on the host
                    raise
                net.setAutostart(1)
                return
            found = ET.fromstring(net.XMLDesc(0)).find("bridge")
            if found is None or found.get("name") != spec.bridge:
                raise HypervisorOperationInvalid(
                    f"a libvirt network named {spec.name} exists on this host with another "
                    "bridge (another vmpool's, or left over): remove it (virsh net-undefine)",
                    network=spec.name,
                )
            if not net.isActive():
                net.create()

    @bounded
    def remove_network(self, name: str) -> None:
        with self._guard():
            try:
                net = self._conn.networkLookupByName(name)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() in _GONE:
                    return
                raise
            if net.isActive():
                net.destroy()
            net.undefine()

    @bounded
    def attach_nic(self, uuid: str, nic: NicSpec) -> None:
        self._attach_device(uuid, nic_xml(nic))

    @bounded
    def detach_nic(self, uuid: str, nic: NicSpec) -> None:
        """Live first, confirmed by the domain's live XML (the guest lets go of the device
        after libvirt returns), then from the definition."""
        self._detach_device(
            uuid, nic_xml(nic), lambda xml: has_nic(xml, nic.mac), f"NIC {nic.mac}",
            NIC_DETACH_WAIT_S,
        )  # fmt: skip
