from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="EvacuationItemOut")


@_attrs_define
class EvacuationItemOut:
    """
    Attributes:
        error (None | str): why this VM did not (yet) move
        migration_id (int | None):
        state (str): migration state, or pending / stays
        target_host (None | str):
        vm_id (int):
        vm_name (str):
    """

    error: None | str
    migration_id: int | None
    state: str
    target_host: None | str
    vm_id: int
    vm_name: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        error: None | str
        error = self.error

        migration_id: int | None
        migration_id = self.migration_id

        state = self.state

        target_host: None | str
        target_host = self.target_host

        vm_id = self.vm_id

        vm_name = self.vm_name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "error": error,
                "migration_id": migration_id,
                "state": state,
                "target_host": target_host,
                "vm_id": vm_id,
                "vm_name": vm_name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        def _parse_migration_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        migration_id = _parse_migration_id(d.pop("migration_id"))

        state = d.pop("state")

        def _parse_target_host(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        target_host = _parse_target_host(d.pop("target_host"))

        vm_id = d.pop("vm_id")

        vm_name = d.pop("vm_name")

        evacuation_item_out = cls(
            error=error,
            migration_id=migration_id,
            state=state,
            target_host=target_host,
            vm_id=vm_id,
            vm_name=vm_name,
        )

        evacuation_item_out.additional_properties = d
        return evacuation_item_out

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
