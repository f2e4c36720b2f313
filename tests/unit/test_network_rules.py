"""The rules of networks and NICs (issue 11): MAC addresses, address pools, bridge names, the
network filter of placement, and the XML a NIC and a libvirt network become."""

from __future__ import annotations

import ipaddress
import json
import random
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vmpool.adapters.hypervisor.domain_xml import build_network_xml, nic_xml
from vmpool.domain.host import HostState
from vmpool.domain.model import (
    AllocationPolicy,
    PlacementRequirements,
    Resources,
    make_placement_host,
)
from vmpool.domain.network import (
    AddressPool,
    allocate_mac,
    check_mac,
    check_mac_prefix,
    kernel_ip_arg,
    validate_bridge,
)
from vmpool.domain.placement import meets_requirements, place
from vmpool.domain.ports import NetworkSpec, NicSpec
from vmpool.domain.seed import network_config
from vmpool.errors import Exhausted, InvalidInput


def test_a_mac_is_canonical_and_unicast() -> None:
    assert check_mac("52:54:00:AB:cd:01") == "52:54:00:ab:cd:01"
    for bad in ["01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "52:54:00:ab:cd", "52-54-00-ab-cd-01",
                "52:54:00:ab:cd:0g", "00:00:00:00:00:00", "", "52:54:00:ab:cd:01:02"]:  # fmt: skip
        with pytest.raises(InvalidInput):
            check_mac(bad)


def test_allocated_macs_carry_the_prefix_and_are_never_taken_twice() -> None:
    taken: set[str] = set()
    rng = random.Random(7)
    for _ in range(500):
        mac = allocate_mac("52:54:00", taken.__contains__, len(taken), rng)
        assert mac.startswith("52:54:00:") and check_mac(mac) == mac
        assert mac not in taken
        taken.add(mac)
    assert len(taken) == 500


def test_a_small_prefix_space_is_filled_then_refused_with_409() -> None:
    taken: set[str] = set()
    rng = random.Random(1)
    for _ in range(256):  # five bytes of prefix leave 256 addresses
        taken.add(allocate_mac("52:54:00:aa:bb", taken.__contains__, len(taken), rng))
    assert len(taken) == 256
    with pytest.raises(Exhausted) as err:
        allocate_mac("52:54:00:aa:bb", taken.__contains__, len(taken), rng)
    assert err.value.status == 409 and "52:54:00:aa:bb" in err.value.message


def test_the_lowest_free_mac_is_found_when_random_tries_keep_missing() -> None:
    taken = {f"52:54:00:aa:bb:{n:02x}" for n in range(256) if n != 200}
    mac = allocate_mac("52:54:00:aa:bb", taken.__contains__, len(taken), random.Random(3))
    assert mac == "52:54:00:aa:bb:c8"


@pytest.mark.parametrize("prefix", ["53:54:00", "52:54:00:00:00:00", "zz", "52-54"])
def test_a_multicast_or_malformed_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(InvalidInput):
        check_mac_prefix(prefix)


def test_addresses_start_low_and_skip_network_gateway_and_broadcast() -> None:
    pool = AddressPool.parse("10.232.0.0/29", "10.232.0.1", 4, "ipv4_cidr")
    taken: list[str] = []
    while True:
        try:
            taken.append(pool.allocate(taken))
        except Exhausted as exc:
            assert exc.status == 409
            break
    assert taken == [f"10.232.0.{n}" for n in range(2, 7)]


def test_an_asked_address_must_be_a_host_address_of_the_subnet() -> None:
    pool = AddressPool.parse("10.232.0.0/24", "10.232.0.1", 4, "ipv4_cidr")
    assert pool.check("10.232.0.20") == "10.232.0.20"
    for bad in ["10.232.0.1", "10.232.0.0", "10.232.0.255", "10.233.0.5", "fe80::1", "x", ""]:
        with pytest.raises(InvalidInput):
            pool.check(bad)


def test_ipv6_pools_hand_out_addresses_after_the_gateway() -> None:
    pool = AddressPool.parse("fd00:232::/64", "fd00:232::1", 6, "ipv6_cidr")
    first = pool.allocate([])
    assert first == "fd00:232::2"
    assert pool.allocate([first]) == "fd00:232::3"


@pytest.mark.parametrize(
    ("cidr", "gateway", "version"),
    [("10.0.0.1/24", None, 4), ("10.0.0.0/31", None, 4), ("fd00::/64", None, 4),
     ("10.0.0.0/24", "10.0.1.1", 4), ("10.0.0.0/24", "10.0.0.0", 4), ("nonsense", None, 4)],
)  # fmt: skip
def test_a_bad_subnet_or_gateway_is_refused(cidr: str, gateway: str | None, version: int) -> None:
    with pytest.raises(InvalidInput):
        AddressPool.parse(cidr, gateway, version, "ipv4_cidr")


@given(st.integers(min_value=0, max_value=250))
def test_an_allocated_address_is_never_one_already_taken(n: int) -> None:
    pool = AddressPool.parse("192.168.7.0/24", "192.168.7.1", 4, "ipv4_cidr")
    taken = [f"192.168.7.{i}" for i in range(2, 2 + n)]
    address = pool.allocate(taken)
    assert address not in taken and ipaddress.ip_address(address) in pool.subnet


def test_the_kernel_ip_argument_has_the_standard_form() -> None:
    pool = AddressPool.parse("10.232.0.0/24", "10.232.0.1", 4, "ipv4_cidr")
    assert kernel_ip_arg("10.232.0.7", pool) == "ip=10.232.0.7::10.232.0.1:255.255.255.0::eth0:off"


@pytest.mark.parametrize(
    "name", ["", "br0;reboot", "../etc", "br/0", "a" * 16, "-br0", "br 0", "br$(id)", ".."]
)
def test_a_bridge_name_with_shell_or_path_characters_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        validate_bridge(name)


def _host(name: str, networks: frozenset[str]) -> object:
    return make_placement_host(
        id=hash(name) % 1000, name=name, state=HostState.UP,
        physical=Resources(8, 16384, 100), policy=AllocationPolicy(), networks=networks,
    )  # fmt: skip


def test_placement_filters_hosts_without_the_networks_and_says_which() -> None:
    hosts = [_host("a", frozenset({"lab"})), _host("b", frozenset()), _host("c", frozenset())]
    req = PlacementRequirements(vcpus=1, memory_mib=64, networks=frozenset({"lab"}))
    result = place(hosts, req, AllocationPolicy())  # type: ignore[arg-type]
    assert result.host is not None and result.host.name == "a"

    refused = place(hosts[1:], req, AllocationPolicy())  # type: ignore[arg-type]
    assert refused.host is None
    assert [(r.filter, r.hosts) for r in refused.rejections] == [("networks", ("b", "c"))]
    assert refused.explanation == "2 hosts: lack network lab"
    assert meets_requirements(hosts[0], req) and not meets_requirements(hosts[1], req)  # type: ignore[arg-type]


def test_a_nic_on_a_bridge_and_on_a_libvirt_network_as_domain_xml() -> None:
    bridge = ET.fromstring(nic_xml(NicSpec(mac="52:54:00:00:00:01", bridge="vmpbr0")))
    assert bridge.get("type") == "bridge"
    assert bridge.find("source").get("bridge") == "vmpbr0"  # type: ignore[union-attr]
    assert bridge.find("mac").get("address") == "52:54:00:00:00:01"  # type: ignore[union-attr]
    assert bridge.find("model").get("type") == "virtio"  # type: ignore[union-attr]
    assert bridge.find("target") is None  # libvirt names the tap: vnetN
    net = ET.fromstring(nic_xml(NicSpec(mac="52:54:00:00:00:02", network="vmpool-iso")))
    assert net.get("type") == "network"
    assert net.find("source").get("network") == "vmpool-iso"  # type: ignore[union-attr]
    with pytest.raises(InvalidInput):
        nic_xml(NicSpec(mac="52:54:00:00:00:03", bridge="br0'/><x y='"))


def test_a_libvirt_network_is_isolated_or_routed_with_its_gateway_and_no_dhcp() -> None:
    iso = ET.fromstring(build_network_xml(NetworkSpec(name="vmpool-a", bridge="vmpn1")))
    assert iso.find("forward") is None and iso.find("ip") is None
    assert iso.find("bridge").get("name") == "vmpn1"  # type: ignore[union-attr]
    routed = ET.fromstring(
        build_network_xml(NetworkSpec(name="vmpool-b", bridge="vmpn2", routed=True,
                                      ipv4_gateway="10.9.0.1", ipv4_prefix=24))
    )  # fmt: skip
    assert routed.find("forward").get("mode") == "route"  # type: ignore[union-attr]
    ip = routed.find("ip")
    assert ip is not None and (ip.get("address"), ip.get("prefix")) == ("10.9.0.1", "24")
    assert ip.find("dhcp") is None


def test_the_seed_network_config_matches_nics_by_mac() -> None:
    text = network_config(
        [("52:54:00:00:00:01", ["10.0.0.5/24"], "10.0.0.1", None),
         ("52:54:00:00:00:02", ["fd00::5/64"], None, None)]
    )  # fmt: skip
    config = json.loads(text)  # JSON is YAML: cloud-init reads it as is
    assert config["version"] == 2
    nic0, nic1 = config["ethernets"]["nic0"], config["ethernets"]["nic1"]
    assert nic0["match"] == {"macaddress": "52:54:00:00:00:01"}
    assert nic0["addresses"] == ["10.0.0.5/24"]
    assert nic0["routes"] == [{"to": "default", "via": "10.0.0.1"}]
    assert "routes" not in nic1
