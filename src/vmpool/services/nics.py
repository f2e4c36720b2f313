"""A VM's NICs: handed out with the VM (create) or added to and removed from it (hot-plug).

A NIC's MAC address is unique in the whole database and its IP addresses in its network;
both are chosen in the same transaction that records the NIC, under the network's row lock,
and the database's unique keys make a lost race a 409, never a duplicate.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from vmpool.adapters.db.tables import NetworkRow, NicRow, VmRow
from vmpool.domain.model import PlacementRequirements
from vmpool.domain.network import (
    MAX_NICS,
    AddressPool,
    NetworkKind,
    NicState,
    allocate_mac,
    check_mac,
    check_model,
    kernel_ip_arg,
    libvirt_network_name,
)
from vmpool.domain.placement import place_or_refuse
from vmpool.domain.ports import NicSpec
from vmpool.errors import AlreadyExists, InvalidInput, InvalidState, NotFound, VmpoolError
from vmpool.services.hosts import require_reachable
from vmpool.services.placement_hosts import placement_hosts, policy_of
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork
from vmpool.services.views import NicView, nic_view

log = logging.getLogger(__name__)

_rng = random.SystemRandom()


@dataclass(frozen=True)
class NicRequest:
    network: str
    mac: str | None = None
    ipv4: str | None = None
    ipv6: str | None = None
    model: str = "virtio"


def network_by_name(uow: UnitOfWork, name: str) -> NetworkRow:
    row = uow.networks.by_name(name)
    if row is None:
        raise NotFound(f"network {name} does not exist", field="network", network=name)
    return row


def check_requests(uow: UnitOfWork, requests: Sequence[NicRequest]) -> frozenset[str]:
    """The networks asked for (placement filters hosts by them); 4xx for what cannot be."""
    if len(requests) > MAX_NICS:
        raise InvalidInput(f"a VM has at most {MAX_NICS} NICs", field="nics")
    for r in requests:
        network_by_name(uow, r.network)
        check_model(r.model)
        if r.mac is not None:
            check_mac(r.mac)
    macs = [r.mac.lower() for r in requests if r.mac is not None]
    if len(set(macs)) != len(macs):
        raise InvalidInput("two NICs are given the same MAC address", field="nics")
    return frozenset(r.network for r in requests)


def _pool(network: NetworkRow, version: int) -> AddressPool | None:
    if version == 4:
        if network.ipv4_cidr is None:
            return None
        return AddressPool.parse(network.ipv4_cidr, network.ipv4_gateway, 4, "ipv4_cidr")
    if network.ipv6_cidr is None:
        return None
    return AddressPool.parse(network.ipv6_cidr, network.ipv6_gateway, 6, "ipv6_cidr")


def _address(uow: UnitOfWork, network: NetworkRow, version: int, asked: str | None) -> str | None:
    pool = _pool(network, version)
    field = f"ipv{version}"
    if pool is None:
        if asked is not None:
            raise InvalidInput(f"network {network.name} has no IPv{version} subnet", field=field)
        return None
    taken = uow.nics.addresses(network.id, version)
    if asked is None:
        return pool.allocate(taken)
    address = pool.check(asked, field)
    if address in taken:
        raise AlreadyExists(
            f"address {address} is already used on network {network.name}", field=field
        )
    return address


def allocate(
    ctx: ServiceContext, uow: UnitOfWork, vm_id: int, request: NicRequest, with_vm: bool = False
) -> NicRow:
    """Record one NIC with its MAC and addresses, in the caller's transaction: `attaching`
    (a hot-plug's intent), or `attached` if it comes `with_vm` (the VM's create is the
    intent of its NICs)."""
    network = uow.networks.get_for_update(network_by_name(uow, request.network).id)
    model = check_model(request.model)
    if request.mac is not None:
        mac = check_mac(request.mac)
        if uow.nics.mac_taken(mac):
            raise AlreadyExists(f"MAC address {mac} is already used", field="mac", mac=mac)
    else:
        mac = allocate_mac(ctx.mac_prefix, uow.nics.mac_taken, uow.nics.count(), _rng)
    row = NicRow(
        vm_id=vm_id,
        network_id=network.id,
        mac=mac,
        model=model,
        ipv4=_address(uow, network, 4, request.ipv4),
        ipv6=_address(uow, network, 6, request.ipv6),
        state_changed_at=ctx.clock(),
        created_at=ctx.clock(),
    )
    if with_vm:
        row.attached(ctx.clock())
    return uow.nics.add(row)


def nic_spec(row: NicRow) -> NicSpec:
    network = row.network
    if network.kind == NetworkKind.BRIDGE:
        return NicSpec(mac=row.mac, bridge=network.bridge, model=row.model)
    return NicSpec(mac=row.mac, network=libvirt_network_name(network.name), model=row.model)


def boot_ip_arg(rows: Sequence[NicRow]) -> tuple[str, ...]:
    """The kernel's `ip=` for a VM booted from a kernel: the first NIC's IPv4 address (the
    guest calls it eth0). Other NICs, and guests booted from a disk, get theirs from the
    first-boot seed's network-config."""
    if not rows or rows[0].ipv4 is None:
        return ()
    pool = _pool(rows[0].network, 4)
    assert pool is not None
    return (kernel_ip_arg(rows[0].ipv4, pool),)


def addressing(rows: Sequence[NicRow]) -> list[tuple[str, list[str], str | None, str | None]]:
    """Per NIC with addresses: (MAC, addresses with prefix, IPv4 gateway, IPv6 gateway), for
    the seed's network-config."""
    out = []
    for row in rows:
        addresses = []
        gateways: list[str | None] = [None, None]
        for i, (version, address) in enumerate(((4, row.ipv4), (6, row.ipv6))):
            pool = _pool(row.network, version)
            if address is not None and pool is not None:
                addresses.append(pool.with_prefix(address))
                gateways[i] = str(pool.gateway) if pool.gateway is not None else None
        if addresses:
            out.append((row.mac, addresses, gateways[0], gateways[1]))
    return out


# --- hot-plug ---------------------------------------------------------------------------


def _check_host_offers(uow: UnitOfWork, vm: VmRow, network: str) -> str:
    """Under the pool lock: the VM's host, if it offers `network` (a 409 that names the
    network filter otherwise, as placement explains)."""
    uow.pools.get_for_update(vm.pool_id)
    if vm.host_id is None:
        raise InvalidState(f"VM {vm.name} has no host")
    host = require_reachable(uow.hosts.get(vm.host_id))
    pool = uow.pools.get(vm.pool_id)
    request = PlacementRequirements(
        vcpus=0, memory_mib=0, networks=frozenset({network}),
        allowed_hosts=frozenset({host.name}),
    )  # fmt: skip
    place_or_refuse(placement_hosts(uow, pool), request, policy_of(pool))
    return host.uri


def add_nic(ctx: ServiceContext, vm_id: int, request: NicRequest, actor: str = "api") -> NicView:
    # 1. Intent: the record, its MAC and addresses.
    with ctx.uow() as uow:
        vm = uow.vms.get(vm_id)
        vm.check_devices_can_change()
        check_requests(uow, [request])
        if len(uow.nics.of_vm(vm_id)) >= MAX_NICS:
            raise InvalidState(f"VM {vm.name} has {MAX_NICS} NICs already")
        uri = _check_host_offers(uow, vm, request.network)
        row = allocate(ctx, uow, vm_id, request)
        uow.events.record(actor, "nic.add", f"vm/{vm_id}", mac=row.mac, network=request.network)
        nic_id, vm_uuid, spec = row.id, vm.uuid, nic_spec(row)
        uow.commit()
    # 2. The host.
    try:
        ctx.hypervisors.connect(uri).attach_nic(vm_uuid, spec)
    except VmpoolError as exc:
        with ctx.uow() as uow:
            gone = uow.nics.find(nic_id)
            if gone is not None:
                uow.nics.delete(gone)  # and so its MAC and addresses
            uow.events.record(actor, "nic.add_failed", f"vm/{vm_id}", error=exc.message)
            uow.commit()
        raise
    # 3. Outcome.
    with ctx.uow() as uow:
        row = uow.nics.get(vm_id, nic_id)
        row.attached(ctx.clock())
        view = nic_view(row)
        uow.commit()
        return view


def remove_nic(ctx: ServiceContext, vm_id: int, nic_id: int, actor: str = "api") -> None:
    """Detach (confirmed by the guest letting go), then forget the record and so its
    addresses. A guest that does not let go keeps the NIC, attached."""
    with ctx.uow() as uow:
        vm = uow.vms.get(vm_id)
        row = uow.nics.get(vm_id, nic_id)
        vm.check_devices_can_change()
        if vm.host_id is None:
            raise InvalidState(f"VM {vm.name} has no host")
        host = require_reachable(uow.hosts.get(vm.host_id))
        row.begin_detach(ctx.clock())
        uow.events.record(actor, "nic.remove", f"vm/{vm_id}", mac=row.mac)
        vm_uuid, uri, spec = vm.uuid, host.uri, nic_spec(row)
        uow.commit()
    try:
        ctx.hypervisors.connect(uri).detach_nic(vm_uuid, spec)
    except VmpoolError as exc:
        with ctx.uow() as uow:
            row = uow.nics.get(vm_id, nic_id)
            row.detach_failed(ctx.clock(), f"detach failed: {exc.message}")
            uow.commit()
        raise
    with ctx.uow() as uow:
        gone = uow.nics.find(nic_id)
        if gone is not None:
            uow.nics.delete(gone)
        uow.commit()


@dataclass(frozen=True)
class _Stale:
    nic_id: int
    state: NicState
    vm_uuid: str
    uri: str
    spec: NicSpec


def settle_stale(ctx: ServiceContext) -> list[int]:
    """NIC hot-plugs left mid-way (vmpool stopped between intent and outcome), once older
    than `stale_intent_s`: an `attaching` one is undone (the client was never told it
    worked), a `detaching` one finished (the client asked for it); either way detached and
    its record, MAC and addresses dropped. Answers the ids settled."""
    before = ctx.clock() - timedelta(seconds=ctx.stale_intent_s)
    with ctx.uow() as uow:
        stale: list[_Stale] = []
        for n in uow.nics.changing_since_before(before):
            vm = uow.vms.get(n.vm_id)
            host = uow.hosts.find(vm.host_id) if vm.host_id is not None else None
            if host is not None:
                stale.append(_Stale(n.id, n.nic_state, vm.uuid, host.uri, nic_spec(n)))
    settled: list[int] = []
    for s in stale:
        try:
            ctx.hypervisors.connect(s.uri).detach_nic(s.vm_uuid, s.spec)
        except VmpoolError as exc:
            log.warning("NIC %s of VM %s not settled yet: %s", s.spec.mac, s.vm_uuid, exc.message)
            continue
        with ctx.uow() as uow:
            row = uow.nics.find(s.nic_id)
            if row is None or row.state_changed_at >= before:
                continue  # gone, or taken up again meanwhile
            uow.nics.delete(row)
            uow.events.record("sync", "nic.settled", f"nic/{s.nic_id}", was=s.state.value)
            uow.commit()
        settled.append(s.nic_id)
    return settled


def list_nics(ctx: ServiceContext, vm_id: int) -> list[NicView]:
    with ctx.uow() as uow:
        uow.vms.get(vm_id)
        return [nic_view(n) for n in uow.nics.of_vm(vm_id)]


def get_nic(ctx: ServiceContext, vm_id: int, nic_id: int) -> NicView:
    with ctx.uow() as uow:
        return nic_view(uow.nics.get(vm_id, nic_id))
