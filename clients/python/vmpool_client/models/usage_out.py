from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="UsageOut")


@_attrs_define
class UsageOut:
    """
    Attributes:
        disk_gib (int): boot disks and data disks
        memory_mib (int):
        project_id (int):
        quota_disk_gib (int | None):
        quota_memory_mib (int | None):
        quota_snapshots (int | None):
        quota_vcpus (int | None):
        quota_vms (int | None):
        snapshots (int): snapshots of its VMs
        vcpus (int):
        vms (int):
    """

    disk_gib: int
    memory_mib: int
    project_id: int
    quota_disk_gib: int | None
    quota_memory_mib: int | None
    quota_snapshots: int | None
    quota_vcpus: int | None
    quota_vms: int | None
    snapshots: int
    vcpus: int
    vms: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        disk_gib = self.disk_gib

        memory_mib = self.memory_mib

        project_id = self.project_id

        quota_disk_gib: int | None
        quota_disk_gib = self.quota_disk_gib

        quota_memory_mib: int | None
        quota_memory_mib = self.quota_memory_mib

        quota_snapshots: int | None
        quota_snapshots = self.quota_snapshots

        quota_vcpus: int | None
        quota_vcpus = self.quota_vcpus

        quota_vms: int | None
        quota_vms = self.quota_vms

        snapshots = self.snapshots

        vcpus = self.vcpus

        vms = self.vms

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "disk_gib": disk_gib,
                "memory_mib": memory_mib,
                "project_id": project_id,
                "quota_disk_gib": quota_disk_gib,
                "quota_memory_mib": quota_memory_mib,
                "quota_snapshots": quota_snapshots,
                "quota_vcpus": quota_vcpus,
                "quota_vms": quota_vms,
                "snapshots": snapshots,
                "vcpus": vcpus,
                "vms": vms,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        disk_gib = d.pop("disk_gib")

        memory_mib = d.pop("memory_mib")

        project_id = d.pop("project_id")

        def _parse_quota_disk_gib(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        quota_disk_gib = _parse_quota_disk_gib(d.pop("quota_disk_gib"))

        def _parse_quota_memory_mib(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        quota_memory_mib = _parse_quota_memory_mib(d.pop("quota_memory_mib"))

        def _parse_quota_snapshots(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        quota_snapshots = _parse_quota_snapshots(d.pop("quota_snapshots"))

        def _parse_quota_vcpus(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        quota_vcpus = _parse_quota_vcpus(d.pop("quota_vcpus"))

        def _parse_quota_vms(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        quota_vms = _parse_quota_vms(d.pop("quota_vms"))

        snapshots = d.pop("snapshots")

        vcpus = d.pop("vcpus")

        vms = d.pop("vms")

        usage_out = cls(
            disk_gib=disk_gib,
            memory_mib=memory_mib,
            project_id=project_id,
            quota_disk_gib=quota_disk_gib,
            quota_memory_mib=quota_memory_mib,
            quota_snapshots=quota_snapshots,
            quota_vcpus=quota_vcpus,
            quota_vms=quota_vms,
            snapshots=snapshots,
            vcpus=vcpus,
            vms=vms,
        )

        usage_out.additional_properties = d
        return usage_out

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
