from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.vm_create_cpu_policy import VmCreateCpuPolicy
from ..models.vm_create_disk_storage import VmCreateDiskStorage
from ..models.vm_create_hugepages_type_0 import VmCreateHugepagesType0
from ..models.vm_create_reclaim_policy_type_0 import VmCreateReclaimPolicyType0
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.device_request_in import DeviceRequestIn
    from ..models.nic_create import NicCreate


T = TypeVar("T", bound="VmCreate")


@_attrs_define
class VmCreate:
    """
    Attributes:
        memory_mib (int):
        name (str):
        vcpus (int):
        arch (None | str | Unset):
        cpu_policy (VmCreateCpuPolicy | Unset): dedicated: each vCPU gets a whole host CPU of the host's dedicated set,
            pinned Default: VmCreateCpuPolicy.SHARED.
        devices (list[DeviceRequestIn] | Unset): assignable PCI devices by alias (passthrough)
        disk_gib (int | Unset):  Default: 0.
        disk_storage (VmCreateDiskStorage | Unset): with disk_gib > 0: a disk on the host's local or shared storage
            Default: VmCreateDiskStorage.LOCAL.
        guaranteed (bool | Unset): dedicated: vCPUs and memory count at ratio 1.0 Default: False.
        ha (bool | Unset): when its host fails and is fenced, start it on another host (its disks must all be on shared
            storage) Default: False.
        hosts (list[str] | None | Unset): place only on one of these hosts
        hugepages (None | Unset | VmCreateHugepagesType0): back its memory with huge pages of this size
        image (None | str | Unset): a catalog image (`/v1/images`): the boot disk is an overlay of it, of disk_gib (0:
            the image's size) or more; or a kernel boot image of the image_dir; without one the VM idles in its firmware
        kernel_args (list[str] | Unset): added to the image's kernel command line
        kvm_only (bool | Unset): only hosts with KVM (no TCG) Default: False.
        lease_expires_at (datetime.datetime | None | Unset): when its lease ends (RFC 3339 with a time zone; not with
            lease_s); within the pool's max_lease_s
        lease_s (int | None | Unset): a lease of this many seconds from now (not with lease_expires_at)
        max_memory_mib (int | None | Unset): hot-plug: the memory it may grow to while it runs, through the balloon (the
            guest boots with it and gives back what it does not have); at least memory_mib; default: memory_mib
        max_vcpus (int | None | Unset): hot-plug: the vCPUs it may grow to while it runs (PATCH); at least vcpus;
            default: vcpus
        migratable (bool | Unset): false pins the VM to its host Default: True.
        network_config (None | str | Unset): cloud-init network-config; by default, for a VM booted from a catalog
            image, vmpool writes one with its NICs' addresses
        nics (list[NicCreate] | Unset): network interfaces, in order
        placement_group (None | str | Unset):
        pool_id (int | None | Unset):
        project_id (int | None | Unset): an admin's choice (default: the default project); a member's VM goes to its own
            project
        reclaim_policy (None | Unset | VmCreateReclaimPolicyType0): what happens when the lease ends: stop, delete or
            snapshot_then_delete (its disks kept as catalog images of its project); default: the pool's
        sgx_epc_mib (int | Unset): SGX enclave page cache (0: no SGX) Default: 0.
        ssh_keys (list[str] | Unset): public keys, via meta-data
        tpm (bool | Unset): an emulated TPM 2.0 (swtpm); docs/hardware.md Default: False.
        traits (list[str] | Unset): required host traits, e.g. tpm
        user_data (None | str | Unset): cloud-init user data (e.g. #cloud-config), on the VM's NoCloud seed CD-ROM
    """

    memory_mib: int
    name: str
    vcpus: int
    arch: None | str | Unset = UNSET
    cpu_policy: VmCreateCpuPolicy | Unset = VmCreateCpuPolicy.SHARED
    devices: list[DeviceRequestIn] | Unset = UNSET
    disk_gib: int | Unset = 0
    disk_storage: VmCreateDiskStorage | Unset = VmCreateDiskStorage.LOCAL
    guaranteed: bool | Unset = False
    ha: bool | Unset = False
    hosts: list[str] | None | Unset = UNSET
    hugepages: None | Unset | VmCreateHugepagesType0 = UNSET
    image: None | str | Unset = UNSET
    kernel_args: list[str] | Unset = UNSET
    kvm_only: bool | Unset = False
    lease_expires_at: datetime.datetime | None | Unset = UNSET
    lease_s: int | None | Unset = UNSET
    max_memory_mib: int | None | Unset = UNSET
    max_vcpus: int | None | Unset = UNSET
    migratable: bool | Unset = True
    network_config: None | str | Unset = UNSET
    nics: list[NicCreate] | Unset = UNSET
    placement_group: None | str | Unset = UNSET
    pool_id: int | None | Unset = UNSET
    project_id: int | None | Unset = UNSET
    reclaim_policy: None | Unset | VmCreateReclaimPolicyType0 = UNSET
    sgx_epc_mib: int | Unset = 0
    ssh_keys: list[str] | Unset = UNSET
    tpm: bool | Unset = False
    traits: list[str] | Unset = UNSET
    user_data: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:

        memory_mib = self.memory_mib

        name = self.name

        vcpus = self.vcpus

        arch: None | str | Unset
        if isinstance(self.arch, Unset):
            arch = UNSET
        else:
            arch = self.arch

        cpu_policy: str | Unset = UNSET
        if not isinstance(self.cpu_policy, Unset):
            cpu_policy = self.cpu_policy.value

        devices: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.devices, Unset):
            devices = []
            for devices_item_data in self.devices:
                devices_item = devices_item_data.to_dict()
                devices.append(devices_item)

        disk_gib = self.disk_gib

        disk_storage: str | Unset = UNSET
        if not isinstance(self.disk_storage, Unset):
            disk_storage = self.disk_storage.value

        guaranteed = self.guaranteed

        ha = self.ha

        hosts: list[str] | None | Unset
        if isinstance(self.hosts, Unset):
            hosts = UNSET
        elif isinstance(self.hosts, list):
            hosts = self.hosts

        else:
            hosts = self.hosts

        hugepages: None | str | Unset
        if isinstance(self.hugepages, Unset):
            hugepages = UNSET
        elif isinstance(self.hugepages, VmCreateHugepagesType0):
            hugepages = self.hugepages.value
        else:
            hugepages = self.hugepages

        image: None | str | Unset
        if isinstance(self.image, Unset):
            image = UNSET
        else:
            image = self.image

        kernel_args: list[str] | Unset = UNSET
        if not isinstance(self.kernel_args, Unset):
            kernel_args = self.kernel_args

        kvm_only = self.kvm_only

        lease_expires_at: None | str | Unset
        if isinstance(self.lease_expires_at, Unset):
            lease_expires_at = UNSET
        elif isinstance(self.lease_expires_at, datetime.datetime):
            lease_expires_at = self.lease_expires_at.isoformat()
        else:
            lease_expires_at = self.lease_expires_at

        lease_s: int | None | Unset
        if isinstance(self.lease_s, Unset):
            lease_s = UNSET
        else:
            lease_s = self.lease_s

        max_memory_mib: int | None | Unset
        if isinstance(self.max_memory_mib, Unset):
            max_memory_mib = UNSET
        else:
            max_memory_mib = self.max_memory_mib

        max_vcpus: int | None | Unset
        if isinstance(self.max_vcpus, Unset):
            max_vcpus = UNSET
        else:
            max_vcpus = self.max_vcpus

        migratable = self.migratable

        network_config: None | str | Unset
        if isinstance(self.network_config, Unset):
            network_config = UNSET
        else:
            network_config = self.network_config

        nics: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.nics, Unset):
            nics = []
            for nics_item_data in self.nics:
                nics_item = nics_item_data.to_dict()
                nics.append(nics_item)

        placement_group: None | str | Unset
        if isinstance(self.placement_group, Unset):
            placement_group = UNSET
        else:
            placement_group = self.placement_group

        pool_id: int | None | Unset
        if isinstance(self.pool_id, Unset):
            pool_id = UNSET
        else:
            pool_id = self.pool_id

        project_id: int | None | Unset
        if isinstance(self.project_id, Unset):
            project_id = UNSET
        else:
            project_id = self.project_id

        reclaim_policy: None | str | Unset
        if isinstance(self.reclaim_policy, Unset):
            reclaim_policy = UNSET
        elif isinstance(self.reclaim_policy, VmCreateReclaimPolicyType0):
            reclaim_policy = self.reclaim_policy.value
        else:
            reclaim_policy = self.reclaim_policy

        sgx_epc_mib = self.sgx_epc_mib

        ssh_keys: list[str] | Unset = UNSET
        if not isinstance(self.ssh_keys, Unset):
            ssh_keys = self.ssh_keys

        tpm = self.tpm

        traits: list[str] | Unset = UNSET
        if not isinstance(self.traits, Unset):
            traits = self.traits

        user_data: None | str | Unset
        if isinstance(self.user_data, Unset):
            user_data = UNSET
        else:
            user_data = self.user_data

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "memory_mib": memory_mib,
                "name": name,
                "vcpus": vcpus,
            }
        )
        if arch is not UNSET:
            field_dict["arch"] = arch
        if cpu_policy is not UNSET:
            field_dict["cpu_policy"] = cpu_policy
        if devices is not UNSET:
            field_dict["devices"] = devices
        if disk_gib is not UNSET:
            field_dict["disk_gib"] = disk_gib
        if disk_storage is not UNSET:
            field_dict["disk_storage"] = disk_storage
        if guaranteed is not UNSET:
            field_dict["guaranteed"] = guaranteed
        if ha is not UNSET:
            field_dict["ha"] = ha
        if hosts is not UNSET:
            field_dict["hosts"] = hosts
        if hugepages is not UNSET:
            field_dict["hugepages"] = hugepages
        if image is not UNSET:
            field_dict["image"] = image
        if kernel_args is not UNSET:
            field_dict["kernel_args"] = kernel_args
        if kvm_only is not UNSET:
            field_dict["kvm_only"] = kvm_only
        if lease_expires_at is not UNSET:
            field_dict["lease_expires_at"] = lease_expires_at
        if lease_s is not UNSET:
            field_dict["lease_s"] = lease_s
        if max_memory_mib is not UNSET:
            field_dict["max_memory_mib"] = max_memory_mib
        if max_vcpus is not UNSET:
            field_dict["max_vcpus"] = max_vcpus
        if migratable is not UNSET:
            field_dict["migratable"] = migratable
        if network_config is not UNSET:
            field_dict["network_config"] = network_config
        if nics is not UNSET:
            field_dict["nics"] = nics
        if placement_group is not UNSET:
            field_dict["placement_group"] = placement_group
        if pool_id is not UNSET:
            field_dict["pool_id"] = pool_id
        if project_id is not UNSET:
            field_dict["project_id"] = project_id
        if reclaim_policy is not UNSET:
            field_dict["reclaim_policy"] = reclaim_policy
        if sgx_epc_mib is not UNSET:
            field_dict["sgx_epc_mib"] = sgx_epc_mib
        if ssh_keys is not UNSET:
            field_dict["ssh_keys"] = ssh_keys
        if tpm is not UNSET:
            field_dict["tpm"] = tpm
        if traits is not UNSET:
            field_dict["traits"] = traits
        if user_data is not UNSET:
            field_dict["user_data"] = user_data

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.device_request_in import DeviceRequestIn  # noqa: PLC0415
        from ..models.nic_create import NicCreate  # noqa: PLC0415

        d = dict(src_dict)
        memory_mib = d.pop("memory_mib")

        name = d.pop("name")

        vcpus = d.pop("vcpus")

        def _parse_arch(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        arch = _parse_arch(d.pop("arch", UNSET))

        _cpu_policy = d.pop("cpu_policy", UNSET)
        cpu_policy: VmCreateCpuPolicy | Unset
        if isinstance(_cpu_policy, Unset):
            cpu_policy = UNSET
        else:
            cpu_policy = VmCreateCpuPolicy(_cpu_policy)

        _devices = d.pop("devices", UNSET)
        devices: list[DeviceRequestIn] | Unset = UNSET
        if _devices is not UNSET:
            devices = []
            for devices_item_data in _devices:
                devices_item = DeviceRequestIn.from_dict(devices_item_data)

                devices.append(devices_item)

        disk_gib = d.pop("disk_gib", UNSET)

        _disk_storage = d.pop("disk_storage", UNSET)
        disk_storage: VmCreateDiskStorage | Unset
        if isinstance(_disk_storage, Unset):
            disk_storage = UNSET
        else:
            disk_storage = VmCreateDiskStorage(_disk_storage)

        guaranteed = d.pop("guaranteed", UNSET)

        ha = d.pop("ha", UNSET)

        def _parse_hosts(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                hosts_type_0 = cast(list[str], data)

                return hosts_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        hosts = _parse_hosts(d.pop("hosts", UNSET))

        def _parse_hugepages(data: object) -> None | Unset | VmCreateHugepagesType0:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                hugepages_type_0 = VmCreateHugepagesType0(data)

                return hugepages_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | VmCreateHugepagesType0, data)

        hugepages = _parse_hugepages(d.pop("hugepages", UNSET))

        def _parse_image(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        image = _parse_image(d.pop("image", UNSET))

        kernel_args = cast(list[str], d.pop("kernel_args", UNSET))

        kvm_only = d.pop("kvm_only", UNSET)

        def _parse_lease_expires_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                lease_expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return lease_expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        lease_expires_at = _parse_lease_expires_at(d.pop("lease_expires_at", UNSET))

        def _parse_lease_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        lease_s = _parse_lease_s(d.pop("lease_s", UNSET))

        def _parse_max_memory_mib(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_memory_mib = _parse_max_memory_mib(d.pop("max_memory_mib", UNSET))

        def _parse_max_vcpus(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_vcpus = _parse_max_vcpus(d.pop("max_vcpus", UNSET))

        migratable = d.pop("migratable", UNSET)

        def _parse_network_config(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        network_config = _parse_network_config(d.pop("network_config", UNSET))

        _nics = d.pop("nics", UNSET)
        nics: list[NicCreate] | Unset = UNSET
        if _nics is not UNSET:
            nics = []
            for nics_item_data in _nics:
                nics_item = NicCreate.from_dict(nics_item_data)

                nics.append(nics_item)

        def _parse_placement_group(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        placement_group = _parse_placement_group(d.pop("placement_group", UNSET))

        def _parse_pool_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        pool_id = _parse_pool_id(d.pop("pool_id", UNSET))

        def _parse_project_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        project_id = _parse_project_id(d.pop("project_id", UNSET))

        def _parse_reclaim_policy(data: object) -> None | Unset | VmCreateReclaimPolicyType0:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                reclaim_policy_type_0 = VmCreateReclaimPolicyType0(data)

                return reclaim_policy_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | VmCreateReclaimPolicyType0, data)

        reclaim_policy = _parse_reclaim_policy(d.pop("reclaim_policy", UNSET))

        sgx_epc_mib = d.pop("sgx_epc_mib", UNSET)

        ssh_keys = cast(list[str], d.pop("ssh_keys", UNSET))

        tpm = d.pop("tpm", UNSET)

        traits = cast(list[str], d.pop("traits", UNSET))

        def _parse_user_data(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        user_data = _parse_user_data(d.pop("user_data", UNSET))

        vm_create = cls(
            memory_mib=memory_mib,
            name=name,
            vcpus=vcpus,
            arch=arch,
            cpu_policy=cpu_policy,
            devices=devices,
            disk_gib=disk_gib,
            disk_storage=disk_storage,
            guaranteed=guaranteed,
            ha=ha,
            hosts=hosts,
            hugepages=hugepages,
            image=image,
            kernel_args=kernel_args,
            kvm_only=kvm_only,
            lease_expires_at=lease_expires_at,
            lease_s=lease_s,
            max_memory_mib=max_memory_mib,
            max_vcpus=max_vcpus,
            migratable=migratable,
            network_config=network_config,
            nics=nics,
            placement_group=placement_group,
            pool_id=pool_id,
            project_id=project_id,
            reclaim_policy=reclaim_policy,
            sgx_epc_mib=sgx_epc_mib,
            ssh_keys=ssh_keys,
            tpm=tpm,
            traits=traits,
            user_data=user_data,
        )

        return vm_create
