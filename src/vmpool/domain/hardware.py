"""Special and guaranteed hardware (docs/hardware.md): what a host offers beyond vCPUs, memory
and disk (its NUMA cells and huge pages, SGX EPC, TPM, assignable PCI devices, its
hypervisor's features), what a VM asks of it, and what is claimed on it.

Value objects only; each feature's rules live in its own module (`cpu_pinning` for dedicated
CPUs, huge pages and NUMA; `passthrough` for PCI devices and SGX; `hypervisor_features` for
the TPM, the machine type and what each libvirt driver supports). Placement asks each of
them through `HARDWARE_FILTERS`, in order, one pass over the hosts as for the other filters.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from vmpool.domain import limits
from vmpool.domain.names import validate_trait
from vmpool.errors import InvalidInput

if TYPE_CHECKING:
    from vmpool.domain.model import PlacementHost, PlacementRequirements


class CpuPolicy(enum.StrEnum):
    """Nova's `hw:cpu_policy`: shared vCPUs float over the host's shared CPUs (and are
    overcommitted by the pool's ratio); dedicated vCPUs each get a whole host CPU of the
    host's dedicated set, pinned one to one."""

    SHARED = "shared"
    DEDICATED = "dedicated"


# The huge page sizes a VM may ask for, by name, in KiB (libvirt's unit).
HUGEPAGE_SIZES_KIB: dict[str, int] = {"2M": 2048, "1G": 1048576}


@dataclass(frozen=True, slots=True)
class NumaCell:
    """One host NUMA cell: its CPUs, its memory, and its huge pages by size (KiB) as
    (total, free) page counts."""

    id: int
    cpus: frozenset[int]
    memory_mib: int
    hugepages: Mapping[int, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PciDevice:
    """A PCI device of a host, as libvirt's node device API describes it."""

    address: str  # 0000:01:00.0
    vendor_id: str  # 0x10de
    product_id: str
    vendor: str = ""
    product: str = ""
    iommu_group: int | None = None
    numa_node: int | None = None
    driver: str | None = None


@dataclass(frozen=True, slots=True)
class HostHardware:
    """What a host's libvirt reports beyond its size: stored with its inventory."""

    driver: str = "qemu"  # libvirt's driver (the URI's scheme): qemu, xen, bhyve, ...
    cells: tuple[NumaCell, ...] = ()
    sgx_epc_mib: int = 0  # 0: no SGX
    machine: str | None = None  # the default machine type of its domain capabilities
    machines: tuple[str, ...] = ()
    features: frozenset[str] = frozenset()  # see hypervisor_features.FEATURES


NO_HARDWARE = HostHardware()


def hardware_to_json(hw: HostHardware) -> str:
    """As the host row stores it (hosts.hardware)."""
    return json.dumps(
        {
            "driver": hw.driver,
            "cells": [
                {
                    "id": c.id,
                    "cpus": sorted(c.cpus),
                    "memory_mib": c.memory_mib,
                    "hugepages": {str(k): list(v) for k, v in sorted(c.hugepages.items())},
                }
                for c in hw.cells
            ],
            "sgx_epc_mib": hw.sgx_epc_mib,
            "machine": hw.machine,
            "machines": list(hw.machines),
            "features": sorted(hw.features),
        },
        sort_keys=True,
    )


@lru_cache(maxsize=4096)
def hardware_from_json(text: str) -> HostHardware:
    """The stored inventory (an empty or unreadable one: nothing special)."""
    try:
        d = json.loads(text or "{}")
        return HostHardware(
            driver=str(d.get("driver", "qemu")),
            cells=tuple(
                NumaCell(
                    id=int(c["id"]),
                    cpus=frozenset(int(x) for x in c["cpus"]),
                    memory_mib=int(c["memory_mib"]),
                    hugepages={int(k): (int(v[0]), int(v[1])) for k, v in c["hugepages"].items()},
                )
                for c in d.get("cells", ())
            ),
            sgx_epc_mib=int(d.get("sgx_epc_mib", 0)),
            machine=d.get("machine"),
            machines=tuple(d.get("machines", ())),
            features=frozenset(d.get("features", ())),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return NO_HARDWARE


@dataclass(frozen=True, slots=True)
class DeviceRequest:
    alias: str  # an operator's alias of assignable devices, e.g. gpu:a100
    count: int = 1


@dataclass(frozen=True, slots=True)
class HardwareRequest:
    """What a VM asks for beyond its size."""

    tpm: bool = False
    sgx_epc_mib: int = 0
    cpu_policy: CpuPolicy = CpuPolicy.SHARED
    hugepages: str | None = None  # a key of HUGEPAGE_SIZES_KIB
    devices: tuple[DeviceRequest, ...] = ()
    # The machine type it was created with (vms.machine): a host must offer it.
    machine: str | None = None
    # A dedicated VM moving live: the host NUMA cell of each of its vCPUs on the source.
    # The target must give it the same guest NUMA cells (domain/cpu_pinning.py allocate_like).
    moving_cells: tuple[int, ...] = ()
    # Features of domain/hypervisor_features.py the host must have for this placement (a
    # live migration's target: live-migration).
    host_features: frozenset[str] = frozenset()

    @property
    def special(self) -> bool:
        return self != PLAIN


PLAIN = HardwareRequest()


def check_hardware_request(req: HardwareRequest) -> HardwareRequest:
    """The request, checked (a 422 names the field), with each device alias once."""
    limits.SGX_EPC_MIB.check(req.sgx_epc_mib, "sgx_epc_mib")
    if req.hugepages is not None and req.hugepages not in HUGEPAGE_SIZES_KIB:
        sizes = ", ".join(HUGEPAGE_SIZES_KIB)
        raise InvalidInput(f"hugepages must be one of {sizes}", field="hugepages")
    counts: dict[str, int] = {}
    for d in req.devices:
        validate_trait(d.alias)
        limits.DEVICES_PER_VM.check(d.count, "devices.count")
        counts[d.alias] = counts.get(d.alias, 0) + d.count
    if sum(counts.values()) > limits.DEVICES_PER_VM.high:
        raise InvalidInput(
            f"at most {limits.DEVICES_PER_VM.high:g} devices per VM", field="devices"
        )
    devices = tuple(DeviceRequest(a, n) for a, n in sorted(counts.items()))
    return HardwareRequest(
        tpm=req.tpm,
        sgx_epc_mib=req.sgx_epc_mib,
        cpu_policy=CpuPolicy(req.cpu_policy),
        hugepages=req.hugepages,
        devices=devices,
    )


def devices_to_json(devices: tuple[DeviceRequest, ...]) -> str:
    return json.dumps([{"alias": d.alias, "count": d.count} for d in devices])


def devices_from_json(text: str) -> tuple[DeviceRequest, ...]:
    return tuple(DeviceRequest(str(d["alias"]), int(d["count"])) for d in json.loads(text or "[]"))


@dataclass(frozen=True, slots=True)
class HardwareUse:
    """What is claimed on a host beyond vCPUs, memory and disk: its CPUs pinned to dedicated
    VMs, its huge pages by size (KiB -> MiB claimed) and NUMA cell, its SGX EPC, and its
    assignable devices still free by alias."""

    pinned_cpus: frozenset[int] = frozenset()
    hugepages_mib: Mapping[tuple[int, int], int] = field(default_factory=dict)  # (cell, kib)
    sgx_epc_mib: int = 0
    free_devices: Mapping[str, int] = field(default_factory=dict)


NO_USE = HardwareUse()

# A filter: the reason this host cannot give the VM what it asks (None: it can).
HardwareFilter = Callable[["PlacementHost", "PlacementRequirements"], "str | None"]


def hardware_filters() -> tuple[tuple[str, HardwareFilter], ...]:
    from vmpool.domain import cpu_pinning, hypervisor_features, passthrough

    return (
        ("hypervisor_features", hypervisor_features.placement_reason),
        ("sgx", passthrough.sgx_reason),
        ("devices", passthrough.devices_reason),
        ("dedicated_cpus", cpu_pinning.dedicated_reason),
        ("hugepages", cpu_pinning.hugepages_reason),
    )


HARDWARE_FILTER_NAMES = ("hypervisor_features", "sgx", "devices", "dedicated_cpus", "hugepages")
