from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.vm_state import VmState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.device_request_in import DeviceRequestIn
    from ..models.nic_out import NicOut


T = TypeVar("T", bound="VmOut")


@_attrs_define
class VmOut:
    """
    Attributes:
        created_at (datetime.datetime):
        disk_gib (int):
        disk_path (None | str):
        disk_storage (None | str):
        domain_type (str):
        guaranteed (bool):
        ha (bool):
        host_id (int | None):
        host_name (None | str):
        id (int):
        image (None | str):
        last_error (None | str):
        max_memory_mib (int): the memory it may grow to (PATCH)
        max_vcpus (int): the vCPUs it may grow to (PATCH)
        memory_mib (int): current memory: what its host's claim counts
        migratable (bool):
        name (str):
        nics (list[NicOut]):
        placement_group (None | str):
        pool_id (int):
        project_id (int):
        seed_path (None | str): the first-boot seed volume (NoCloud), if any
        state (VmState):
        state_changed_at (datetime.datetime):
        uuid (str): the libvirt domain UUID
        vcpus (int): current vCPUs: what its host's claim counts
        cpu_policy (str | Unset):  Default: 'shared'.
        devices (list[DeviceRequestIn] | Unset):
        hugepages (None | str | Unset):
        idle_since (datetime.datetime | None | Unset): since when its CPU stays under its pool's idle threshold
        idle_warned_at (datetime.datetime | None | Unset): when it was reported idle (idle_since + the pool's
            idle_period_s); with the pool's idle_action reclaim, its reclaim follows idle_warning_s later
        lease_expires_at (datetime.datetime | None | Unset): when its lease ends; null: no lease
        machine (None | str | Unset): its machine type, from its host
        reclaim_policy (None | str | Unset): applied when the lease ends: stop, delete, snapshot_then_delete
        sgx_epc_mib (int | Unset):  Default: 0.
        tpm (bool | Unset):  Default: False.
    """

    created_at: datetime.datetime
    disk_gib: int
    disk_path: None | str
    disk_storage: None | str
    domain_type: str
    guaranteed: bool
    ha: bool
    host_id: int | None
    host_name: None | str
    id: int
    image: None | str
    last_error: None | str
    max_memory_mib: int
    max_vcpus: int
    memory_mib: int
    migratable: bool
    name: str
    nics: list[NicOut]
    placement_group: None | str
    pool_id: int
    project_id: int
    seed_path: None | str
    state: VmState
    state_changed_at: datetime.datetime
    uuid: str
    vcpus: int
    cpu_policy: str | Unset = "shared"
    devices: list[DeviceRequestIn] | Unset = UNSET
    hugepages: None | str | Unset = UNSET
    idle_since: datetime.datetime | None | Unset = UNSET
    idle_warned_at: datetime.datetime | None | Unset = UNSET
    lease_expires_at: datetime.datetime | None | Unset = UNSET
    machine: None | str | Unset = UNSET
    reclaim_policy: None | str | Unset = UNSET
    sgx_epc_mib: int | Unset = 0
    tpm: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        created_at = self.created_at.isoformat()

        disk_gib = self.disk_gib

        disk_path: None | str
        disk_path = self.disk_path

        disk_storage: None | str
        disk_storage = self.disk_storage

        domain_type = self.domain_type

        guaranteed = self.guaranteed

        ha = self.ha

        host_id: int | None
        host_id = self.host_id

        host_name: None | str
        host_name = self.host_name

        id = self.id

        image: None | str
        image = self.image

        last_error: None | str
        last_error = self.last_error

        max_memory_mib = self.max_memory_mib

        max_vcpus = self.max_vcpus

        memory_mib = self.memory_mib

        migratable = self.migratable

        name = self.name

        nics = []
        for nics_item_data in self.nics:
            nics_item = nics_item_data.to_dict()
            nics.append(nics_item)

        placement_group: None | str
        placement_group = self.placement_group

        pool_id = self.pool_id

        project_id = self.project_id

        seed_path: None | str
        seed_path = self.seed_path

        state = self.state.value

        state_changed_at = self.state_changed_at.isoformat()

        uuid = self.uuid

        vcpus = self.vcpus

        cpu_policy = self.cpu_policy

        devices: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.devices, Unset):
            devices = []
            for devices_item_data in self.devices:
                devices_item = devices_item_data.to_dict()
                devices.append(devices_item)

        hugepages: None | str | Unset
        if isinstance(self.hugepages, Unset):
            hugepages = UNSET
        else:
            hugepages = self.hugepages

        idle_since: None | str | Unset
        if isinstance(self.idle_since, Unset):
            idle_since = UNSET
        elif isinstance(self.idle_since, datetime.datetime):
            idle_since = self.idle_since.isoformat()
        else:
            idle_since = self.idle_since

        idle_warned_at: None | str | Unset
        if isinstance(self.idle_warned_at, Unset):
            idle_warned_at = UNSET
        elif isinstance(self.idle_warned_at, datetime.datetime):
            idle_warned_at = self.idle_warned_at.isoformat()
        else:
            idle_warned_at = self.idle_warned_at

        lease_expires_at: None | str | Unset
        if isinstance(self.lease_expires_at, Unset):
            lease_expires_at = UNSET
        elif isinstance(self.lease_expires_at, datetime.datetime):
            lease_expires_at = self.lease_expires_at.isoformat()
        else:
            lease_expires_at = self.lease_expires_at

        machine: None | str | Unset
        if isinstance(self.machine, Unset):
            machine = UNSET
        else:
            machine = self.machine

        reclaim_policy: None | str | Unset
        if isinstance(self.reclaim_policy, Unset):
            reclaim_policy = UNSET
        else:
            reclaim_policy = self.reclaim_policy

        sgx_epc_mib = self.sgx_epc_mib

        tpm = self.tpm

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "disk_gib": disk_gib,
                "disk_path": disk_path,
                "disk_storage": disk_storage,
                "domain_type": domain_type,
                "guaranteed": guaranteed,
                "ha": ha,
                "host_id": host_id,
                "host_name": host_name,
                "id": id,
                "image": image,
                "last_error": last_error,
                "max_memory_mib": max_memory_mib,
                "max_vcpus": max_vcpus,
                "memory_mib": memory_mib,
                "migratable": migratable,
                "name": name,
                "nics": nics,
                "placement_group": placement_group,
                "pool_id": pool_id,
                "project_id": project_id,
                "seed_path": seed_path,
                "state": state,
                "state_changed_at": state_changed_at,
                "uuid": uuid,
                "vcpus": vcpus,
            }
        )
        if cpu_policy is not UNSET:
            field_dict["cpu_policy"] = cpu_policy
        if devices is not UNSET:
            field_dict["devices"] = devices
        if hugepages is not UNSET:
            field_dict["hugepages"] = hugepages
        if idle_since is not UNSET:
            field_dict["idle_since"] = idle_since
        if idle_warned_at is not UNSET:
            field_dict["idle_warned_at"] = idle_warned_at
        if lease_expires_at is not UNSET:
            field_dict["lease_expires_at"] = lease_expires_at
        if machine is not UNSET:
            field_dict["machine"] = machine
        if reclaim_policy is not UNSET:
            field_dict["reclaim_policy"] = reclaim_policy
        if sgx_epc_mib is not UNSET:
            field_dict["sgx_epc_mib"] = sgx_epc_mib
        if tpm is not UNSET:
            field_dict["tpm"] = tpm

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.device_request_in import DeviceRequestIn  # noqa: PLC0415
        from ..models.nic_out import NicOut  # noqa: PLC0415

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        disk_gib = d.pop("disk_gib")

        def _parse_disk_path(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        disk_path = _parse_disk_path(d.pop("disk_path"))

        def _parse_disk_storage(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        disk_storage = _parse_disk_storage(d.pop("disk_storage"))

        domain_type = d.pop("domain_type")

        guaranteed = d.pop("guaranteed")

        ha = d.pop("ha")

        def _parse_host_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        host_id = _parse_host_id(d.pop("host_id"))

        def _parse_host_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        host_name = _parse_host_name(d.pop("host_name"))

        id = d.pop("id")

        def _parse_image(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        image = _parse_image(d.pop("image"))

        def _parse_last_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        last_error = _parse_last_error(d.pop("last_error"))

        max_memory_mib = d.pop("max_memory_mib")

        max_vcpus = d.pop("max_vcpus")

        memory_mib = d.pop("memory_mib")

        migratable = d.pop("migratable")

        name = d.pop("name")

        nics = []
        _nics = d.pop("nics")
        for nics_item_data in _nics:
            nics_item = NicOut.from_dict(nics_item_data)

            nics.append(nics_item)

        def _parse_placement_group(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        placement_group = _parse_placement_group(d.pop("placement_group"))

        pool_id = d.pop("pool_id")

        project_id = d.pop("project_id")

        def _parse_seed_path(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        seed_path = _parse_seed_path(d.pop("seed_path"))

        state = VmState(d.pop("state"))

        state_changed_at = datetime.datetime.fromisoformat(d.pop("state_changed_at"))

        uuid = d.pop("uuid")

        vcpus = d.pop("vcpus")

        cpu_policy = d.pop("cpu_policy", UNSET)

        _devices = d.pop("devices", UNSET)
        devices: list[DeviceRequestIn] | Unset = UNSET
        if _devices is not UNSET:
            devices = []
            for devices_item_data in _devices:
                devices_item = DeviceRequestIn.from_dict(devices_item_data)

                devices.append(devices_item)

        def _parse_hugepages(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        hugepages = _parse_hugepages(d.pop("hugepages", UNSET))

        def _parse_idle_since(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                idle_since_type_0 = datetime.datetime.fromisoformat(data)

                return idle_since_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        idle_since = _parse_idle_since(d.pop("idle_since", UNSET))

        def _parse_idle_warned_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                idle_warned_at_type_0 = datetime.datetime.fromisoformat(data)

                return idle_warned_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        idle_warned_at = _parse_idle_warned_at(d.pop("idle_warned_at", UNSET))

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

        def _parse_machine(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        machine = _parse_machine(d.pop("machine", UNSET))

        def _parse_reclaim_policy(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reclaim_policy = _parse_reclaim_policy(d.pop("reclaim_policy", UNSET))

        sgx_epc_mib = d.pop("sgx_epc_mib", UNSET)

        tpm = d.pop("tpm", UNSET)

        vm_out = cls(
            created_at=created_at,
            disk_gib=disk_gib,
            disk_path=disk_path,
            disk_storage=disk_storage,
            domain_type=domain_type,
            guaranteed=guaranteed,
            ha=ha,
            host_id=host_id,
            host_name=host_name,
            id=id,
            image=image,
            last_error=last_error,
            max_memory_mib=max_memory_mib,
            max_vcpus=max_vcpus,
            memory_mib=memory_mib,
            migratable=migratable,
            name=name,
            nics=nics,
            placement_group=placement_group,
            pool_id=pool_id,
            project_id=project_id,
            seed_path=seed_path,
            state=state,
            state_changed_at=state_changed_at,
            uuid=uuid,
            vcpus=vcpus,
            cpu_policy=cpu_policy,
            devices=devices,
            hugepages=hugepages,
            idle_since=idle_since,
            idle_warned_at=idle_warned_at,
            lease_expires_at=lease_expires_at,
            machine=machine,
            reclaim_policy=reclaim_policy,
            sgx_epc_mib=sgx_epc_mib,
            tpm=tpm,
        )

        vm_out.additional_properties = d
        return vm_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
