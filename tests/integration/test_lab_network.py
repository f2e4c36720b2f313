"""The lab's guest network for real: tiny guests on different lab hosts, tapped into each
host's bridge vmpbr0, share one L2 segment with each other and with the fabric namespace
(10.232.0.1), keep it across a live migration, and see a hot-plugged NIC. Every packet stays
in the lab's network namespaces: pings are sent from inside them, never from the machine's
own namespace."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import libvirt
import pytest

from tests.integration.conftest import wipe_lab_domains
from vmpool.domain.network import AddressPool, kernel_ip_arg
from vmpool.lab import (
    FABRIC_GUEST_ADDRESS,
    GUEST_BRIDGE,
    GUEST_SUBNET,
    GuestImage,
    LabHost,
    SerialLog,
    interface_xml,
    netns_ping,
    read_serial_log,
    tiny_domain_xml,
)

pytestmark = pytest.mark.lab

GUEST_POOL = AddressPool.parse(GUEST_SUBNET, FABRIC_GUEST_ADDRESS, 4, "ipv4_cidr")

BOOT_TIMEOUT_S = 90.0
FLAGS = (
    libvirt.VIR_MIGRATE_LIVE
    | libvirt.VIR_MIGRATE_PEER2PEER
    | libvirt.VIR_MIGRATE_PERSIST_DEST
    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
)


@dataclass
class NetGuest:
    name: str
    address: str
    mac: str
    serial_log: Path

    def log(self) -> SerialLog:
        return read_serial_log(self.serial_log)


def _wait(what: str, check: Callable[[], bool], guest: NetGuest, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tail = guest.serial_log.read_text(errors="replace")[-1500:]
            pytest.fail(f"timed out waiting for {what} of {guest.name}:\n{tail}")
        time.sleep(0.2)


def _has_address(g: NetGuest) -> Callable[[], bool]:
    return lambda: bool(g.log().nic_addresses)


def _pinged(g: NetGuest, address: str) -> Callable[[], bool]:
    return lambda: g.log().pings.get(address) is True


@pytest.fixture(scope="module")
def guests(lab: list[LabHost], tiny_image: GuestImage) -> Iterator[list[NetGuest]]:
    """One tiny guest on lab1 (10.232.0.21) and one on lab2 (10.232.0.22), each pinging
    the other and the fabric from inside."""
    wipe_lab_domains(lab)
    tag = uuid.uuid4().hex[:6]
    made: list[NetGuest] = []
    for i, host in enumerate(lab[:2]):
        me, peer = f"10.232.0.{21 + i}", f"10.232.0.{22 - i}"
        g = NetGuest(
            name=f"net-{tag}-{i}",
            address=me,
            mac=f"52:54:00:23:20:{21 + i:02x}",
            serial_log=Path(host.shared_dir) / f"net-{tag}-{i}.serial.log",
        )
        xml = tiny_domain_xml(
            tiny_image,
            g.name,
            g.serial_log,
            nics=[g.mac],
            ip=kernel_ip_arg(me, GUEST_POOL),
            ping=[peer, FABRIC_GUEST_ADDRESS],
        )
        conn = libvirt.open(host.uri)
        try:
            conn.defineXML(xml).create()
        finally:
            conn.close()
        made.append(g)
    for g in made:
        _wait("its NIC with its address", _has_address(g), g, BOOT_TIMEOUT_S)
    yield made
    wipe_lab_domains(lab)


def test_guests_report_their_nic_and_address(guests: list[NetGuest]) -> None:
    for g in guests:
        log = g.log()
        assert log.nics == {"eth0": g.mac}
        assert log.nic_addresses == {"eth0": f"{g.address}/24"}
        assert log.ready_count == 1 and not log.kernel_crashed


def test_guests_on_two_hosts_reach_each_other_and_the_fabric(
    lab: list[LabHost], guests: list[NetGuest]
) -> None:
    a, b = guests
    for me, peer in ((a, b), (b, a)):
        _wait(f"a ping of {peer.address}", _pinged(me, peer.address), me)
        _wait("a ping of the fabric", _pinged(me, FABRIC_GUEST_ADDRESS), me)
    fabric = lab[0].fabric_netns
    for g in guests:
        res = netns_ping(fabric, g.address, count=3, timeout=1)
        assert res.returncode == 0, res.stdout + res.stderr
        assert "3/3 replies" in res.stdout, res.stdout
    # an address nobody has stays silent: the replies above are real
    silent = netns_ping(fabric, "10.232.0.250", count=1, timeout=1)
    assert silent.returncode == 1 and "0/1 replies" in silent.stdout


def test_the_guest_network_is_not_routed_into_the_mgmt_network(
    lab: list[LabHost], guests: list[NetGuest]
) -> None:
    # the hosts have no address on the guest network: their bridge only switches
    res = netns_ping(lab[0].netns, guests[0].address, count=1, timeout=1)
    assert res.returncode == 1, res.stdout


def test_a_guest_keeps_its_network_across_a_live_migration(
    lab: list[LabHost], guests: list[NetGuest]
) -> None:
    a = guests[0]
    src, dst = lab[0], lab[2]
    conn = libvirt.open(src.uri)
    try:
        conn.lookupByName(a.name).migrateToURI3(
            dst.uri, {libvirt.VIR_MIGRATE_PARAM_URI: f"tcp://{dst.migration_address}"}, FLAGS
        )
    finally:
        conn.close()
    conn = libvirt.open(dst.uri)
    try:
        dom = conn.lookupByName(a.name)
        assert dom.isActive()
        tap = dom.XMLDesc(0)
        assert f"<source bridge='{GUEST_BRIDGE}'/>" in tap
    finally:
        conn.close()
    res = netns_ping(dst.fabric_netns, a.address, count=3, timeout=1)
    assert res.returncode == 0, res.stdout + res.stderr
    assert a.log().ready_count == 1, "the guest rebooted"


def test_a_hot_plugged_nic_appears_in_the_guest(lab: list[LabHost], guests: list[NetGuest]) -> None:
    b = guests[1]
    mac = "52:54:00:23:20:99"
    conn = libvirt.open(lab[1].uri)
    try:
        conn.lookupByName(b.name).attachDeviceFlags(
            interface_xml(mac), libvirt.VIR_DOMAIN_AFFECT_LIVE
        )
    finally:
        conn.close()
    _wait("the new NIC", lambda: mac in (b.log().nics or {}).values(), b)
    nics = b.log().nics or {}
    assert sorted(nics.values()) == sorted([b.mac, mac])
    assert nics["eth0"] == b.mac
