from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="HostUpdate")


@_attrs_define
class HostUpdate:
    """Per-host overrides; null clears one (back to the pool's value).

    Attributes:
        cpu_allocation_ratio (float | None | Unset):
        cpu_dedicated_set (None | str | Unset): host CPUs for dedicated VMs (cpu_policy dedicated), e.g. 2-7,^4; null:
            none. A CPU pinned to a VM cannot leave it (409)
        cpu_shared_set (None | str | Unset): host CPUs for shared vCPUs and emulator threads; null: those outside
            cpu_dedicated_set
        disk_allocation_ratio (float | None | Unset):
        fence_command (list[str] | None | Unset): the program (absolute path) and arguments that power this host off,
            e.g. a fence agent; run without a shell, with VMPOOL_HOST_NAME and VMPOOL_HOST_URI, once the host has not
            answered for fence_after_s; exit 0 fences it. null or [] removes it
        local_disk_path (None | str | Unset):
        migration_address (None | str | Unset):
        operator_traits (list[str] | None | Unset): traits set by an operator, e.g. gpu:a100
        peer_uri (None | str | Unset):
        ram_allocation_ratio (float | None | Unset):
        reserved_memory_mib (int | None | Unset):
        reserved_vcpus (int | None | Unset):
        shared_disk_path (None | str | Unset): the same path on every host that shares it
    """

    cpu_allocation_ratio: float | None | Unset = UNSET
    cpu_dedicated_set: None | str | Unset = UNSET
    cpu_shared_set: None | str | Unset = UNSET
    disk_allocation_ratio: float | None | Unset = UNSET
    fence_command: list[str] | None | Unset = UNSET
    local_disk_path: None | str | Unset = UNSET
    migration_address: None | str | Unset = UNSET
    operator_traits: list[str] | None | Unset = UNSET
    peer_uri: None | str | Unset = UNSET
    ram_allocation_ratio: float | None | Unset = UNSET
    reserved_memory_mib: int | None | Unset = UNSET
    reserved_vcpus: int | None | Unset = UNSET
    shared_disk_path: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        cpu_allocation_ratio: float | None | Unset
        if isinstance(self.cpu_allocation_ratio, Unset):
            cpu_allocation_ratio = UNSET
        else:
            cpu_allocation_ratio = self.cpu_allocation_ratio

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

        disk_allocation_ratio: float | None | Unset
        if isinstance(self.disk_allocation_ratio, Unset):
            disk_allocation_ratio = UNSET
        else:
            disk_allocation_ratio = self.disk_allocation_ratio

        fence_command: list[str] | None | Unset
        if isinstance(self.fence_command, Unset):
            fence_command = UNSET
        elif isinstance(self.fence_command, list):
            fence_command = self.fence_command

        else:
            fence_command = self.fence_command

        local_disk_path: None | str | Unset
        if isinstance(self.local_disk_path, Unset):
            local_disk_path = UNSET
        else:
            local_disk_path = self.local_disk_path

        migration_address: None | str | Unset
        if isinstance(self.migration_address, Unset):
            migration_address = UNSET
        else:
            migration_address = self.migration_address

        operator_traits: list[str] | None | Unset
        if isinstance(self.operator_traits, Unset):
            operator_traits = UNSET
        elif isinstance(self.operator_traits, list):
            operator_traits = self.operator_traits

        else:
            operator_traits = self.operator_traits

        peer_uri: None | str | Unset
        if isinstance(self.peer_uri, Unset):
            peer_uri = UNSET
        else:
            peer_uri = self.peer_uri

        ram_allocation_ratio: float | None | Unset
        if isinstance(self.ram_allocation_ratio, Unset):
            ram_allocation_ratio = UNSET
        else:
            ram_allocation_ratio = self.ram_allocation_ratio

        reserved_memory_mib: int | None | Unset
        if isinstance(self.reserved_memory_mib, Unset):
            reserved_memory_mib = UNSET
        else:
            reserved_memory_mib = self.reserved_memory_mib

        reserved_vcpus: int | None | Unset
        if isinstance(self.reserved_vcpus, Unset):
            reserved_vcpus = UNSET
        else:
            reserved_vcpus = self.reserved_vcpus

        shared_disk_path: None | str | Unset
        if isinstance(self.shared_disk_path, Unset):
            shared_disk_path = UNSET
        else:
            shared_disk_path = self.shared_disk_path

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if cpu_allocation_ratio is not UNSET:
            field_dict["cpu_allocation_ratio"] = cpu_allocation_ratio
        if cpu_dedicated_set is not UNSET:
            field_dict["cpu_dedicated_set"] = cpu_dedicated_set
        if cpu_shared_set is not UNSET:
            field_dict["cpu_shared_set"] = cpu_shared_set
        if disk_allocation_ratio is not UNSET:
            field_dict["disk_allocation_ratio"] = disk_allocation_ratio
        if fence_command is not UNSET:
            field_dict["fence_command"] = fence_command
        if local_disk_path is not UNSET:
            field_dict["local_disk_path"] = local_disk_path
        if migration_address is not UNSET:
            field_dict["migration_address"] = migration_address
        if operator_traits is not UNSET:
            field_dict["operator_traits"] = operator_traits
        if peer_uri is not UNSET:
            field_dict["peer_uri"] = peer_uri
        if ram_allocation_ratio is not UNSET:
            field_dict["ram_allocation_ratio"] = ram_allocation_ratio
        if reserved_memory_mib is not UNSET:
            field_dict["reserved_memory_mib"] = reserved_memory_mib
        if reserved_vcpus is not UNSET:
            field_dict["reserved_vcpus"] = reserved_vcpus
        if shared_disk_path is not UNSET:
            field_dict["shared_disk_path"] = shared_disk_path

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_cpu_allocation_ratio(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        cpu_allocation_ratio = _parse_cpu_allocation_ratio(d.pop("cpu_allocation_ratio", UNSET))

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

        def _parse_disk_allocation_ratio(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        disk_allocation_ratio = _parse_disk_allocation_ratio(d.pop("disk_allocation_ratio", UNSET))

        def _parse_fence_command(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                fence_command_type_0 = cast(list[str], data)

                return fence_command_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        fence_command = _parse_fence_command(d.pop("fence_command", UNSET))

        def _parse_local_disk_path(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        local_disk_path = _parse_local_disk_path(d.pop("local_disk_path", UNSET))

        def _parse_migration_address(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        migration_address = _parse_migration_address(d.pop("migration_address", UNSET))

        def _parse_operator_traits(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                operator_traits_type_0 = cast(list[str], data)

                return operator_traits_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        operator_traits = _parse_operator_traits(d.pop("operator_traits", UNSET))

        def _parse_peer_uri(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        peer_uri = _parse_peer_uri(d.pop("peer_uri", UNSET))

        def _parse_ram_allocation_ratio(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        ram_allocation_ratio = _parse_ram_allocation_ratio(d.pop("ram_allocation_ratio", UNSET))

        def _parse_reserved_memory_mib(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        reserved_memory_mib = _parse_reserved_memory_mib(d.pop("reserved_memory_mib", UNSET))

        def _parse_reserved_vcpus(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        reserved_vcpus = _parse_reserved_vcpus(d.pop("reserved_vcpus", UNSET))

        def _parse_shared_disk_path(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        shared_disk_path = _parse_shared_disk_path(d.pop("shared_disk_path", UNSET))

        host_update = cls(
            cpu_allocation_ratio=cpu_allocation_ratio,
            cpu_dedicated_set=cpu_dedicated_set,
            cpu_shared_set=cpu_shared_set,
            disk_allocation_ratio=disk_allocation_ratio,
            fence_command=fence_command,
            local_disk_path=local_disk_path,
            migration_address=migration_address,
            operator_traits=operator_traits,
            peer_uri=peer_uri,
            ram_allocation_ratio=ram_allocation_ratio,
            reserved_memory_mib=reserved_memory_mib,
            reserved_vcpus=reserved_vcpus,
            shared_disk_path=shared_disk_path,
        )

        return host_update
