from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.disk_create_storage import DiskCreateStorage
from ..types import UNSET, Unset

T = TypeVar("T", bound="DiskCreate")


@_attrs_define
class DiskCreate:
    """
    Attributes:
        size_gib (int):
        storage (DiskCreateStorage | Unset): local: on the VM's host; shared: in the shared folder Default:
            DiskCreateStorage.LOCAL.
    """

    size_gib: int
    storage: DiskCreateStorage | Unset = DiskCreateStorage.LOCAL

    def to_dict(self) -> dict[str, Any]:
        size_gib = self.size_gib

        storage: str | Unset = UNSET
        if not isinstance(self.storage, Unset):
            storage = self.storage.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "size_gib": size_gib,
            }
        )
        if storage is not UNSET:
            field_dict["storage"] = storage

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        size_gib = d.pop("size_gib")

        _storage = d.pop("storage", UNSET)
        storage: DiskCreateStorage | Unset
        if isinstance(_storage, Unset):
            storage = UNSET
        else:
            storage = DiskCreateStorage(_storage)

        disk_create = cls(
            size_gib=size_gib,
            storage=storage,
        )

        return disk_create
