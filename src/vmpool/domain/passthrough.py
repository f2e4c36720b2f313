"""PCI passthrough and SGX (docs/hardware.md): assignable devices by alias, and
SGX EPC, as resources placement filters on and claims. Pure rules.

A host's PCI devices come from libvirt's node device API; an operator makes one assignable
by giving it an alias (`gpu:a100`); a VM asks for devices by alias and count, and is given
specific devices of its host (host_devices.vm_id), claimed in the transaction that places
it. SGX EPC is a size per host (libvirt's domain capabilities) of which each VM on it takes
what it asked for.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from vmpool.domain.hardware import DeviceRequest
from vmpool.errors import InvalidInput

if TYPE_CHECKING:
    from vmpool.domain.model import PlacementHost, PlacementRequirements

# A PCI address as libvirt names it: domain:bus:slot.function, in hex (0000:3b:00.0).
_PCI_ADDRESS_RE = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$")


def check_pci_address(address: str) -> str:
    """A PCI address in libvirt's form, lowercase (a 422 otherwise)."""
    value = address.strip().lower()
    if not _PCI_ADDRESS_RE.fullmatch(value):
        raise InvalidInput(
            f"invalid PCI address {address[:40]!r}: domain:bus:slot.function in hex, "
            "e.g. 0000:3b:00.0",
            field="address",
        )
    return value


def pci_address_parts(address: str) -> tuple[str, str, str, str]:
    """(domain, bus, slot, function) as the domain XML's <address> wants them (0x...)."""
    value = check_pci_address(address)
    domain, bus, rest = value.split(":")
    slot, function = rest.split(".")
    return f"0x{domain}", f"0x{bus}", f"0x{slot}", f"0x{function}"


def sgx_reason(host: PlacementHost, req: PlacementRequirements) -> str | None:
    """Why `host` cannot give the VM the SGX EPC it asks (None: it can, or none is asked):
    its EPC (domain capabilities) less what the VMs on it took."""
    asked = req.hardware.sgx_epc_mib
    if asked <= 0:
        return None
    total = host.hardware.sgx_epc_mib
    if total <= 0:
        return f"no SGX (asked {asked} MiB of EPC)"
    free = total - host.hardware_use.sgx_epc_mib
    if free < asked:
        return f"not enough SGX EPC (asked {asked} MiB, has {max(free, 0)} of {total} MiB free)"
    return None


def devices_reason(host: PlacementHost, req: PlacementRequirements) -> str | None:
    """Why `host` has not the free assignable devices the VM asks (None: it has): the first
    alias it lacks, with how many it has free."""
    for d in req.hardware.devices:
        free = host.hardware_use.free_devices.get(d.alias, 0)
        if free < d.count:
            return f"no free {d.alias} (has {free} of {d.count})"
    return None


def migration_blocker(
    vm_name: str, devices: tuple[DeviceRequest, ...], sgx_epc_mib: int
) -> str | None:
    """Why a VM cannot be live-migrated because of its special hardware, or None. The one
    rule that a migration request, its start, maintenance's evacuation and the rebalance
    planner all ask.

    A passthrough device is a piece of one host's hardware, and its state lives in the
    device, not in guest memory: QEMU refuses to migrate a VFIO device (it has no migration
    support but for a few vendors' drivers). An SGX enclave's memory (EPC) is encrypted with
    a key of the CPU it runs on: QEMU migrates such a VM but its enclaves are lost, which a
    live migration that promises an unchanged guest must not do silently."""
    if devices:
        asked = ", ".join(f"{d.count} {d.alias}" for d in devices)
        return (
            f"VM {vm_name} has passthrough devices ({asked}): a device assigned from its "
            "host cannot move with a live migration, so the VM stays on its host"
        )
    if sgx_epc_mib > 0:
        return (
            f"VM {vm_name} has {sgx_epc_mib} MiB of SGX EPC: its enclaves' memory is sealed "
            "to this host's CPU and would be lost by a live migration"
        )
    return None
