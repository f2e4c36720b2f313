from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ProjectOut")


@_attrs_define
class ProjectOut:
    """
    Attributes:
        created_at (datetime.datetime):
        default_lease_s (int | None):
        default_reclaim_policy (None | str):
        description (str):
        id (int):
        name (str):
        quota_disk_gib (int | None):
        quota_memory_mib (int | None):
        quota_snapshots (int | None):
        quota_vcpus (int | None): null: no limit
        quota_vms (int | None):
    """

    created_at: datetime.datetime
    default_lease_s: int | None
    default_reclaim_policy: None | str
    description: str
    id: int
    name: str
    quota_disk_gib: int | None
    quota_memory_mib: int | None
    quota_snapshots: int | None
    quota_vcpus: int | None
    quota_vms: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        default_lease_s: int | None
        default_lease_s = self.default_lease_s

        default_reclaim_policy: None | str
        default_reclaim_policy = self.default_reclaim_policy

        description = self.description

        id = self.id

        name = self.name

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

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "default_lease_s": default_lease_s,
                "default_reclaim_policy": default_reclaim_policy,
                "description": description,
                "id": id,
                "name": name,
                "quota_disk_gib": quota_disk_gib,
                "quota_memory_mib": quota_memory_mib,
                "quota_snapshots": quota_snapshots,
                "quota_vcpus": quota_vcpus,
                "quota_vms": quota_vms,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_default_lease_s(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        default_lease_s = _parse_default_lease_s(d.pop("default_lease_s"))

        def _parse_default_reclaim_policy(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        default_reclaim_policy = _parse_default_reclaim_policy(d.pop("default_reclaim_policy"))

        description = d.pop("description")

        id = d.pop("id")

        name = d.pop("name")

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

        project_out = cls(
            created_at=created_at,
            default_lease_s=default_lease_s,
            default_reclaim_policy=default_reclaim_policy,
            description=description,
            id=id,
            name=name,
            quota_disk_gib=quota_disk_gib,
            quota_memory_mib=quota_memory_mib,
            quota_snapshots=quota_snapshots,
            quota_vcpus=quota_vcpus,
            quota_vms=quota_vms,
        )

        project_out.additional_properties = d
        return project_out

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
