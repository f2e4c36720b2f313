from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.migrate_in_storage_type_0 import MigrateInStorageType0
from ..types import UNSET, Unset

T = TypeVar("T", bound="MigrateIn")


@_attrs_define
class MigrateIn:
    """
    Attributes:
        allow_post_copy (bool | Unset): switch to post-copy at the timeout Default: False.
        auto_converge (bool | Unset):  Default: False.
        bandwidth_mib_s (int | None | Unset):
        completion_timeout_s_per_gib (int | Unset):  Default: 800.
        max_downtime_ms (int | Unset):  Default: 500.
        storage (MigrateInStorageType0 | None | Unset): shared: disks on storage both hosts see; copy: copy the local
            disks. Default: copy if the VM has local disks, else shared
        target_host_id (int | None | Unset): when absent, placement chooses (never the source)
    """

    allow_post_copy: bool | Unset = False
    auto_converge: bool | Unset = False
    bandwidth_mib_s: int | None | Unset = UNSET
    completion_timeout_s_per_gib: int | Unset = 800
    max_downtime_ms: int | Unset = 500
    storage: MigrateInStorageType0 | None | Unset = UNSET
    target_host_id: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        allow_post_copy = self.allow_post_copy

        auto_converge = self.auto_converge

        bandwidth_mib_s: int | None | Unset
        if isinstance(self.bandwidth_mib_s, Unset):
            bandwidth_mib_s = UNSET
        else:
            bandwidth_mib_s = self.bandwidth_mib_s

        completion_timeout_s_per_gib = self.completion_timeout_s_per_gib

        max_downtime_ms = self.max_downtime_ms

        storage: None | str | Unset
        if isinstance(self.storage, Unset):
            storage = UNSET
        elif isinstance(self.storage, MigrateInStorageType0):
            storage = self.storage.value
        else:
            storage = self.storage

        target_host_id: int | None | Unset
        if isinstance(self.target_host_id, Unset):
            target_host_id = UNSET
        else:
            target_host_id = self.target_host_id

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if allow_post_copy is not UNSET:
            field_dict["allow_post_copy"] = allow_post_copy
        if auto_converge is not UNSET:
            field_dict["auto_converge"] = auto_converge
        if bandwidth_mib_s is not UNSET:
            field_dict["bandwidth_mib_s"] = bandwidth_mib_s
        if completion_timeout_s_per_gib is not UNSET:
            field_dict["completion_timeout_s_per_gib"] = completion_timeout_s_per_gib
        if max_downtime_ms is not UNSET:
            field_dict["max_downtime_ms"] = max_downtime_ms
        if storage is not UNSET:
            field_dict["storage"] = storage
        if target_host_id is not UNSET:
            field_dict["target_host_id"] = target_host_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        allow_post_copy = d.pop("allow_post_copy", UNSET)

        auto_converge = d.pop("auto_converge", UNSET)

        def _parse_bandwidth_mib_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        bandwidth_mib_s = _parse_bandwidth_mib_s(d.pop("bandwidth_mib_s", UNSET))

        completion_timeout_s_per_gib = d.pop("completion_timeout_s_per_gib", UNSET)

        max_downtime_ms = d.pop("max_downtime_ms", UNSET)

        def _parse_storage(data: object) -> MigrateInStorageType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                storage_type_0 = MigrateInStorageType0(data)

                return storage_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MigrateInStorageType0 | None | Unset, data)

        storage = _parse_storage(d.pop("storage", UNSET))

        def _parse_target_host_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        target_host_id = _parse_target_host_id(d.pop("target_host_id", UNSET))

        migrate_in = cls(
            allow_post_copy=allow_post_copy,
            auto_converge=auto_converge,
            bandwidth_mib_s=bandwidth_mib_s,
            completion_timeout_s_per_gib=completion_timeout_s_per_gib,
            max_downtime_ms=max_downtime_ms,
            storage=storage,
            target_host_id=target_host_id,
        )

        return migrate_in
