"""The host_devices table (docs/hardware.md): the PCI devices of each host as
its libvirt lists them, the operator's alias that makes one assignable, and the VM that holds
it. Never commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vmpool.adapters.db.tables import HostDeviceRow, VmRow
from vmpool.domain.hardware import PciDevice

# What a recorded device says of itself, as the sync compares it with what the host lists.
DeviceFacts = tuple[str, str, str, str, str, int | None, int | None]


def facts_of(d: PciDevice) -> DeviceFacts:
    return (
        d.address, d.vendor_id, d.product_id, d.vendor[:255], d.product[:255], d.iommu_group,
        d.numa_node,
    )  # fmt: skip


class HostDeviceRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def of_host(self, host_id: int) -> list[tuple[HostDeviceRow, str | None]]:
        """The host's devices by address, each with the name of the VM holding it."""
        return [
            (row, name)
            for row, name in self._s.execute(
                select(HostDeviceRow, VmRow.name)
                .outerjoin(VmRow, VmRow.id == HostDeviceRow.vm_id)
                .where(HostDeviceRow.host_id == host_id)
                .order_by(HostDeviceRow.address)
            ).tuples()
        ]

    def find(self, host_id: int, address: str) -> HostDeviceRow | None:
        return self._s.execute(
            select(HostDeviceRow).where(
                HostDeviceRow.host_id == host_id, HostDeviceRow.address == address
            )
        ).scalar_one_or_none()

    def present_facts(self, host_id: int) -> frozenset[DeviceFacts]:
        """What the devices the host listed last say (missing ones left out): the sync
        writes nothing when the host lists the same."""
        return frozenset(
            (a, v, p, vn, pn, g, n)
            for a, v, p, vn, pn, g, n in self._s.connection().execute(
                select(
                    HostDeviceRow.address, HostDeviceRow.vendor_id, HostDeviceRow.product_id,
                    HostDeviceRow.vendor, HostDeviceRow.product, HostDeviceRow.iommu_group,
                    HostDeviceRow.numa_node,
                ).where(HostDeviceRow.host_id == host_id, HostDeviceRow.missing_since.is_(None))
            )
        )  # fmt: skip

    def record(self, host_id: int, devices: Iterable[PciDevice], now: datetime) -> None:
        """The host's devices as it lists them now: new ones added, known ones updated (and
        back, if they were missing), the ones it no longer lists marked missing since now.
        A missing device keeps its alias and its claim: a VM holding it still does, and
        the operator's alias holds when it comes back."""
        listed = {d.address: d for d in devices}
        known = {
            r.address: r
            for r in self._s.execute(
                select(HostDeviceRow).where(HostDeviceRow.host_id == host_id)
            ).scalars()
        }
        for address, d in listed.items():
            row = known.get(address)
            if row is None:
                row = HostDeviceRow(host_id=host_id, address=address)
                self._s.add(row)
            row.vendor_id, row.product_id = d.vendor_id, d.product_id
            row.vendor, row.product = d.vendor[:255], d.product[:255]
            row.iommu_group, row.numa_node = d.iommu_group, d.numa_node
            row.missing_since = None
        for address, row in known.items():
            if address not in listed and row.missing_since is None:
                row.missing_since = now
        self._s.flush()

    def claim(self, host_id: int, vm_id: int, alias: str, count: int) -> list[str]:
        """Give the VM `count` free present devices of `alias` on the host (lowest
        addresses first); fewer if fewer are free (the caller refuses then). The caller
        holds the pool's lock, as for every claim of placement."""
        rows = list(
            self._s.execute(
                select(HostDeviceRow)
                .where(
                    HostDeviceRow.host_id == host_id,
                    HostDeviceRow.alias == alias,
                    HostDeviceRow.vm_id.is_(None),
                    HostDeviceRow.missing_since.is_(None),
                )
                .order_by(HostDeviceRow.address)
                .limit(count)
            ).scalars()
        )
        for row in rows:
            row.vm_id = vm_id
        self._s.flush()
        return [r.address for r in rows]

    def addresses_of_vm(self, vm_id: int) -> tuple[str, ...]:
        return tuple(
            self._s.execute(
                select(HostDeviceRow.address)
                .where(HostDeviceRow.vm_id == vm_id)
                .order_by(HostDeviceRow.address)
            ).scalars()
        )

    def release(self, vm_id: int) -> None:
        self._s.execute(
            update(HostDeviceRow).where(HostDeviceRow.vm_id == vm_id).values(vm_id=None)
        )
