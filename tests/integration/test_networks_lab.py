"""Networks and NICs through the API on real lab hosts (issue 11): vmpool finds the lab's
guest bridge on every host, gives each VM a NIC with a MAC and an address it hands out, the
tiny guest configures the address from its kernel command line (`ip=`), and the guests
answer on the lab's guest network: from each other, from the fabric, during and after a live
migration (a pinger in the fabric namespace counts what is lost), and a NIC hot-plugged into
a running guest appears in it. Every packet stays inside the lab's network namespaces."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Vmpool
from tests.integration.test_migration_lab import serial_of, wait_migration
from vmpool.lab import FABRIC_GUEST_ADDRESS, GUEST_BRIDGE, GUEST_SUBNET, netns_exec, netns_ping
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage, SerialLog, parse_serial_log
from vmpool.lab.pinger import Pinger

pytestmark = pytest.mark.lab

LAB_NETWORK = {
    "name": "lab", "kind": "bridge", "bridge": GUEST_BRIDGE,
    "ipv4_cidr": GUEST_SUBNET, "ipv4_gateway": FABRIC_GUEST_ADDRESS,
}  # fmt: skip


def wait_log(log: Path, what: str, check: Any, seconds: float = 90) -> SerialLog:
    """The guest's serial log once `check` holds (a bound on waiting, not a timing test)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists():
            got = parse_serial_log(log.read_text(errors="replace"))
            if check(got):
                return got
        time.sleep(0.3)
    tail = log.read_text(errors="replace")[-1500:] if log.exists() else "(no log)"
    raise AssertionError(f"the guest never showed {what}; log ends:\n{tail}")


def create_guest(
    vp: Vmpool, name: str, image: GuestImage, host: str, *args: str, ipv4: str | None = None
) -> dict[str, Any]:
    nic = {"network": "lab", **({"ipv4": ipv4} if ipv4 else {})}
    r = vp.client.post(
        "/v1/vms",
        json={"name": name, "vcpus": 1, "memory_mib": 256, "image": image.name,
              "hosts": [host], "nics": [nic], "kernel_args": list(args)},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    vm: dict[str, Any] = r.json()
    return vm


def wait_address(vp: Vmpool, vm: dict[str, Any]) -> None:
    """The guest configured the address vmpool gave it (from `ip=` on its command line)."""
    address = vm["nics"][0]["ipv4"]
    wait_log(
        serial_of(vp, vm),
        f"address {address}",
        lambda s: any(a.startswith(f"{address}/") for a in s.nic_addresses.values()),
    )


def net_guest(vp: Vmpool, name: str, image: GuestImage, host: str, *args: str) -> dict[str, Any]:
    vm = create_guest(vp, name, image, host, *args)
    wait_address(vp, vm)
    return vm


@pytest.fixture
def lab_network(vmpool_sqlite: Vmpool, lab: list[LabHost]) -> Vmpool:
    vp = vmpool_sqlite
    for h in lab:
        vp.register(h)
    r = vp.client.post("/v1/networks", json=LAB_NETWORK)
    assert r.status_code == 201, r.text
    # vmpool found the bridge on every host, through libvirt, inside each host's namespace
    assert r.json()["hosts"] == [h.name for h in lab]
    return vp


def test_vms_on_two_hosts_reach_each_other_over_the_lab_network(
    lab_network: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = lab_network
    peer = "10.232.0.20"  # asked for, so that guest two can be told whom to ping at boot
    one = create_guest(vp, "net-one", tiny_image, lab[0].name, ipv4=peer)
    two = create_guest(vp, "net-two", tiny_image, lab[1].name, f"vmpool.ping={peer}")
    wait_address(vp, one)
    wait_address(vp, two)
    assert (one["host_name"], two["host_name"]) == (lab[0].name, lab[1].name)
    assert one["nics"][0]["ipv4"] == peer
    nic_one, nic_two = one["nics"][0], two["nics"][0]
    assert nic_one["mac"] != nic_two["mac"] and nic_one["ipv4"] != nic_two["ipv4"]
    # the guests see the MACs vmpool handed out
    seen = parse_serial_log(serial_of(vp, one).read_text(errors="replace"))
    assert seen.nics is not None and nic_one["mac"] in seen.nics.values()
    # guest two pings guest one across hosts; the fabric reaches both
    log = wait_log(serial_of(vp, two), f"a ping of {peer}", lambda s: peer in s.pings)
    assert log.pings[peer] is True
    for nic in (nic_one, nic_two):
        res = netns_ping(lab[0].fabric_netns, nic["ipv4"], count=3, timeout=1)
        assert res.returncode == 0, res.stdout + res.stderr


def test_a_hot_plugged_nic_appears_in_the_running_guest(
    lab_network: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = lab_network
    vm = net_guest(vp, "net-plug", tiny_image, lab[0].name)
    r = vp.client.post(f"/v1/vms/{vm['id']}/nics", json={"network": "lab"})
    assert r.status_code == 201, r.text
    added = r.json()
    assert added["state"] == "attached" and added["ipv4"] not in (None, vm["nics"][0]["ipv4"])
    got = wait_log(serial_of(vp, vm), f"NIC {added['mac']}",
                   lambda s: s.nics is not None and added["mac"] in s.nics.values())  # fmt: skip
    assert got.nics is not None and len(got.nics) == 2
    r = vp.client.delete(f"/v1/vms/{vm['id']}/nics/{added['id']}")
    assert r.status_code == 204, r.text
    wait_log(serial_of(vp, vm), f"NIC {added['mac']} gone",
             lambda s: s.nics is not None and added["mac"] not in s.nics.values())  # fmt: skip
    assert [n["mac"] for n in vp.client.get(f"/v1/vms/{vm['id']}/nics").json()["items"]] == [
        vm["nics"][0]["mac"]
    ]


def test_a_vm_answers_pings_during_and_after_a_live_migration(
    lab_network: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = lab_network
    vm = net_guest(vp, "net-move", tiny_image, lab[0].name)
    address = vm["nics"][0]["ipv4"]
    target = next(h for h in vp.client.get("/v1/hosts").json()["items"] if h["name"] == lab[1].name)
    with Pinger(lab[0].fabric_netns, address, interval_s=0.01) as pinger:
        time.sleep(1.0)
        r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={"target_host_id": target["id"]})
        assert r.status_code == 202, r.text
        m = wait_migration(vp, r.json()["id"])
        assert m["state"] == "completed", m["error"]
        time.sleep(2.0)
    report = pinger.report
    assert report is not None and report.sent > 100
    print(f"\nping during migration: {report}, libvirt downtime {m['downtime_ms']} ms")
    assert report.received > 0.5 * report.sent  # it answered before and after the move
    res = netns_ping(lab[1].fabric_netns, address, count=3, timeout=1)
    assert res.returncode == 0, res.stdout  # reachable on the target
    moved = vp.client.get(f"/v1/vms/{vm['id']}").json()
    assert moved["host_name"] == lab[1].name and moved["nics"][0]["mac"] == vm["nics"][0]["mac"]


def test_a_migration_to_a_host_without_the_network_is_refused(
    lab_network: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = lab_network
    side = "vmpside0"
    try:
        for h in lab[:2]:  # a bridge that only lab1 and lab2 have
            for cmd in (["ip", "link", "add", side, "type", "bridge"],
                        ["ip", "link", "set", side, "up"]):  # fmt: skip
                res = netns_exec(h.netns, cmd)
                assert res.returncode == 0, res.stderr
        r = vp.client.post("/v1/networks", json={"name": "side", "kind": "bridge", "bridge": side})
        assert r.status_code == 201, r.text
        assert r.json()["hosts"] == [lab[0].name, lab[1].name]
        r = vp.client.post(
            "/v1/vms",
            json={"name": "net-side", "vcpus": 1, "memory_mib": 128, "image": tiny_image.name,
                  "hosts": [lab[0].name], "nics": [{"network": "side"}]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        vm = r.json()
        third = next(
            h for h in vp.client.get("/v1/hosts").json()["items"] if h["name"] == lab[2].name
        )
        r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={"target_host_id": third["id"]})
        assert r.status_code == 409, r.text
        body = r.json()["error"]
        assert body["code"] == "no_capacity" and "lack network side" in body["message"]
        assert "networks" in {x["filter"] for x in body["details"]["rejections"]}
        assert vp.client.get(f"/v1/vms/{vm['id']}").json()["host_name"] == lab[0].name
        # and the network cannot go while the VM uses it
        net_id = vp.client.get("/v1/networks").json()["items"][1]["id"]
        assert vp.client.delete(f"/v1/networks/{net_id}").status_code == 409
    finally:
        for h in lab[:2]:
            netns_exec(h.netns, ["ip", "link", "del", side])


def test_a_libvirt_network_is_defined_on_every_host_and_carries_a_guest(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    """An isolated libvirt network: vmpool defines it on each host (inside the host's own
    namespace), the guest takes an address on it and reaches the host's end of the bridge;
    deleting the network takes it off the hosts."""
    vp = vmpool_sqlite
    for h in lab:
        vp.register(h)
    r = vp.client.post(
        "/v1/networks",
        json={"name": "local", "kind": "libvirt", "ipv4_cidr": "10.77.0.0/24",
              "ipv4_gateway": "10.77.0.1"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    net = r.json()
    assert net["hosts"] == [h.name for h in lab] and net["mode"] == "isolated"
    shown = netns_exec(lab[0].netns, ["ip", "-o", "-4", "addr", "show", "dev", net["bridge"]])
    assert "10.77.0.1/24" in shown.stdout, shown.stdout + shown.stderr
    r = vp.client.post(
        "/v1/vms",
        json={"name": "net-local", "vcpus": 1, "memory_mib": 128, "image": tiny_image.name,
              "hosts": [lab[0].name], "nics": [{"network": "local"}],
              "kernel_args": ["vmpool.ping=10.77.0.1"]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    vm = r.json()
    assert vm["nics"][0]["ipv4"] == "10.77.0.2"
    got = wait_log(serial_of(vp, vm), "a ping of 10.77.0.1", lambda s: "10.77.0.1" in s.pings)
    assert got.pings["10.77.0.1"] is True
    assert vp.client.delete(f"/v1/vms/{vm['id']}").status_code == 204
    assert vp.client.delete(f"/v1/networks/{net['id']}").status_code == 204
    gone = netns_exec(lab[0].netns, ["ip", "link", "show", net["bridge"]])
    assert gone.returncode != 0  # libvirt removed the bridge with the network
