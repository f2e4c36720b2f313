"""Host use cases: register a hypervisor, read, delete."""

from __future__ import annotations

import json

from vmpool.adapters.db.tables import HostRow
from vmpool.domain.hardware import hardware_to_json
from vmpool.domain.host import check_fence_command
from vmpool.domain.host_uri import check_host_uri
from vmpool.domain.migration import ACTIVE_MIGRATION_STATES
from vmpool.domain.names import is_valid_name, validate_folder, validate_name, validate_trait
from vmpool.domain.ports import HostInventory
from vmpool.errors import AlreadyExists, HostUnreachable, InvalidInput, InvalidState
from vmpool.services import cpu_pins, host_networks
from vmpool.services.host_views import host_view
from vmpool.services.pools import check_ratios, default_pool
from vmpool.services.preconditions import IfMatch, check_if_match
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork
from vmpool.services.views import HostView


def _default_name(inv: HostInventory, uow: UnitOfWork) -> str:
    candidate = inv.hostname.split(".")[0].lower()
    if not is_valid_name(candidate) or uow.hosts.by_name(candidate) is not None:
        candidate = f"host-{inv.host_uuid[:8].lower()}"
    return candidate


def register_host(
    ctx: ServiceContext,
    uri: str,
    name: str | None = None,
    pool_id: int | None = None,
    actor: str = "api",
    migration_address: str | None = None,
    peer_uri: str | None = None,
) -> HostView:
    check_host_uri(uri, ctx.host_uri_policy)
    if peer_uri is not None:
        check_host_uri(peer_uri, ctx.host_uri_policy)
    if name is not None:
        validate_name(name, "host name")
    with ctx.uow() as uow:
        if uow.hosts.by_uri(uri) is not None:
            raise AlreadyExists(f"a host with URI {uri} is already registered", uri=uri)
        target_pool = uow.pools.get(pool_id) if pool_id is not None else default_pool(uow)
        target_pool_id = target_pool.id
    # The hypervisor is asked outside any transaction: it may be slow.
    hv = ctx.hypervisors.connect(uri)
    inventory = hv.inventory()
    disk_gib = hv.folder_capacity_gib(ctx.default_local_disk_path)
    with ctx.uow() as uow:
        if uow.hosts.by_host_uuid(inventory.host_uuid) is not None:
            raise AlreadyExists(
                f"the host at {uri} has host UUID {inventory.host_uuid}, already registered "
                "under another URI",
                host_uuid=inventory.host_uuid,
            )
        host_name = name or _default_name(inventory, uow)
        if uow.hosts.by_name(host_name) is not None:
            raise AlreadyExists(f"a host named {host_name} already exists", name=host_name)
        row = HostRow(
            pool_id=target_pool_id, name=host_name, uri=uri, migration_address=migration_address,
            peer_uri=peer_uri,
        )  # fmt: skip
        apply_inventory(row, inventory)
        row.disk_gib = disk_gib
        row.last_seen_at = ctx.clock()
        uow.hosts.add(row)
        uow.host_devices.record(row.id, inventory.pci_devices or (), ctx.clock())
        uow.events.record(actor, "host.registered", f"host/{row.id}", uri=uri, name=host_name)
        host_id = row.id
        uow.commit()
    host_networks.refresh(ctx, hv, host_id)  # its networks, at once (then at every sync)
    return get_host(ctx, host_id)


def register_local_host(ctx: ServiceContext, uri: str, actor: str = "daemon") -> HostView | None:
    """The daemon's own hypervisor (`register_local_host`), registered as the API would if
    no host has `uri` yet; None if one has. Raises as `register_host` does (among them
    AlreadyExists: the same host under another URI, or another host with its name)."""
    with ctx.read_uow() as uow:
        if uow.hosts.by_uri(uri) is not None:
            return None
    return register_host(ctx, uri, actor=actor)


def require_reachable(row: HostRow) -> HostRow:
    """A host the sync found unreachable is not asked again by an API call: 503 at once."""
    if row.silent:
        raise HostUnreachable(
            f"host {row.name} is {row.state} ({row.last_error or 'no answer'}); "
            "try again once it is up",
            host=row.name,
        )
    return row


def inventory_columns(inv: HostInventory) -> dict[str, object]:
    """The host row's columns of `HostRow.INVENTORY`, as the inventory sets them."""
    return {
        "host_uuid": inv.host_uuid,
        "hostname": inv.hostname,
        "arch": inv.arch,
        "cpus": inv.cpus,
        "memory_mib": inv.memory_mib,
        "domain_types": ",".join(sorted(t.value for t in inv.domain_types)),
        "traits": ",".join(sorted(inv.traits)),
        "cpu_model": inv.cpu_model,
        "libvirt_version": inv.libvirt_version,
        "hypervisor_version": inv.hypervisor_version,
        "hardware": hardware_to_json(inv.hardware),
    }


def apply_inventory(row: HostRow, inv: HostInventory) -> None:
    for column, value in inventory_columns(inv).items():
        setattr(row, column, value)


def list_hosts(
    ctx: ServiceContext,
    pool_id: int | None = None,
    after_id: int = 0,
    limit: int = 100,
    name: str | None = None,
) -> list[HostView]:
    with ctx.uow() as uow:
        return [host_view(uow, h) for h in uow.hosts.list(pool_id, after_id, limit, name)]


def get_host(ctx: ServiceContext, host_id: int) -> HostView:
    with ctx.uow() as uow:
        return host_view(uow, uow.hosts.get(host_id))


def delete_host(ctx: ServiceContext, host_id: int, actor: str = "api") -> None:
    with ctx.uow() as uow:
        row = uow.hosts.get(host_id)
        count = uow.vms.count_on_host(host_id)
        if count:
            raise InvalidState(
                f"host {row.name} still holds {count} VM(s): delete or move them first",
                host_id=host_id,
                vm_count=count,
            )
        inbound = [
            m.id
            for m in uow.migrations.in_states([s.value for s in ACTIVE_MIGRATION_STATES])
            if host_id in (m.source_host_id, m.target_host_id)
        ]
        if inbound:
            raise InvalidState(
                f"host {row.name} is the source or target of {len(inbound)} migration(s) "
                "in progress: wait for them or cancel them first",
                host_id=host_id,
                migration_ids=inbound,
            )
        uow.hosts.delete(row)
        uow.events.record(actor, "host.deleted", f"host/{host_id}", name=row.name)
        uow.commit()
    ctx.hypervisors.forget(row.uri)


def update_host(
    ctx: ServiceContext,
    host_id: int,
    changes: dict[str, object],
    actor: str,
    if_match: IfMatch | None = None,
) -> HostView:
    """Per-host overrides (ratios, reserved resources; None clears one) and operator traits;
    with `if_match`, only if the host's ETag still matches (checked under the row lock)."""
    allowed = {
        "cpu_allocation_ratio",
        "ram_allocation_ratio",
        "disk_allocation_ratio",
        "reserved_vcpus",
        "reserved_memory_mib",
        "operator_traits",
        "migration_address",
        "peer_uri",
        "local_disk_path",
        "shared_disk_path",
        "fence_command",
        "cpu_dedicated_set",
        "cpu_shared_set",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
    check_ratios(changes)
    with ctx.uow() as uow:
        split = "cpu_dedicated_set" in changes or "cpu_shared_set" in changes
        if split:  # placement's lock first (as create takes it): no CPU is pinned meanwhile
            uow.pools.get_for_update(uow.hosts.get(host_id).pool_id)
        row = uow.hosts.get_for_update(host_id)
        check_if_match(if_match, row)
        before = {k: getattr(row, k) for k in changes}
        if split:
            cpu_pins.check_split(uow, row, changes)
        for key, value in changes.items():
            if key in ("local_disk_path", "shared_disk_path") and value is not None:
                setattr(row, key, validate_folder(str(value), key))
            elif key == "peer_uri" and value is not None:
                row.peer_uri = check_host_uri(str(value), ctx.host_uri_policy)
            elif key == "fence_command":
                command = check_fence_command(value)  # type: ignore[arg-type]
                row.fence_command = json.dumps(command) if command else None
            elif key == "operator_traits":
                given = value if isinstance(value, list | tuple | set | frozenset) else []
                setattr(row, key, ",".join(sorted({validate_trait(str(t)) for t in given})))
            else:
                setattr(row, key, value)
        uow.events.record(
            actor, "host.updated", f"host/{host_id}", before=before, after=_plain(changes)
        )
        uow.flush()
        view = host_view(uow, row)
        uow.commit()
        return view


def _plain(values: dict[str, object]) -> dict[str, object]:
    return {
        k: (sorted(v) if isinstance(v, (set, frozenset, list)) else v) for k, v in values.items()
    }
