"""The lab for real: two libvirtd hosts, the tiny guest, a live migration.

Needs root, libvirt-daemon-system, qemu-system-x86 and apt access (the first
run downloads the kernel and busybox packages). Runs in well under a minute.

Environment:
    VMPOOL_LAB_TEST_DIR   lab dir for these tests (default /tmp/vmpool-lab-test)
    VMPOOL_LAB_IMAGE_DIR  where the tiny image is built/cached
                          (default /var/lib/vmpool/images)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libvirt
import pytest

from vmpool.lab import (
    FABRIC_GUEST_ADDRESS,
    GUEST_BRIDGE,
    GuestImage,
    LabError,
    LabHost,
    SerialLog,
    build_tiny_image,
    lab_down,
    lab_status,
    lab_up,
    netns_ping,
    read_serial_log,
    tiny_domain_xml,
)

pytestmark = pytest.mark.lab

BASE_PORT = 16610
LAB_DIR = Path(os.environ.get("VMPOOL_LAB_TEST_DIR", "/tmp/vmpool-lab-test"))
IMAGE_DIR = Path(os.environ.get("VMPOOL_LAB_IMAGE_DIR", "/var/lib/vmpool/images"))
DOMAIN_PREFIX = "vmpool-labtest-"
BOOT_TIMEOUT_S = 60.0

MIGRATE_FLAGS = (
    libvirt.VIR_MIGRATE_LIVE
    | libvirt.VIR_MIGRATE_PEER2PEER
    | libvirt.VIR_MIGRATE_PERSIST_DEST
    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
)


@dataclass
class Guest:
    name: str
    serial_log: Path
    booted_on: str
    boot_seconds: float


def _wait_for(
    what: str, check: Callable[[], bool], timeout: float, describe: Callable[[], str]
) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}: {describe()}")
        time.sleep(0.1)
    return time.monotonic() - start


def _serial_tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-1500:]
    except FileNotFoundError:
        return "(no serial log)"


def _uts_ns(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/uts")
    except OSError:
        return None


def _processes() -> list[tuple[int, str, str]]:
    """(pid, comm, cmdline) of every live, non-zombie process."""
    result: list[tuple[int, str, str]] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            comm = (entry / "comm").read_text().strip()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
            continue
        result.append((int(entry.name), comm, cmdline))
    return result


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def lab() -> Iterator[list[LabHost]]:
    # a lab left over by an interrupted run would hold the ports: stop it first
    lab_down(LAB_DIR)
    shutil.rmtree(LAB_DIR, ignore_errors=True)
    hosts = lab_up(2, LAB_DIR, base_port=BASE_PORT)
    try:
        yield hosts
    finally:
        lab_down(LAB_DIR)


@pytest.fixture(scope="module")
def image() -> GuestImage:
    return build_tiny_image(IMAGE_DIR)


@pytest.fixture(scope="module")
def guest(lab: list[LabHost], image: GuestImage) -> Guest:
    """The tiny guest, defined and booted on lab1 (dirtying 16 MiB in a loop)."""
    name = DOMAIN_PREFIX + uuid.uuid4().hex[:8]
    serial_log = Path(lab[0].shared_dir) / f"{name}.serial.log"
    serial_log.unlink(missing_ok=True)
    xml = tiny_domain_xml(image, name, serial_log, memory_mib=192, dirty_mib=16)
    conn = libvirt.open(lab[0].uri)
    try:
        dom = conn.defineXML(xml)
        dom.create()
    finally:
        conn.close()
    seconds = _wait_for(
        "VMPOOL-GUEST-READY on the serial console",
        lambda: read_serial_log(serial_log).ready_count > 0,
        BOOT_TIMEOUT_S,
        lambda: _serial_tail(serial_log),
    )
    return Guest(name=name, serial_log=serial_log, booted_on=lab[0].name, boot_seconds=seconds)


# --------------------------------------------------------------------------
# tests


def test_hosts_are_distinct_libvirt_hosts(lab: list[LabHost]) -> None:
    assert [h.name for h in lab] == ["lab1", "lab2"]
    assert [h.netns for h in lab] == [f"vmplab{BASE_PORT}-lab1", f"vmplab{BASE_PORT}-lab2"]
    assert [h.migration_address for h in lab] == ["10.231.0.1", "10.231.0.2"]
    assert lab[0].migration_ports != lab[1].migration_ports
    assert lab[0].shared_dir == lab[1].shared_dir
    assert lab[0].private_dir != lab[1].private_dir
    uuids: list[str] = []
    hostnames: list[str] = []
    for host in lab:
        socket = LAB_DIR.absolute() / "hosts" / host.name / "run" / "libvirt-sock"
        assert host.uri == f"qemu+unix:///system?socket={socket}"
        assert host.registration() == {
            "uri": host.uri,
            "name": host.name,
            "migration_address": host.migration_address,
        }
        assert Path(host.private_dir).is_dir()
        conn = libvirt.open(host.uri)
        try:
            caps = ET.fromstring(conn.getCapabilities())
            uuids.append(caps.findtext("host/uuid") or "")
            hostnames.append(conn.getHostname())
        finally:
            conn.close()
    assert uuids == [h.host_uuid for h in lab]
    assert len(set(uuids)) == 2
    assert hostnames == ["lab1", "lab2"]


def _links(netns: str | None = None) -> dict[str, dict[str, Any]]:
    """ifname -> ``ip -j addr`` record, in a lab namespace or (None) the machine's own."""
    args = ["ip", "-j", "addr", "show"] if netns is None else ["ip", "-n", netns, "-j", "addr"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return {link["ifname"]: link for link in json.loads(out)}


def _ipv4(link: dict[str, Any]) -> list[str]:
    return [f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"] if a["family"] == "inet"]


def _netns_list() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in out.stdout.splitlines() if line.strip()}


def _net_ns_of(netns: str) -> str:
    return f"net:[{os.stat(f'/run/netns/{netns}').st_ino}]"


def test_each_host_has_its_own_network_namespace(lab: list[LabHost]) -> None:
    fabric = lab[0].fabric_netns
    assert fabric == f"vmplab{BASE_PORT}-fabric" == lab[1].fabric_netns
    assert {fabric, lab[0].netns, lab[1].netns} <= _netns_list()
    for host in lab:
        assert host.pid is not None
        assert os.readlink(f"/proc/{host.pid}/ns/net") == _net_ns_of(host.netns)
        links = _links(host.netns)
        assert links["lo"]["operstate"] == "UNKNOWN" and "UP" in links["lo"]["flags"]
        assert _ipv4(links["mgmt0"]) == [f"{host.migration_address}/24"]
        assert _ipv4(links[GUEST_BRIDGE]) == []
        assert links["vmpup0"]["master"] == GUEST_BRIDGE
        for name in ("mgmt0", GUEST_BRIDGE, "vmpup0"):
            assert "UP" in links[name]["flags"], (host.name, name)
    fab = _links(fabric)
    assert _ipv4(fab["guest"]) == [f"{FABRIC_GUEST_ADDRESS}/24"]
    assert _ipv4(fab["mgmt"]) == []
    for host in lab:
        assert fab[f"{host.name}-mgmt"]["master"] == "mgmt"
        assert fab[f"{host.name}-guest"]["master"] == "guest"
    # the hosts reach each other on the mgmt network, inside the lab only
    ping = netns_ping(lab[0].netns, lab[1].migration_address)
    assert ping.returncode == 0, ping.stdout + ping.stderr


def test_the_machines_own_network_has_nothing_of_the_lab(lab: list[LabHost]) -> None:
    own = _links()
    lab_links = {GUEST_BRIDGE, "vmpup0", "mgmt0", "mgmt", "guest"}
    assert not lab_links & set(own), sorted(own)
    assert not [n for n in own if n.startswith("lab")], sorted(own)
    addresses = [a for link in own.values() for a in _ipv4(link)]
    assert not [a for a in addresses if a.startswith(("10.231.", "10.232."))], addresses
    # vmpool in this namespace talks to the hosts over their UNIX sockets only
    for host in lab:
        assert host.uri.startswith("qemu+unix:///system?socket=/")
        assert Path(host.socket_path).is_socket()


def test_lab_up_again_keeps_running_hosts(lab: list[LabHost]) -> None:
    namespaces = {h.netns: _net_ns_of(h.netns) for h in lab}
    # a link lost (say, by hand) is put back; the namespaces are kept
    subprocess.run(["ip", "-n", lab[0].netns, "link", "del", "vmpup0"], check=True)
    again = lab_up(2, LAB_DIR, base_port=BASE_PORT)
    assert again == lab
    assert {h.netns: _net_ns_of(h.netns) for h in lab} == namespaces
    assert _links(lab[0].netns)["vmpup0"]["master"] == GUEST_BRIDGE
    assert f"{lab[0].name}-guest" in _links(lab[0].fabric_netns)
    assert [h.name for h in lab_status(LAB_DIR)] == ["lab1", "lab2"]
    with pytest.raises(LabError, match="base port"):
        lab_up(2, LAB_DIR, base_port=BASE_PORT + 50)


def test_tiny_guest_boots_on_a_lab_host(lab: list[LabHost], guest: Guest) -> None:
    print(f"tiny guest reached VMPOOL-GUEST-READY in {guest.boot_seconds:.1f} s")
    first = read_serial_log(guest.serial_log)
    _wait_for(
        "heartbeats",
        lambda: (
            (read_serial_log(guest.serial_log).last_heartbeat or 0)
            >= (first.last_heartbeat or 0) + 2
        ),
        15,
        lambda: _serial_tail(guest.serial_log),
    )
    log = read_serial_log(guest.serial_log)
    assert log.ready_count == 1


def test_live_migration_keeps_the_guest_running(lab: list[LabHost], guest: Guest) -> None:
    src = libvirt.open(lab[0].uri)
    dst = libvirt.open(lab[1].uri)
    try:
        _wait_for(
            "the memory-dirtying loop",
            lambda: "VMPOOL-DIRTYING" in _serial_tail(guest.serial_log),
            30,
            lambda: _serial_tail(guest.serial_log),
        )
        before: SerialLog = read_serial_log(guest.serial_log)
        dom = src.lookupByName(guest.name)
        start = time.monotonic()
        dom.migrateToURI3(
            lab[1].uri,
            {libvirt.VIR_MIGRATE_PARAM_URI: f"tcp://{lab[1].migration_address}"},
            MIGRATE_FLAGS,
        )
        print(f"live migration lab1 -> lab2 took {time.monotonic() - start:.1f} s")

        assert guest.name not in [d.name() for d in src.listAllDomains()]
        moved = dst.lookupByName(guest.name)
        assert moved.isActive()
        assert moved.isPersistent()

        assert before.last_heartbeat is not None
        _wait_for(
            "heartbeats after the migration",
            lambda: (
                (read_serial_log(guest.serial_log).last_heartbeat or 0)
                >= (before.last_heartbeat or 0) + 3
            ),
            20,
            lambda: _serial_tail(guest.serial_log),
        )
        after = read_serial_log(guest.serial_log)
        assert after.ready_count == 1, "the guest rebooted"
        assert moved.isActive()
    finally:
        src.close()
        dst.close()


def test_lab_down_leaves_no_daemon_and_no_qemu(lab: list[LabHost], guest: Guest) -> None:
    namespaces = set()
    for host in lab:
        assert host.pid is not None
        ns = _uts_ns(host.pid)
        assert ns is not None
        namespaces.add(ns)

    lab_down(LAB_DIR)

    assert lab_status(LAB_DIR) == []
    assert not [ns for ns in _netns_list() if ns.startswith(f"vmplab{BASE_PORT}-")]
    left = [
        (pid, comm)
        for pid, comm, cmdline in _processes()
        if _uts_ns(pid) in namespaces
        or (comm == "libvirtd" and pid in {h.pid for h in lab})
        or (comm.startswith("qemu") and guest.name in cmdline)
    ]
    assert left == []
    # the host UUIDs stay for the next lab_up
    for host in lab:
        uuid_file = LAB_DIR / "hosts" / host.name / "host_uuid"
        assert uuid_file.read_text().strip() == host.host_uuid


def test_lab_up_takes_over_namespaces_left_by_a_crashed_run(lab: list[LabHost]) -> None:
    """Runs after lab_down: namespaces of a run that died before lab_down (bare, without
    their links) are reused and completed; lab_down removes them."""
    stale = [f"vmplab{BASE_PORT}-fabric", f"vmplab{BASE_PORT}-lab1"]
    for ns in stale:
        subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        (host,) = lab_up(1, LAB_DIR, base_port=BASE_PORT)
        assert host.netns == stale[1]
        assert _ipv4(_links(host.netns)["mgmt0"]) == ["10.231.0.1/24"]
        assert _links(host.fabric_netns)["lab1-guest"]["master"] == "guest"
        conn = libvirt.open(host.uri)
        try:
            assert conn.getHostname() == "lab1"
        finally:
            conn.close()
    finally:
        lab_down(LAB_DIR)
    assert not set(stale) & _netns_list()


def test_lab_refuses_without_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(LabError, match="needs root"):
        lab_up(1, tmp_path, base_port=BASE_PORT + 90)
