from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.host_state import HostState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.evacuation_out import EvacuationOut
    from ..models.foreign_domain_out import ForeignDomainOut
    from ..models.host_huge_pages_out import HostHugePagesOut
    from ..models.host_overrides_out import HostOverridesOut
    from ..models.numa_cell_out import NumaCellOut
    from ..models.resources_out import ResourcesOut


T = TypeVar("T", bound="HostOut")


@_attrs_define
class HostOut:
    """
    Attributes:
        allocated (ResourcesOut):
        arch (str):
        capacity (ResourcesOut):
        cpu_model (str):
        cpus (int):
        created_at (datetime.datetime):
        disk_gib (int):
        domain_types (list[str]): kvm and/or qemu (TCG)
        evacuation (EvacuationOut | None): while in maintenance
        fence_command (list[str] | None):
        fenced_at (datetime.datetime | None): when it was known to be off
        fenced_by (None | str): operator (POST .../fence) or command
        foreign_domains (list[ForeignDomainOut]): domains on the host that vmpool did not define (reported, not adopted)
        host_uuid (str):
        hostname (str):
        hypervisor_version (str):
        id (int):
        last_error (None | str):
        last_seen_at (datetime.datetime | None):
        libvirt_version (str):
        local_disk_path (None | str): VM disks on this host (null: the default)
        maintenance_since (datetime.datetime | None):
        memory_mib (int):
        migration_address (None | str): migration data goes to tcp://ADDRESS
        name (str):
        networks (list[str]): the networks it offers NICs, as the sync found
        next_check_at (datetime.datetime | None):
        operator_traits (list[str]):
        overrides (HostOverridesOut):
        peer_uri (None | str): other hosts reach it here to migrate (else uri)
        pool_id (int):
        shared_disk_path (None | str): shared storage as mounted on this host
        state (HostState):
        traits (list[str]): discovered from libvirt, plus operator_traits
        uri (str):
        vm_count (int):
        cpu_dedicated_set (None | str | Unset): CPUs for dedicated VMs, one per vCPU (Nova's syntax)
        cpu_shared_set (None | str | Unset): CPUs for shared vCPUs and emulator threads (null: the rest)
        hugepages (list[HostHugePagesOut] | Unset): huge pages by size, all cells; their memory is left out of capacity
        numa_cells (list[NumaCellOut] | Unset): as libvirt reports them
        pinned_cpus (list[int] | Unset): CPUs held by dedicated VMs
    """

    allocated: ResourcesOut
    arch: str
    capacity: ResourcesOut
    cpu_model: str
    cpus: int
    created_at: datetime.datetime
    disk_gib: int
    domain_types: list[str]
    evacuation: EvacuationOut | None
    fence_command: list[str] | None
    fenced_at: datetime.datetime | None
    fenced_by: None | str
    foreign_domains: list[ForeignDomainOut]
    host_uuid: str
    hostname: str
    hypervisor_version: str
    id: int
    last_error: None | str
    last_seen_at: datetime.datetime | None
    libvirt_version: str
    local_disk_path: None | str
    maintenance_since: datetime.datetime | None
    memory_mib: int
    migration_address: None | str
    name: str
    networks: list[str]
    next_check_at: datetime.datetime | None
    operator_traits: list[str]
    overrides: HostOverridesOut
    peer_uri: None | str
    pool_id: int
    shared_disk_path: None | str
    state: HostState
    traits: list[str]
    uri: str
    vm_count: int
    cpu_dedicated_set: None | str | Unset = UNSET
    cpu_shared_set: None | str | Unset = UNSET
    hugepages: list[HostHugePagesOut] | Unset = UNSET
    numa_cells: list[NumaCellOut] | Unset = UNSET
    pinned_cpus: list[int] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.evacuation_out import EvacuationOut  # noqa: PLC0415

        allocated = self.allocated.to_dict()

        arch = self.arch

        capacity = self.capacity.to_dict()

        cpu_model = self.cpu_model

        cpus = self.cpus

        created_at = self.created_at.isoformat()

        disk_gib = self.disk_gib

        domain_types = self.domain_types

        evacuation: dict[str, Any] | None
        if isinstance(self.evacuation, EvacuationOut):
            evacuation = self.evacuation.to_dict()
        else:
            evacuation = self.evacuation

        fence_command: list[str] | None
        if isinstance(self.fence_command, list):
            fence_command = self.fence_command

        else:
            fence_command = self.fence_command

        fenced_at: None | str
        if isinstance(self.fenced_at, datetime.datetime):
            fenced_at = self.fenced_at.isoformat()
        else:
            fenced_at = self.fenced_at

        fenced_by: None | str
        fenced_by = self.fenced_by

        foreign_domains = []
        for foreign_domains_item_data in self.foreign_domains:
            foreign_domains_item = foreign_domains_item_data.to_dict()
            foreign_domains.append(foreign_domains_item)

        host_uuid = self.host_uuid

        hostname = self.hostname

        hypervisor_version = self.hypervisor_version

        id = self.id

        last_error: None | str
        last_error = self.last_error

        last_seen_at: None | str
        if isinstance(self.last_seen_at, datetime.datetime):
            last_seen_at = self.last_seen_at.isoformat()
        else:
            last_seen_at = self.last_seen_at

        libvirt_version = self.libvirt_version

        local_disk_path: None | str
        local_disk_path = self.local_disk_path

        maintenance_since: None | str
        if isinstance(self.maintenance_since, datetime.datetime):
            maintenance_since = self.maintenance_since.isoformat()
        else:
            maintenance_since = self.maintenance_since

        memory_mib = self.memory_mib

        migration_address: None | str
        migration_address = self.migration_address

        name = self.name

        networks = self.networks

        next_check_at: None | str
        if isinstance(self.next_check_at, datetime.datetime):
            next_check_at = self.next_check_at.isoformat()
        else:
            next_check_at = self.next_check_at

        operator_traits = self.operator_traits

        overrides = self.overrides.to_dict()

        peer_uri: None | str
        peer_uri = self.peer_uri

        pool_id = self.pool_id

        shared_disk_path: None | str
        shared_disk_path = self.shared_disk_path

        state = self.state.value

        traits = self.traits

        uri = self.uri

        vm_count = self.vm_count

        cpu_dedicated_set: None | str | Unset
        if isinstance(self.cpu_dedicated_set, Unset):
            cpu_dedicated_set = UNSET
        else:
            cpu_dedicated_set = self.cpu_dedicated_set

        cpu_shared_set: None | str | Unset
        if isinstance(self.cpu_shared_set, Unset):
            cpu_shared_set = UNSET
        else:
            cpu_shared_set = self.cpu_shared_set

        hugepages: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.hugepages, Unset):
            hugepages = []
            for hugepages_item_data in self.hugepages:
                hugepages_item = hugepages_item_data.to_dict()
                hugepages.append(hugepages_item)

        numa_cells: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.numa_cells, Unset):
            numa_cells = []
            for numa_cells_item_data in self.numa_cells:
                numa_cells_item = numa_cells_item_data.to_dict()
                numa_cells.append(numa_cells_item)

        pinned_cpus: list[int] | Unset = UNSET
        if not isinstance(self.pinned_cpus, Unset):
            pinned_cpus = self.pinned_cpus

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "allocated": allocated,
                "arch": arch,
                "capacity": capacity,
                "cpu_model": cpu_model,
                "cpus": cpus,
                "created_at": created_at,
                "disk_gib": disk_gib,
                "domain_types": domain_types,
                "evacuation": evacuation,
                "fence_command": fence_command,
                "fenced_at": fenced_at,
                "fenced_by": fenced_by,
                "foreign_domains": foreign_domains,
                "host_uuid": host_uuid,
                "hostname": hostname,
                "hypervisor_version": hypervisor_version,
                "id": id,
                "last_error": last_error,
                "last_seen_at": last_seen_at,
                "libvirt_version": libvirt_version,
                "local_disk_path": local_disk_path,
                "maintenance_since": maintenance_since,
                "memory_mib": memory_mib,
                "migration_address": migration_address,
                "name": name,
                "networks": networks,
                "next_check_at": next_check_at,
                "operator_traits": operator_traits,
                "overrides": overrides,
                "peer_uri": peer_uri,
                "pool_id": pool_id,
                "shared_disk_path": shared_disk_path,
                "state": state,
                "traits": traits,
                "uri": uri,
                "vm_count": vm_count,
            }
        )
        if cpu_dedicated_set is not UNSET:
            field_dict["cpu_dedicated_set"] = cpu_dedicated_set
        if cpu_shared_set is not UNSET:
            field_dict["cpu_shared_set"] = cpu_shared_set
        if hugepages is not UNSET:
            field_dict["hugepages"] = hugepages
        if numa_cells is not UNSET:
            field_dict["numa_cells"] = numa_cells
        if pinned_cpus is not UNSET:
            field_dict["pinned_cpus"] = pinned_cpus

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.evacuation_out import EvacuationOut  # noqa: PLC0415
        from ..models.foreign_domain_out import ForeignDomainOut  # noqa: PLC0415
        from ..models.host_huge_pages_out import HostHugePagesOut  # noqa: PLC0415
        from ..models.host_overrides_out import HostOverridesOut  # noqa: PLC0415
        from ..models.numa_cell_out import NumaCellOut  # noqa: PLC0415
        from ..models.resources_out import ResourcesOut  # noqa: PLC0415

        d = dict(src_dict)
        allocated = ResourcesOut.from_dict(d.pop("allocated"))

        arch = d.pop("arch")

        capacity = ResourcesOut.from_dict(d.pop("capacity"))

        cpu_model = d.pop("cpu_model")

        cpus = d.pop("cpus")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        disk_gib = d.pop("disk_gib")

        domain_types = cast(list[str], d.pop("domain_types"))

        def _parse_evacuation(data: object) -> EvacuationOut | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                evacuation_type_0 = EvacuationOut.from_dict(data)

                return evacuation_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EvacuationOut | None, data)

        evacuation = _parse_evacuation(d.pop("evacuation"))

        def _parse_fence_command(data: object) -> list[str] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                fence_command_type_0 = cast(list[str], data)

                return fence_command_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None, data)

        fence_command = _parse_fence_command(d.pop("fence_command"))

        def _parse_fenced_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                fenced_at_type_0 = datetime.datetime.fromisoformat(data)

                return fenced_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        fenced_at = _parse_fenced_at(d.pop("fenced_at"))

        def _parse_fenced_by(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        fenced_by = _parse_fenced_by(d.pop("fenced_by"))

        foreign_domains = []
        _foreign_domains = d.pop("foreign_domains")
        for foreign_domains_item_data in _foreign_domains:
            foreign_domains_item = ForeignDomainOut.from_dict(foreign_domains_item_data)

            foreign_domains.append(foreign_domains_item)

        host_uuid = d.pop("host_uuid")

        hostname = d.pop("hostname")

        hypervisor_version = d.pop("hypervisor_version")

        id = d.pop("id")

        def _parse_last_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        last_error = _parse_last_error(d.pop("last_error"))

        def _parse_last_seen_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_seen_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_seen_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_seen_at = _parse_last_seen_at(d.pop("last_seen_at"))

        libvirt_version = d.pop("libvirt_version")

        def _parse_local_disk_path(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        local_disk_path = _parse_local_disk_path(d.pop("local_disk_path"))

        def _parse_maintenance_since(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                maintenance_since_type_0 = datetime.datetime.fromisoformat(data)

                return maintenance_since_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        maintenance_since = _parse_maintenance_since(d.pop("maintenance_since"))

        memory_mib = d.pop("memory_mib")

        def _parse_migration_address(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        migration_address = _parse_migration_address(d.pop("migration_address"))

        name = d.pop("name")

        networks = cast(list[str], d.pop("networks"))

        def _parse_next_check_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_check_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_check_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        next_check_at = _parse_next_check_at(d.pop("next_check_at"))

        operator_traits = cast(list[str], d.pop("operator_traits"))

        overrides = HostOverridesOut.from_dict(d.pop("overrides"))

        def _parse_peer_uri(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        peer_uri = _parse_peer_uri(d.pop("peer_uri"))

        pool_id = d.pop("pool_id")

        def _parse_shared_disk_path(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        shared_disk_path = _parse_shared_disk_path(d.pop("shared_disk_path"))

        state = HostState(d.pop("state"))

        traits = cast(list[str], d.pop("traits"))

        uri = d.pop("uri")

        vm_count = d.pop("vm_count")

        def _parse_cpu_dedicated_set(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cpu_dedicated_set = _parse_cpu_dedicated_set(d.pop("cpu_dedicated_set", UNSET))

        def _parse_cpu_shared_set(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cpu_shared_set = _parse_cpu_shared_set(d.pop("cpu_shared_set", UNSET))

        _hugepages = d.pop("hugepages", UNSET)
        hugepages: list[HostHugePagesOut] | Unset = UNSET
        if _hugepages is not UNSET:
            hugepages = []
            for hugepages_item_data in _hugepages:
                hugepages_item = HostHugePagesOut.from_dict(hugepages_item_data)

                hugepages.append(hugepages_item)

        _numa_cells = d.pop("numa_cells", UNSET)
        numa_cells: list[NumaCellOut] | Unset = UNSET
        if _numa_cells is not UNSET:
            numa_cells = []
            for numa_cells_item_data in _numa_cells:
                numa_cells_item = NumaCellOut.from_dict(numa_cells_item_data)

                numa_cells.append(numa_cells_item)

        pinned_cpus = cast(list[int], d.pop("pinned_cpus", UNSET))

        host_out = cls(
            allocated=allocated,
            arch=arch,
            capacity=capacity,
            cpu_model=cpu_model,
            cpus=cpus,
            created_at=created_at,
            disk_gib=disk_gib,
            domain_types=domain_types,
            evacuation=evacuation,
            fence_command=fence_command,
            fenced_at=fenced_at,
            fenced_by=fenced_by,
            foreign_domains=foreign_domains,
            host_uuid=host_uuid,
            hostname=hostname,
            hypervisor_version=hypervisor_version,
            id=id,
            last_error=last_error,
            last_seen_at=last_seen_at,
            libvirt_version=libvirt_version,
            local_disk_path=local_disk_path,
            maintenance_since=maintenance_since,
            memory_mib=memory_mib,
            migration_address=migration_address,
            name=name,
            networks=networks,
            next_check_at=next_check_at,
            operator_traits=operator_traits,
            overrides=overrides,
            peer_uri=peer_uri,
            pool_id=pool_id,
            shared_disk_path=shared_disk_path,
            state=state,
            traits=traits,
            uri=uri,
            vm_count=vm_count,
            cpu_dedicated_set=cpu_dedicated_set,
            cpu_shared_set=cpu_shared_set,
            hugepages=hugepages,
            numa_cells=numa_cells,
            pinned_cpus=pinned_cpus,
        )

        host_out.additional_properties = d
        return host_out

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
