"""PCI devices and SGX of a libvirt host (docs/hardware.md): its PCI devices
through the node device API, its SGX EPC from its domain capabilities. The parsing is pure
(tested on libvirt's recorded XML: tests/unit/data/passthrough)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import libvirt

from vmpool.adapters.hypervisor.base import HostBase
from vmpool.domain.hardware import PciDevice

# Node devices that are bridges (a PCI-to-PCI or CardBus bridge capability, or PCI class
# 0x06: host, ISA, PCI... bridges): never assignable, left out of the inventory.
_BRIDGE_CAPS = frozenset({"pci-bridge", "cardbus-bridge"})
_BRIDGE_CLASS = 0x06
_UNIT_KIB = {"b": 1 / 1024, "bytes": 1 / 1024, "k": 1, "kib": 1, "m": 1024, "mib": 1024,
             "g": 1024**2, "gib": 1024**3}  # fmt: skip


def _int(text: str | None, base: int = 10) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip(), base)
    except ValueError:
        return None


def _hex_id(text: str | None) -> str | None:
    """A vendor or product id as 0x and four lowercase hex digits."""
    n = _int(text, 16) if text is not None else None
    if n is None or not 0 <= n <= 0xFFFF:
        return None
    return f"0x{n:04x}"


def parse_pci_device(xml: str) -> PciDevice | None:
    """A PCI device from its node device XML (virNodeDeviceGetXMLDesc); None for what is not
    an assignable PCI function: another kind of device, a PCI bridge, or XML too broken to
    name its address and ids."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None
    cap = root.find("capability[@type='pci']")
    if cap is None:
        return None
    if any(c.get("type") in _BRIDGE_CAPS for c in cap.findall("capability")):
        return None
    pci_class = _int(cap.findtext("class"), 16)
    if pci_class is not None and pci_class >> 16 == _BRIDGE_CLASS:
        return None
    domain, bus = _int(cap.findtext("domain")), _int(cap.findtext("bus"))
    slot, function = _int(cap.findtext("slot")), _int(cap.findtext("function"))
    vendor, product = cap.find("vendor"), cap.find("product")
    if domain is None or bus is None or slot is None or function is None:
        return None
    if vendor is None or product is None:
        return None
    vendor_id, product_id = _hex_id(vendor.get("id")), _hex_id(product.get("id"))
    if vendor_id is None or product_id is None:
        return None
    if not (0 <= domain <= 0xFFFF and 0 <= bus <= 0xFF and 0 <= slot <= 0x1F):
        return None
    if not 0 <= function <= 7:
        return None
    group = cap.find("iommuGroup")
    numa = cap.find("numa")
    numa_node = _int(numa.get("node")) if numa is not None else None
    driver = root.findtext("driver/name")
    return PciDevice(
        address=f"{domain:04x}:{bus:02x}:{slot:02x}.{function:x}",
        vendor_id=vendor_id,
        product_id=product_id,
        vendor=(vendor.text or "").strip()[:255],
        product=(product.text or "").strip()[:255],
        iommu_group=_int(group.get("number")) if group is not None else None,
        # libvirt says -1 where the kernel knows no node (a single-node host).
        numa_node=numa_node if numa_node is not None and numa_node >= 0 else None,
        driver=driver.strip() if driver else None,
    )


def parse_pci_devices(xmls: list[str]) -> tuple[PciDevice, ...]:
    """The assignable PCI devices among node devices' XML, by address, each once."""
    found = {d.address: d for x in xmls if (d := parse_pci_device(x)) is not None}
    return tuple(found[a] for a in sorted(found))


def parse_sgx_epc_mib(domcaps_xml: str) -> int:
    """The SGX EPC a host offers its guests, in MiB, from its domain capabilities
    (<features><sgx supported='yes'><section_size unit='KiB'>): 0 when it has no SGX or
    the XML does not say. The sections (per NUMA node) add up to the section size."""
    try:
        root = ET.fromstring(domcaps_xml)
    except ET.ParseError:
        return 0
    sgx = root.find("features/sgx[@supported='yes']")
    if sgx is None:
        return 0
    size = sgx.find("section_size")
    kib: float = 0
    if size is not None and size.text:
        try:
            kib = float(size.text) * _UNIT_KIB[size.get("unit", "KiB").lower()]
        except (ValueError, KeyError):
            kib = 0
    if kib <= 0:  # older libvirt: the sections only
        for s in sgx.findall("sections/section"):
            try:
                kib += float(s.get("size", "0")) * _UNIT_KIB[s.get("unit", "KiB").lower()]
            except (ValueError, KeyError):
                continue
    return max(int(kib // 1024), 0)


class LibvirtPassthrough(HostBase):
    """A host's PCI devices, for its inventory."""

    def _pci_devices(self) -> tuple[PciDevice, ...]:
        """Every PCI device libvirt's node device driver lists (bridges left out). A host
        whose libvirt has no node device driver answers none."""
        with self._guard():
            try:
                devices = self._conn.listAllDevices(
                    libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV
                )
            except libvirt.libvirtError as exc:
                if exc.get_error_code() in (
                    libvirt.VIR_ERR_NO_SUPPORT,
                    libvirt.VIR_ERR_NO_NODE_DEVICE,
                ):
                    return ()
                raise
            xmls = []
            for dev in devices:
                try:
                    xmls.append(dev.XMLDesc(0))
                except libvirt.libvirtError as exc:
                    if exc.get_error_code() == libvirt.VIR_ERR_NO_NODE_DEVICE:
                        continue  # gone between the listing and its description (hot-unplug)
                    raise
        return parse_pci_devices(xmls)
