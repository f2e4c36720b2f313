"""PCI passthrough (docs/hardware.md): each host's PCI devices as its libvirt
lists them, the operator's aliases that make them assignable, and the claims of VMs on them.

SGX EPC needs no service of its own: a VM's `sgx_epc_mib` on its row is its claim on its host
(HostRepository.hardware_use sums them), taken when placement sets its host, under the pool's
lock like every other claim."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vmpool.adapters.db.tables import HostDeviceRow, VmRow
from vmpool.domain.names import validate_trait
from vmpool.domain.passthrough import check_pci_address
from vmpool.errors import Conflict, InvalidState, NotFound
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork


@dataclass(frozen=True)
class HostDeviceView:
    host_id: int
    address: str
    vendor_id: str
    product_id: str
    vendor: str
    product: str
    iommu_group: int | None
    numa_node: int | None
    alias: str | None  # assignable under this alias; None: not assignable
    vm_id: int | None  # the VM holding it
    vm_name: str | None
    missing_since: datetime | None  # gone from the host's listing since


def _view(row: HostDeviceRow, vm_name: str | None) -> HostDeviceView:
    return HostDeviceView(
        host_id=row.host_id, address=row.address, vendor_id=row.vendor_id,
        product_id=row.product_id, vendor=row.vendor, product=row.product,
        iommu_group=row.iommu_group, numa_node=row.numa_node, alias=row.alias,
        vm_id=row.vm_id, vm_name=vm_name, missing_since=row.missing_since,
    )  # fmt: skip


def list_devices(ctx: ServiceContext, host_id: int) -> list[HostDeviceView]:
    with ctx.uow() as uow:
        uow.hosts.get(host_id)  # 404 for a host that does not exist
        return [_view(row, name) for row, name in uow.host_devices.of_host(host_id)]


def set_alias(
    ctx: ServiceContext, host_id: int, address: str, alias: str | None, actor: str
) -> HostDeviceView:
    """Make a device assignable under `alias` (None: no longer assignable). Refused (409)
    while a VM holds it under another alias: its claim names the alias it asked for."""
    address = check_pci_address(address)
    if alias is not None:
        validate_trait(alias)
    with ctx.uow() as uow:
        host = uow.hosts.get(host_id)
        uow.pools.get_for_update(host.pool_id)  # the claims' lock: no create takes it meanwhile
        row = uow.host_devices.find(host_id, address)
        if row is None:
            raise NotFound(
                f"host {host.name} has no PCI device {address}", field="address", address=address
            )
        holder = uow.vms.find(row.vm_id) if row.vm_id is not None else None
        if row.alias != alias and holder is not None:
            raise InvalidState(
                f"PCI device {address} of host {host.name} is held by VM {holder.name}: it "
                "keeps its alias until that VM is deleted",
                vm=holder.name,
            )
        before, row.alias = row.alias, alias
        uow.events.record(
            actor, "host.device_alias", f"host/{host_id}", address=address, alias=alias,
            before=before,
        )  # fmt: skip
        view = _view(row, holder.name if holder is not None else None)
        uow.commit()
        return view


def claim_devices(uow: UnitOfWork, vm: VmRow, host_id: int) -> tuple[str, ...]:
    """Inside the caller's transaction, under the pool's lock, after placement chose
    `host_id` for `vm`: give it specific free devices of each alias it asks. Placement's
    `devices` filter saw them free under the same lock, so a shortfall is a bug or a race
    with the operator; refused (409) all the same, the transaction then undone."""
    claimed: list[str] = []
    for d in vm.hardware_request.devices:
        got = uow.host_devices.claim(host_id, vm.id, d.alias, d.count)
        if len(got) < d.count:
            raise Conflict(
                f"no free {d.alias} (has {len(got)} of {d.count}) on the chosen host",
                field="devices",
            )
        claimed += got
    return tuple(sorted(claimed))


def move_devices(uow: UnitOfWork, vm: VmRow, host_id: int, strict: bool = True) -> None:
    """A VM restarted on another host (HA): its devices on the old host freed, the ones it
    asks claimed on `host_id` (`strict` False: as many as are free there, for an undo that
    gives it back its fenced host's)."""
    uow.host_devices.release(vm.id)
    if strict:
        claim_devices(uow, vm, host_id)
    else:
        for d in vm.hardware_request.devices:
            uow.host_devices.claim(host_id, vm.id, d.alias, d.count)
