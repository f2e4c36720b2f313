"""Networks: create, list, show, delete. A new network is looked for (kind bridge) or set up
(kind libvirt) on every reachable host at once, then at every sync."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from vmpool.adapters.db.tables import NetworkRow
from vmpool.domain.names import validate_name
from vmpool.domain.network import (
    AddressPool,
    LibvirtMode,
    NetworkKind,
    check_network_in_use,
    libvirt_network_name,
    new_libvirt_bridge,
    validate_bridge,
)
from vmpool.errors import AlreadyExists, InvalidInput, VmpoolError
from vmpool.services import host_networks
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreateNetwork:
    name: str
    kind: str
    bridge: str | None = None  # kind bridge: the Linux bridge's name on the hosts
    mode: str | None = None  # kind libvirt: isolated (default) or routed
    ipv4_cidr: str | None = None
    ipv4_gateway: str | None = None
    ipv6_cidr: str | None = None
    ipv6_gateway: str | None = None
    project_id: int | None = None  # only this project's VMs may use it; None: shared


@dataclass(frozen=True)
class NetworkView:
    id: int
    name: str
    kind: str
    bridge: str
    mode: str | None
    ipv4_cidr: str | None
    ipv4_gateway: str | None
    ipv6_cidr: str | None
    ipv6_gateway: str | None
    project_id: int | None
    hosts: list[str]  # the hosts that offer it, as last found
    nic_count: int
    created_at: datetime


def network_view(uow: UnitOfWork, row: NetworkRow) -> NetworkView:
    return NetworkView(
        id=row.id,
        name=row.name,
        kind=row.kind,
        bridge=row.bridge,
        mode=row.mode,
        ipv4_cidr=row.ipv4_cidr,
        ipv4_gateway=row.ipv4_gateway,
        ipv6_cidr=row.ipv6_cidr,
        ipv6_gateway=row.ipv6_gateway,
        project_id=row.project_id,
        hosts=list(uow.networks.hosts_with(row.id)),
        nic_count=uow.nics.count_on(row.id),
        created_at=row.created_at,
    )


def _checked(cmd: CreateNetwork) -> NetworkRow:
    validate_name(cmd.name, "network name")
    try:
        kind = NetworkKind(cmd.kind)
    except ValueError:
        raise InvalidInput("kind must be bridge or libvirt", field="kind") from None
    if kind is NetworkKind.BRIDGE:
        if cmd.bridge is None:
            raise InvalidInput("a bridge network names its bridge", field="bridge")
        if cmd.mode is not None:
            raise InvalidInput("mode is for libvirt networks", field="mode")
        bridge, mode = validate_bridge(cmd.bridge), None
    else:
        if cmd.bridge is not None:
            raise InvalidInput(
                "vmpool names the bridge of a libvirt network itself (vmp<10 hex digits>)",
                field="bridge",
            )
        try:
            mode = LibvirtMode(cmd.mode or LibvirtMode.ISOLATED).value
        except ValueError:
            raise InvalidInput("mode must be isolated or routed", field="mode") from None
        bridge = new_libvirt_bridge(secrets.token_hex(5))
    if cmd.ipv4_cidr is not None:
        AddressPool.parse(cmd.ipv4_cidr, cmd.ipv4_gateway, 4, "ipv4_cidr")
    elif cmd.ipv4_gateway is not None:
        raise InvalidInput("a gateway needs its subnet (ipv4_cidr)", field="ipv4_gateway")
    if cmd.ipv6_cidr is not None:
        AddressPool.parse(cmd.ipv6_cidr, cmd.ipv6_gateway, 6, "ipv6_cidr")
    elif cmd.ipv6_gateway is not None:
        raise InvalidInput("a gateway needs its subnet (ipv6_cidr)", field="ipv6_gateway")
    if mode == LibvirtMode.ROUTED and cmd.ipv4_gateway is None and cmd.ipv6_gateway is None:
        raise InvalidInput(
            "a routed network needs a gateway: the host's address on it", field="ipv4_gateway"
        )
    return NetworkRow(
        name=cmd.name,
        kind=kind.value,
        bridge=bridge,
        mode=mode,
        ipv4_cidr=cmd.ipv4_cidr,
        ipv4_gateway=cmd.ipv4_gateway,
        ipv6_cidr=cmd.ipv6_cidr,
        ipv6_gateway=cmd.ipv6_gateway,
        project_id=cmd.project_id,
    )


def create_network(ctx: ServiceContext, cmd: CreateNetwork, actor: str = "api") -> NetworkView:
    row = _checked(cmd)
    with ctx.uow() as uow:
        if row.kind == NetworkKind.BRIDGE and any(
            n.bridge == row.bridge for n in uow.networks.list()
        ):
            raise AlreadyExists(f"a network on bridge {row.bridge} already exists", field="bridge")
        row.created_at = ctx.clock()
        if row.project_id is not None:
            uow.projects.get(row.project_id)
        uow.networks.add(row)
        uow.events.record(actor, "network.create", f"network/{row.id}", name=row.name)
        network_id = row.id
        hosts = [(h.id, h.uri) for h in uow.hosts.list() if not h.silent]
        uow.commit()
    for host_id, uri in hosts:
        try:
            host_networks.refresh(ctx, ctx.hypervisors.connect(uri), host_id)
        except VmpoolError as exc:  # the sync tries again
            log.warning("networks of %s not refreshed: %s", uri, exc.message)
    return get_network(ctx, network_id)


def get_network(ctx: ServiceContext, network_id: int) -> NetworkView:
    with ctx.uow() as uow:
        return network_view(uow, uow.networks.get(network_id))


def list_networks(ctx: ServiceContext, after_id: int = 0, limit: int = 100) -> list[NetworkView]:
    with ctx.uow() as uow:
        return [network_view(uow, n) for n in uow.networks.list(after_id, limit)]


def delete_network(ctx: ServiceContext, network_id: int, actor: str = "api") -> None:
    """Refused while NICs use it. A libvirt network is taken off every reachable host; one
    that does not answer now keeps it, unused (`virsh net-undefine vmpool-<name>` there)."""
    with ctx.uow() as uow:
        row = uow.networks.get_for_update(network_id)
        check_network_in_use(row.name, uow.nics.count_on(row.id))
        kind, name = NetworkKind(row.kind), row.name
        uow.networks.delete(row)
        uow.events.record(actor, "network.delete", f"network/{network_id}", name=name)
        hosts = [h.uri for h in uow.hosts.list() if not h.silent]
        uow.commit()
    if kind is NetworkKind.LIBVIRT:
        for uri in hosts:
            try:
                ctx.hypervisors.connect(uri).remove_network(libvirt_network_name(name))
            except VmpoolError as exc:
                log.warning("network %s stays on %s until its sync: %s", name, uri, exc.message)
