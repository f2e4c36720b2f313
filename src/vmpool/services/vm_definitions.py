"""A VM's libvirt definition, made from its record: at create, and again on another host
when its host failed and was fenced (HA restart). The database is the model: everything a
definition needs is recorded (sizes, boot image and kernel arguments, disks, NICs)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from vmpool.adapters.db.tables import VmRow
from vmpool.domain.model import DomainType
from vmpool.domain.ports import BootImage, DomainSpec
from vmpool.services import cpu_pins, nics
from vmpool.services.unit_of_work import ServiceContext, UnitOfWork


def serial_log(ctx: ServiceContext, name: str, vm_uuid: str) -> str | None:
    if ctx.serial_log_dir is None:
        return None
    folder = Path(ctx.serial_log_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / f"{name}-{vm_uuid}.log")


def kernel_args_of(row: VmRow) -> tuple[str, ...]:
    return tuple(json.loads(row.kernel_args or "[]"))


def kernel_boot(ctx: ServiceContext, row: VmRow) -> BootImage | None:
    """The kernel boot image of a VM booted from one (not a catalog image's disk)."""
    if row.image is None or row.image_id is not None:
        return None
    return ctx.images.resolve(row.image)


def domain_spec(
    ctx: ServiceContext, uow: UnitOfWork, row: VmRow, boot: BootImage | None
) -> DomainSpec:
    """The definition of `row` as recorded (its data disks are attached after it is
    defined; see `data_disks`)."""
    nic_rows = uow.nics.of_vm(row.id)
    boot_args = nics.boot_ip_arg(nic_rows) if boot is not None else ()
    spec = DomainSpec(
        vm_id=row.id,
        uuid=row.uuid,
        name=row.name,
        vcpus=row.vcpus,
        memory_mib=row.memory_mib,
        domain_type=DomainType(row.domain_type),
        boot=boot,
        serial_log=serial_log(ctx, row.name, row.uuid),
        extra_cmdline=(*boot_args, *kernel_args_of(row)),
        disk_path=row.disk_path,
        seed_path=row.seed_path,
        nics=tuple(nics.nic_spec(n) for n in nic_rows),
        max_vcpus=row.max_vcpus,
        max_memory_mib=row.max_memory_mib,
        **cpu_pins.spec_fields(uow, row),  # dedicated CPUs, huge pages, NUMA
        machine=row.machine,
        tpm=row.tpm,
    )
    return with_passthrough(uow, row, spec)


def with_passthrough(uow: UnitOfWork, row: VmRow, spec: DomainSpec) -> DomainSpec:
    """`spec` with the VM's assigned PCI devices (claimed on its host) and its SGX EPC
    (docs/hardware.md)."""
    hostdevs = uow.host_devices.addresses_of_vm(row.id)
    return replace(spec, hostdevs=hostdevs, sgx_epc_mib=row.sgx_epc_mib)


def data_disks(uow: UnitOfWork, row: VmRow) -> list[tuple[str, str]]:
    """(path, target) of the VM's data disks, in the order they were added."""
    return [(d.path, d.target) for d in uow.disks.of_vm(row.id)]
