"""Networks and NICs: the kinds of network, the NIC entity and its transitions, and the rules
for bridge names, MAC addresses and IP addresses.

A network is a pool-wide object. Kind `bridge` is a Linux bridge the operator made on the
hosts (given by name; vmpool finds out which hosts have it); kind `libvirt` is a libvirt
network vmpool defines on every host itself (`isolated`: no forwarding; `routed`: the host
routes its subnet). A NIC joins a VM to a network with a MAC address unique in the whole
database and, if the network has an address pool, an address unique in the network.
"""

from __future__ import annotations

import enum
import ipaddress
import random
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from vmpool.domain.lifecycle import Transition, allowed, transition
from vmpool.errors import Exhausted, InvalidInput, InvalidState


class NetworkKind(enum.StrEnum):
    BRIDGE = "bridge"  # an existing Linux bridge on the hosts, by name
    LIBVIRT = "libvirt"  # a libvirt network vmpool defines on each host


class LibvirtMode(enum.StrEnum):
    ISOLATED = "isolated"
    ROUTED = "routed"


# A Linux interface name (IFNAMSIZ - 1 characters), of letters, digits and - _ . only: no
# slash (a path in /sys/class/net), no shell or XML syntax, no leading dash.
BRIDGE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$"
_BRIDGE_RE = re.compile(BRIDGE_PATTERN)


def validate_bridge(name: str) -> str:
    if not isinstance(name, str) or not _BRIDGE_RE.fullmatch(name) or name in (".", ".."):
        shown = name[:40] if isinstance(name, str) else str(name)[:40]
        raise InvalidInput(
            f"invalid bridge name {shown!r}: 1-15 letters, digits and . _ - (a Linux interface "
            "name), starting with a letter or digit",
            field="bridge",
            pattern=BRIDGE_PATTERN,
        )
    return name


LIBVIRT_NETWORK_PREFIX = "vmpool-"


def libvirt_network_name(network: str) -> str:
    """The name of the libvirt network vmpool defines on each host for a network."""
    return f"{LIBVIRT_NETWORK_PREFIX}{network}"


def new_libvirt_bridge(token: str) -> str:
    """The bridge libvirt makes for a vmpool network of kind libvirt: `vmp` and 10 random
    hex digits (at most 15 chars), so that no two networks ever share one on a host, even
    of two vmpool databases (an id would)."""
    if not re.fullmatch(r"[0-9a-f]{10}", token):
        raise ValueError("10 lowercase hex digits")
    return f"vmp{token}"


# --- MAC addresses ------------------------------------------------------------------

QEMU_MAC_PREFIX = "52:54:00"
_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_PREFIX_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){0,4}$")
_RANDOM_TRIES = 64


def check_mac(mac: str, field: str = "mac") -> str:
    """A unicast MAC address in canonical form (lowercase, colons), or InvalidInput."""
    if not isinstance(mac, str) or not _MAC_RE.fullmatch(mac.lower()):
        raise InvalidInput(
            "a MAC address is six two-digit hex bytes separated by colons, e.g. 52:54:00:12:34:56",
            field=field,
        )
    mac = mac.lower()
    first = int(mac[:2], 16)
    if first & 1:
        raise InvalidInput(f"{mac} is a multicast address: a NIC needs a unicast one", field=field)
    if mac == "00:00:00:00:00:00":
        raise InvalidInput("00:00:00:00:00:00 is not a usable address", field=field)
    return mac


def check_mac_prefix(prefix: str) -> str:
    """The setting `mac_prefix`: one to five bytes, unicast."""
    prefix = prefix.lower()
    if not _PREFIX_RE.fullmatch(prefix) or int(prefix[:2], 16) & 1:
        raise InvalidInput(
            f"mac_prefix {prefix!r} must be 1-5 hex bytes with colons, unicast (e.g. 52:54:00)",
            field="mac_prefix",
        )
    return prefix


def allocate_mac(
    prefix: str, taken: Callable[[str], bool], count_taken: int, rng: random.Random
) -> str:
    """A MAC address with `prefix` that `taken` does not know. Random first (as libvirt and
    Nova do, so that two pools sharing a prefix rarely collide), then, when random tries
    keep hitting used ones, the lowest free one; 409 when the prefix has none left."""
    prefix = check_mac_prefix(prefix)
    free_bytes = 6 - len(prefix.split(":"))
    space = 256**free_bytes
    if count_taken >= space:
        raise _exhausted(prefix, space)

    def compose(n: int) -> str:
        tail = n.to_bytes(free_bytes, "big").hex(":")
        return f"{prefix}:{tail}"

    for _ in range(_RANDOM_TRIES):
        mac = compose(rng.randrange(space))
        if not taken(mac):
            return mac
    for n in range(space):
        mac = compose(n)
        if not taken(mac):
            return mac
    raise _exhausted(prefix, space)


def _exhausted(prefix: str, space: int) -> Exhausted:
    return Exhausted(
        f"no MAC address is left with prefix {prefix} ({space} in all are in use): "
        "set a shorter mac_prefix",
        prefix=prefix,
    )


# --- IP addresses ---------------------------------------------------------------------

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class AddressPool:
    """A network's addresses of one family: its subnet and gateway (never handed out)."""

    subnet: IpNetwork
    gateway: IpAddress | None = None

    @staticmethod
    def parse(cidr: str, gateway: str | None, version: int, field: str) -> AddressPool:
        try:
            subnet = ipaddress.ip_network(cidr, strict=True)
        except ValueError as exc:
            raise InvalidInput(f"{field}: {exc}", field=field) from None
        if subnet.version != version:
            raise InvalidInput(f"{field} must be an IPv{version} subnet", field=field)
        usable = subnet.num_addresses - (2 if version == 4 else 1)
        if usable < 1 or (version == 4 and subnet.prefixlen > 30):
            raise InvalidInput(f"{field} {cidr} has no room for hosts", field=field)
        gw: IpAddress | None = None
        if gateway is not None:
            try:
                gw = ipaddress.ip_address(gateway)
            except ValueError as exc:
                raise InvalidInput(f"{field} gateway: {exc}", field=f"{field}_gateway") from None
            if gw not in subnet or gw == subnet.network_address:
                raise InvalidInput(
                    f"gateway {gateway} is not a host address of {cidr}", field=f"{field}_gateway"
                )
        return AddressPool(subnet, gw)

    def _reserved(self, addr: IpAddress) -> bool:
        if addr == self.subnet.network_address or addr == self.gateway:
            return True
        return self.subnet.version == 4 and addr == self.subnet.broadcast_address

    def check(self, address: str, field: str = "ip") -> str:
        """An address the client asked for: inside the subnet, not the gateway."""
        try:
            addr = ipaddress.ip_address(address)
        except ValueError as exc:
            raise InvalidInput(f"{field}: {exc}", field=field) from None
        if addr.version != self.subnet.version or addr not in self.subnet or self._reserved(addr):
            raise InvalidInput(
                f"{address} is not a free host address of {self.subnet} "
                f"(the network, broadcast and gateway addresses are not handed out)",
                field=field,
            )
        return str(addr)

    def allocate(self, taken: Collection[str]) -> str:
        """The lowest free host address (as Neutron hands them out); 409 when none is left."""
        used = {ipaddress.ip_address(a) for a in taken}
        for addr in self.subnet.hosts() if self.subnet.version == 4 else _v6_hosts(self.subnet):
            if addr not in used and not self._reserved(addr):
                return str(addr)
        raise Exhausted(f"no address is left in {self.subnet}", subnet=str(self.subnet))

    def with_prefix(self, address: str) -> str:
        return f"{address}/{self.subnet.prefixlen}"


def _v6_hosts(subnet: ipaddress.IPv6Network) -> Iterable[ipaddress.IPv6Address]:
    base = int(subnet.network_address)
    for n in range(1, subnet.num_addresses):
        yield ipaddress.IPv6Address(base + n)


def kernel_ip_arg(address: str, pool: AddressPool, device: str = "eth0") -> str:
    """The kernel's `ip=` parameter for a static IPv4 address (Documentation/admin-guide/
    nfs/nfsroot.rst): `ip=<client>::<gateway>:<netmask>::<device>:off`."""
    subnet = pool.subnet
    assert isinstance(subnet, ipaddress.IPv4Network)
    gateway = str(pool.gateway) if pool.gateway is not None else ""
    return f"ip={address}::{gateway}:{subnet.netmask}::{device}:off"


# --- the NIC entity ----------------------------------------------------------------------


class NicState(enum.StrEnum):
    ATTACHING = "attaching"  # intent: it is being added to the domain
    ATTACHED = "attached"
    DETACHING = "detaching"  # intent: it is being removed; the record goes last


_N = NicState

NIC_TRANSITIONS: dict[str, Transition[NicState]] = {
    "attached": allowed({_N.ATTACHING}, _N.ATTACHED),
    # A failed attach is undone like a detach; a stale detach is taken again.
    "begin_detach": allowed({_N.ATTACHING, _N.ATTACHED, _N.DETACHING}, _N.DETACHING),
    "detach_failed": allowed({_N.DETACHING}, _N.ATTACHED),
}

NIC_MODELS = ("virtio", "e1000", "rtl8139")
MAX_NICS = 16  # per VM: machine type pc has 32 PCI slots, shared with disks


class Nic:
    """A NIC's state and rules. The persistence mapping supplies the attributes."""

    if TYPE_CHECKING:
        id: int
        mac: str
        state: str
        state_changed_at: datetime
        last_error: str | None

    INITIAL: ClassVar[NicState] = NicState.ATTACHING

    @property
    def nic_state(self) -> NicState:
        return NicState(self.state)

    def _go(self, event: str, now: datetime) -> None:
        target = transition(NIC_TRANSITIONS, "NIC", self.mac, event, self.nic_state)
        self.state = target.value
        self.state_changed_at = now

    def attached(self, now: datetime) -> None:
        self._go("attached", now)
        self.last_error = None

    def begin_detach(self, now: datetime) -> None:
        self._go("begin_detach", now)

    def detach_failed(self, now: datetime, error: str) -> None:
        self._go("detach_failed", now)
        self.last_error = error


def check_model(model: str) -> str:
    if model not in NIC_MODELS:
        raise InvalidInput(f"NIC model must be one of {', '.join(NIC_MODELS)}", field="model")
    return model


def check_network_in_use(name: str, nic_count: int) -> None:
    if nic_count:
        raise InvalidState(
            f"network {name} is used by {nic_count} NIC(s): remove them first",
            network=name,
            nic_count=nic_count,
        )
