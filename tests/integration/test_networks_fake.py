"""Networks and NICs through the use cases, on fake hosts (issue 11): what the database
records, what each host is asked, which hosts placement keeps, and that every refusal
leaves nothing behind."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.support.fake_world import World, to
from vmpool.api.app import create_app
from vmpool.domain.seed import FirstBoot
from vmpool.errors import (
    AlreadyExists,
    HypervisorOperationInvalid,
    InvalidInput,
    InvalidState,
    NoCapacity,
    NotFound,
)
from vmpool.services import migrations, networks, nics, sync, vms
from vmpool.services.tokens import Role, create_token

LAB = networks.CreateNetwork(
    name="lab", kind="bridge", bridge="br0", ipv4_cidr="10.232.0.0/24", ipv4_gateway="10.232.0.1"
)


def _vm(
    world: World, name: str, *requests: nics.NicRequest, on: str | None = None,
    image: str | None = None,
) -> vms.VmView:  # fmt: skip
    cmd = vms.CreateVm(
        name=name, vcpus=1, memory_mib=64, nics=tuple(requests), image=image,
        hosts=frozenset({on}) if on else None,
    )  # fmt: skip
    return vms.create_vm(world.ctx, cmd)


def _kernel_image(world: World) -> str:
    """A kernel boot image in the image folder (files the fake host never reads)."""
    folder = world.runtime.settings.effective_image_dir / "tiny"
    folder.mkdir(parents=True)
    (folder / "vmlinuz").write_bytes(b"kernel")
    (folder / "initrd").write_bytes(b"initrd")
    (folder / "image.json").write_text(
        json.dumps({"kernel": "vmlinuz", "initrd": "initrd", "cmdline": "console=ttyS0"})
    )
    return "tiny"


def _nic_count(world: World) -> int:
    with world.ctx.uow() as uow:
        return uow.nics.count()


def test_a_bridge_network_is_offered_by_the_hosts_that_have_the_bridge(world: World) -> None:
    _, a = world.add_host("a")
    _, b = world.add_host("b")
    b.bridges = {"other"}
    view = networks.create_network(world.ctx, LAB)
    assert view.hosts == ["a"] and view.bridge == "br0" and view.nic_count == 0

    b.bridges.add("br0")  # the operator makes the bridge on b; the sync finds it
    sync.sync_all(world.ctx, 1.0, 10.0)
    assert networks.get_network(world.ctx, view.id).hosts == ["a", "b"]
    a.bridges.clear()
    sync.sync_all(world.ctx, 1.0, 10.0)
    assert networks.get_network(world.ctx, view.id).hosts == ["b"]
    assert world.host(1).networks == [] and world.host(2).networks == ["lab"]


def test_a_libvirt_network_is_defined_on_every_host(world: World) -> None:
    _, a = world.add_host("a")
    view = networks.create_network(
        world.ctx,
        networks.CreateNetwork(name="iso", kind="libvirt", ipv4_cidr="10.9.0.0/24",
                               ipv4_gateway="10.9.0.1"),
    )  # fmt: skip
    assert re.fullmatch(r"vmp[0-9a-f]{10}", view.bridge)
    assert view.mode == "isolated" and view.hosts == ["a"]
    spec = a.libvirt_networks["vmpool-iso"]
    assert (spec.bridge, spec.ipv4_gateway, spec.ipv4_prefix) == (view.bridge, "10.9.0.1", 24)
    _, b = world.add_host("b")  # a host registered later gets it at registration
    assert "vmpool-iso" in b.libvirt_networks
    assert networks.get_network(world.ctx, view.id).hosts == ["a", "b"]

    networks.delete_network(world.ctx, view.id)
    assert a.libvirt_networks == {} and b.libvirt_networks == {}


def test_a_vm_gets_its_nics_with_unique_macs_and_addresses(world: World) -> None:
    _, a = world.add_host("a")
    networks.create_network(world.ctx, LAB)
    one = _vm(
        world, "one", nics.NicRequest("lab"), nics.NicRequest("lab", ipv4="10.232.0.50"),
        image=_kernel_image(world),
    )  # fmt: skip
    two = _vm(world, "two", nics.NicRequest("lab", mac="52:54:00:AA:00:01"))

    assert [n.ipv4 for n in one.nics] == ["10.232.0.2", "10.232.0.50"]
    assert [n.ipv4 for n in two.nics] == ["10.232.0.3"]
    assert two.nics[0].mac == "52:54:00:aa:00:01"
    macs = [n.mac for n in one.nics + two.nics]
    assert len(set(macs)) == 3 and all(m.startswith("52:54:00:") for m in macs)
    assert {n.state for n in one.nics + two.nics} == {"attached"}
    dom = a.domains[one.uuid]
    assert sorted(dom.nics) == sorted(n.mac for n in one.nics)
    assert {n.bridge for n in dom.nics.values()} == {"br0"}
    # a kernel-booted guest is told its first address on its command line
    assert dom.spec is not None
    assert "ip=10.232.0.2::10.232.0.1:255.255.255.0::eth0:off" in dom.spec.extra_cmdline

    vms.delete_vm(world.ctx, one.id)  # its MACs and addresses are free again
    assert _nic_count(world) == 1
    again = _vm(world, "three", nics.NicRequest("lab", ipv4="10.232.0.50"))
    assert again.nics[0].ipv4 == "10.232.0.50"


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (nics.NicRequest("nowhere"), NotFound),
        (nics.NicRequest("lab", mac="01:00:5e:00:00:01"), InvalidInput),  # multicast
        (nics.NicRequest("lab", mac="52:54:00:aa:00:01"), AlreadyExists),  # used by "first"
        (nics.NicRequest("lab", ipv4="10.232.0.2"), AlreadyExists),  # used by "first"
        (nics.NicRequest("lab", ipv4="10.99.0.2"), InvalidInput),  # not in the subnet
        (nics.NicRequest("lab", ipv4="10.232.0.1"), InvalidInput),  # the gateway
        (nics.NicRequest("lab", ipv6="fd00::2"), InvalidInput),  # no IPv6 subnet
        (nics.NicRequest("lab", model="ne2k"), InvalidInput),
    ],
)
def test_a_bad_nic_is_refused_and_nothing_is_left(
    world: World, request_: nics.NicRequest, error: type[Exception]
) -> None:
    _, a = world.add_host("a")
    networks.create_network(world.ctx, LAB)
    _vm(world, "first", nics.NicRequest("lab", mac="52:54:00:aa:00:01"))
    before = (_nic_count(world), set(a.domains), world.allocated(1))
    with pytest.raises(error):
        _vm(world, "second", request_)
    assert (_nic_count(world), set(a.domains), world.allocated(1)) == before
    assert [v.name for v in vms.list_vms(world.ctx)] == ["first"]


def test_placement_and_migration_keep_to_hosts_with_the_network(world: World) -> None:
    world.add_host("a")
    b_id, b = world.add_host("b")
    c_id, c = world.add_host("c")
    c.bridges = set()
    networks.create_network(world.ctx, LAB)
    vm = _vm(world, "web", nics.NicRequest("lab"), on="a")

    with pytest.raises(NoCapacity) as refused:
        migrations.request_migration(world.ctx, vm.id, to(c_id))
    assert refused.value.status == 409
    assert "lack network lab" in refused.value.message
    assert "networks" in {r["filter"] for r in refused.value.details["rejections"]}

    with pytest.raises(NoCapacity) as nowhere:
        _vm(world, "db", nics.NicRequest("lab"), on="c")
    assert "lack network lab" in nowhere.value.message
    assert _nic_count(world) == 1

    done = world.settled(migrations.request_migration(world.ctx, vm.id, to(b_id)).id)
    assert done.state == "completed"
    assert vm.uuid in b.domains and sorted(b.domains[vm.uuid].nics) == [vm.nics[0].mac]


def test_a_nic_is_hot_plugged_and_removed(world: World) -> None:
    _, a = world.add_host("a")
    networks.create_network(world.ctx, LAB)
    vm = _vm(world, "web")
    nic = nics.add_nic(world.ctx, vm.id, nics.NicRequest("lab"))
    assert (nic.state, nic.ipv4) == ("attached", "10.232.0.2")
    assert list(a.domains[vm.uuid].nics) == [nic.mac]

    a.guest_holds_nics = True  # a guest that does not let go keeps it, attached
    with pytest.raises(HypervisorOperationInvalid):
        nics.remove_nic(world.ctx, vm.id, nic.id)
    held = nics.get_nic(world.ctx, vm.id, nic.id)
    assert held.state == "attached" and held.last_error is not None
    a.guest_holds_nics = False
    nics.remove_nic(world.ctx, vm.id, nic.id)
    assert a.domains[vm.uuid].nics == {} and nics.list_nics(world.ctx, vm.id) == []


def test_a_failed_hot_plug_leaves_no_record(world: World) -> None:
    _, a = world.add_host("a")
    networks.create_network(world.ctx, LAB)
    vm = _vm(world, "web")
    a.fail_next("attach_nic")
    with pytest.raises(Exception, match="injected failure"):
        nics.add_nic(world.ctx, vm.id, nics.NicRequest("lab"))
    assert nics.list_nics(world.ctx, vm.id) == [] and a.domains[vm.uuid].nics == {}


def test_a_network_in_use_is_not_deleted(world: World) -> None:
    world.add_host("a")
    net = networks.create_network(world.ctx, LAB)
    vm = _vm(world, "web", nics.NicRequest("lab"))
    with pytest.raises(InvalidState) as err:
        networks.delete_network(world.ctx, net.id)
    assert err.value.status == 409 and "1 NIC" in err.value.message
    vms.delete_vm(world.ctx, vm.id)
    networks.delete_network(world.ctx, net.id)
    assert networks.list_networks(world.ctx) == []


def test_a_disk_image_guest_gets_a_network_config_seed(world: World) -> None:
    world.add_host("a")
    networks.create_network(world.ctx, LAB)
    cmd = vms.CreateVm(
        name="web", vcpus=1, memory_mib=64, nics=(nics.NicRequest("lab"),),
        first_boot=FirstBoot(user_data="#cloud-config\n"),
    )  # fmt: skip
    vm = vms.create_vm(world.ctx, cmd)
    assert vm.nics[0].ipv4 == "10.232.0.2" and vm.seed_path is not None


def test_the_api_refuses_hostile_network_input_with_4xx(world: World) -> None:
    world.add_host("a")
    token = create_token(world.ctx, Role.ADMIN, "t")
    client = TestClient(create_app(world.ctx), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token}"
    bad_networks = [
        {"name": "x", "kind": "bridge", "bridge": "br0;reboot"},
        {"name": "x", "kind": "bridge", "bridge": "../../etc"},
        {"name": "x", "kind": "bridge"},  # no bridge
        {"name": "x", "kind": "libvirt", "bridge": "br0"},
        {"name": "x", "kind": "ovs", "bridge": "br0"},
        {"name": "x", "kind": "bridge", "bridge": "br0", "ipv4_cidr": "10.0.0.1/24"},
        {"name": "X!", "kind": "bridge", "bridge": "br0"},
    ]
    for body in bad_networks:
        r = client.post("/v1/networks", json=body)
        assert r.status_code == 422, (body, r.text)
    assert client.get("/v1/networks").json()["items"] == []
    ok = client.post("/v1/networks", json={"name": "lab", "kind": "bridge", "bridge": "br0"})
    assert ok.status_code == 201 and ok.json()["hosts"] == ["a"]
    assert client.post("/v1/networks", json={"name": "lab2", "kind": "bridge",
                                              "bridge": "br0"}).status_code == 409  # fmt: skip

    vm = {"name": "web", "vcpus": 1, "memory_mib": 64}
    for nic, status in [
        ({"network": "nowhere"}, 404),
        ({"network": "lab", "mac": "ff:ff:ff:ff:ff:ff"}, 422),
        ({"network": "lab", "mac": "52:54:00:zz:00:01"}, 422),
    ]:
        r = client.post("/v1/vms", json={**vm, "nics": [nic]})
        assert r.status_code == status, (nic, r.text)
    assert client.get("/v1/vms").json()["items"] == []
    assert client.delete("/v1/networks/999").status_code == 404
    assert client.post("/v1/vms/999/nics", json={"network": "lab"}).status_code == 404


def test_hot_plugs_left_mid_way_are_settled(world: World) -> None:
    _, a = world.add_host("a")
    networks.create_network(world.ctx, LAB)
    vm = _vm(world, "web", nics.NicRequest("lab"))
    kept = nics.add_nic(world.ctx, vm.id, nics.NicRequest("lab"))
    # vmpool stopped after writing each intent: one NIC half attached, one half detached
    with world.ctx.uow() as uow:
        plugging = nics.allocate(world.ctx, uow, vm.id, nics.NicRequest("lab"))
        plugging_id, plugging_mac = plugging.id, plugging.mac
        long_ago = world.ctx.clock() - timedelta(hours=1)
        plugging.state_changed_at = long_ago
        leaving = uow.nics.get(vm.id, kept.id)
        leaving.begin_detach(long_ago)
        uow.commit()
    a.domains[vm.uuid].nics[plugging_mac] = a.domains[vm.uuid].nics[kept.mac]

    settled = nics.settle_stale(world.ctx)

    assert sorted(settled) == sorted([plugging_id, kept.id])
    assert [n.mac for n in nics.list_nics(world.ctx, vm.id)] == [vm.nics[0].mac]
    assert sorted(a.domains[vm.uuid].nics) == [vm.nics[0].mac]
    assert vm.nics[0].state == "attached"  # a NIC made with its VM never waits in `attaching`
