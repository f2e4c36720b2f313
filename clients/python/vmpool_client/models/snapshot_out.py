from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SnapshotOut")


@_attrs_define
class SnapshotOut:
    """
    Attributes:
        created_at (datetime.datetime):
        created_by (str):
        description (str):
        id (int):
        last_error (None | str):
        name (str):
        size_gib (int): what it may take on its storage, claimed there
        state (str): creating, ready, reverting, deleting or error
        vm_id (int):
        with_memory (bool): reverting resumes the VM where it was
    """

    created_at: datetime.datetime
    created_by: str
    description: str
    id: int
    last_error: None | str
    name: str
    size_gib: int
    state: str
    vm_id: int
    with_memory: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        created_by = self.created_by

        description = self.description

        id = self.id

        last_error: None | str
        last_error = self.last_error

        name = self.name

        size_gib = self.size_gib

        state = self.state

        vm_id = self.vm_id

        with_memory = self.with_memory

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "created_by": created_by,
                "description": description,
                "id": id,
                "last_error": last_error,
                "name": name,
                "size_gib": size_gib,
                "state": state,
                "vm_id": vm_id,
                "with_memory": with_memory,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        created_by = d.pop("created_by")

        description = d.pop("description")

        id = d.pop("id")

        def _parse_last_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        last_error = _parse_last_error(d.pop("last_error"))

        name = d.pop("name")

        size_gib = d.pop("size_gib")

        state = d.pop("state")

        vm_id = d.pop("vm_id")

        with_memory = d.pop("with_memory")

        snapshot_out = cls(
            created_at=created_at,
            created_by=created_by,
            description=description,
            id=id,
            last_error=last_error,
            name=name,
            size_gib=size_gib,
            state=state,
            vm_id=vm_id,
            with_memory=with_memory,
        )

        snapshot_out.additional_properties = d
        return snapshot_out

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
