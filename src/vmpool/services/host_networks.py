"""Which networks each host offers: found on registration and at every sync.

A `bridge` network is offered where its bridge exists; a `libvirt` network is defined (and
started) by vmpool on every host it reaches, and offered where it is active. Placement then
filters hosts by the networks of a VM's NICs, for its create and for every move.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from vmpool.adapters.db.tables import NetworkRow
from vmpool.domain.network import NetworkKind, libvirt_network_name
from vmpool.domain.ports import Hypervisor, NetworkSpec
from vmpool.errors import HostUnreachable, VmpoolError
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NetworkEntry:
    """What a host check needs of a network, read before the host is asked."""

    id: int
    kind: NetworkKind
    bridge: str
    spec: NetworkSpec | None  # for kind libvirt: what to define on the host


def network_spec(row: NetworkRow) -> NetworkSpec:
    v4 = ipaddress.ip_network(row.ipv4_cidr) if row.ipv4_cidr else None
    v6 = ipaddress.ip_network(row.ipv6_cidr) if row.ipv6_cidr else None
    return NetworkSpec(
        name=libvirt_network_name(row.name),
        bridge=row.bridge,
        routed=row.mode == "routed",
        ipv4_gateway=row.ipv4_gateway if v4 is not None else None,
        ipv4_prefix=v4.prefixlen if v4 is not None and row.ipv4_gateway else None,
        ipv6_gateway=row.ipv6_gateway if v6 is not None else None,
        ipv6_prefix=v6.prefixlen if v6 is not None and row.ipv6_gateway else None,
    )


def catalog(uow: UnitOfWork) -> list[NetworkEntry]:
    return [
        NetworkEntry(
            id=n.id,
            kind=NetworkKind(n.kind),
            bridge=n.bridge,
            spec=network_spec(n) if n.kind == NetworkKind.LIBVIRT else None,
        )
        for n in uow.networks.list()
    ]


def offered_by(hv: Hypervisor, entries: list[NetworkEntry]) -> set[int] | None:
    """The ids of the networks the host offers, defining vmpool's libvirt networks that it
    lacks. A network that cannot be defined there is logged and not offered: the host goes
    on serving the others. None if the host cannot list its networks now (what was last
    recorded stays)."""
    for entry in entries:
        if entry.spec is None:
            continue
        try:
            hv.ensure_network(entry.spec)
        except HostUnreachable:
            raise
        except VmpoolError as exc:
            log.warning(
                "network %s cannot be set up on %s: %s", entry.spec.name, hv.uri, exc.message
            )
    try:
        found = hv.host_networks()
    except HostUnreachable:
        raise
    except VmpoolError as exc:
        log.warning("the networks of %s cannot be listed: %s", hv.uri, exc.message)
        return None
    offered: set[int] = set()
    for entry in entries:
        if entry.spec is not None:
            if entry.spec.name in found.libvirt_networks:
                offered.add(entry.id)
        elif entry.bridge in found.bridges:
            offered.add(entry.id)
    return offered


def refresh(ctx: ServiceContext, hv: Hypervisor, host_id: int) -> None:
    """Ask the host now and record what it offers (registration, a new network)."""
    with ctx.uow() as uow:
        entries = catalog(uow)
    offered = offered_by(hv, entries)
    if offered is None:
        return
    with ctx.uow() as uow:
        if uow.hosts.find(host_id) is None:
            return
        uow.networks.set_on_host(host_id, offered, ctx.clock())
        uow.commit()
