from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.project_create_default_reclaim_policy_type_0 import (
    ProjectCreateDefaultReclaimPolicyType0,
)
from ..types import UNSET, Unset

T = TypeVar("T", bound="ProjectCreate")


@_attrs_define
class ProjectCreate:
    """
    Attributes:
        name (str):
        default_lease_s (int | None | Unset): the lease its VMs get when they ask for none, before their pool's default
            (null: the pool's); within the pool's max_lease_s
        default_reclaim_policy (None | ProjectCreateDefaultReclaimPolicyType0 | Unset): its VMs' reclaim policy when
            they name none (null: the pool's)
        description (str | Unset):  Default: ''.
        quota_disk_gib (int | None | Unset):
        quota_memory_mib (int | None | Unset):
        quota_snapshots (int | None | Unset): snapshots of its VMs
        quota_vcpus (int | None | Unset):
        quota_vms (int | None | Unset):
    """

    name: str
    default_lease_s: int | None | Unset = UNSET
    default_reclaim_policy: None | ProjectCreateDefaultReclaimPolicyType0 | Unset = UNSET
    description: str | Unset = ""
    quota_disk_gib: int | None | Unset = UNSET
    quota_memory_mib: int | None | Unset = UNSET
    quota_snapshots: int | None | Unset = UNSET
    quota_vcpus: int | None | Unset = UNSET
    quota_vms: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        default_lease_s: int | None | Unset
        if isinstance(self.default_lease_s, Unset):
            default_lease_s = UNSET
        else:
            default_lease_s = self.default_lease_s

        default_reclaim_policy: None | str | Unset
        if isinstance(self.default_reclaim_policy, Unset):
            default_reclaim_policy = UNSET
        elif isinstance(self.default_reclaim_policy, ProjectCreateDefaultReclaimPolicyType0):
            default_reclaim_policy = self.default_reclaim_policy.value
        else:
            default_reclaim_policy = self.default_reclaim_policy

        description = self.description

        quota_disk_gib: int | None | Unset
        if isinstance(self.quota_disk_gib, Unset):
            quota_disk_gib = UNSET
        else:
            quota_disk_gib = self.quota_disk_gib

        quota_memory_mib: int | None | Unset
        if isinstance(self.quota_memory_mib, Unset):
            quota_memory_mib = UNSET
        else:
            quota_memory_mib = self.quota_memory_mib

        quota_snapshots: int | None | Unset
        if isinstance(self.quota_snapshots, Unset):
            quota_snapshots = UNSET
        else:
            quota_snapshots = self.quota_snapshots

        quota_vcpus: int | None | Unset
        if isinstance(self.quota_vcpus, Unset):
            quota_vcpus = UNSET
        else:
            quota_vcpus = self.quota_vcpus

        quota_vms: int | None | Unset
        if isinstance(self.quota_vms, Unset):
            quota_vms = UNSET
        else:
            quota_vms = self.quota_vms

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
            }
        )
        if default_lease_s is not UNSET:
            field_dict["default_lease_s"] = default_lease_s
        if default_reclaim_policy is not UNSET:
            field_dict["default_reclaim_policy"] = default_reclaim_policy
        if description is not UNSET:
            field_dict["description"] = description
        if quota_disk_gib is not UNSET:
            field_dict["quota_disk_gib"] = quota_disk_gib
        if quota_memory_mib is not UNSET:
            field_dict["quota_memory_mib"] = quota_memory_mib
        if quota_snapshots is not UNSET:
            field_dict["quota_snapshots"] = quota_snapshots
        if quota_vcpus is not UNSET:
            field_dict["quota_vcpus"] = quota_vcpus
        if quota_vms is not UNSET:
            field_dict["quota_vms"] = quota_vms

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        def _parse_default_lease_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        default_lease_s = _parse_default_lease_s(d.pop("default_lease_s", UNSET))

        def _parse_default_reclaim_policy(
            data: object,
        ) -> None | ProjectCreateDefaultReclaimPolicyType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                default_reclaim_policy_type_0 = ProjectCreateDefaultReclaimPolicyType0(data)

                return default_reclaim_policy_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ProjectCreateDefaultReclaimPolicyType0 | Unset, data)

        default_reclaim_policy = _parse_default_reclaim_policy(
            d.pop("default_reclaim_policy", UNSET)
        )

        description = d.pop("description", UNSET)

        def _parse_quota_disk_gib(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        quota_disk_gib = _parse_quota_disk_gib(d.pop("quota_disk_gib", UNSET))

        def _parse_quota_memory_mib(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        quota_memory_mib = _parse_quota_memory_mib(d.pop("quota_memory_mib", UNSET))

        def _parse_quota_snapshots(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        quota_snapshots = _parse_quota_snapshots(d.pop("quota_snapshots", UNSET))

        def _parse_quota_vcpus(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        quota_vcpus = _parse_quota_vcpus(d.pop("quota_vcpus", UNSET))

        def _parse_quota_vms(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        quota_vms = _parse_quota_vms(d.pop("quota_vms", UNSET))

        project_create = cls(
            name=name,
            default_lease_s=default_lease_s,
            default_reclaim_policy=default_reclaim_policy,
            description=description,
            quota_disk_gib=quota_disk_gib,
            quota_memory_mib=quota_memory_mib,
            quota_snapshots=quota_snapshots,
            quota_vcpus=quota_vcpus,
            quota_vms=quota_vms,
        )

        return project_create
