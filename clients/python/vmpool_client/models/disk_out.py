from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="DiskOut")


@_attrs_define
class DiskOut:
    """
    Attributes:
        created_at (datetime.datetime):
        id (int):
        last_error (None | str):
        path (None | str): the volume on the host (admins only)
        size_gib (int):
        state (str): attaching, attached, resizing or detaching
        storage (str):
        target (str): the device name the guest sees, e.g. vdb
        vm_id (int):
    """

    created_at: datetime.datetime
    id: int
    last_error: None | str
    path: None | str
    size_gib: int
    state: str
    storage: str
    target: str
    vm_id: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        id = self.id

        last_error: None | str
        last_error = self.last_error

        path: None | str
        path = self.path

        size_gib = self.size_gib

        state = self.state

        storage = self.storage

        target = self.target

        vm_id = self.vm_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "id": id,
                "last_error": last_error,
                "path": path,
                "size_gib": size_gib,
                "state": state,
                "storage": storage,
                "target": target,
                "vm_id": vm_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = d.pop("id")

        def _parse_last_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        last_error = _parse_last_error(d.pop("last_error"))

        def _parse_path(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        path = _parse_path(d.pop("path"))

        size_gib = d.pop("size_gib")

        state = d.pop("state")

        storage = d.pop("storage")

        target = d.pop("target")

        vm_id = d.pop("vm_id")

        disk_out = cls(
            created_at=created_at,
            id=id,
            last_error=last_error,
            path=path,
            size_gib=size_gib,
            state=state,
            storage=storage,
            target=target,
            vm_id=vm_id,
        )

        disk_out.additional_properties = d
        return disk_out

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
