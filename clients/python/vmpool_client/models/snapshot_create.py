from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SnapshotCreate")


@_attrs_define
class SnapshotCreate:
    """
    Attributes:
        name (str):
        description (str | Unset): free text, kept by vmpool only (never in libvirt's XML), shown verbatim Default: ''.
        include_memory (bool | None | Unset): a running VM's snapshot holds its memory (true, the default; false is
            refused: libvirt takes internal snapshots of a running VM with its memory only); a stopped VM's holds its disks
            only (false, the default)
    """

    name: str
    description: str | Unset = ""
    include_memory: bool | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        description = self.description

        include_memory: bool | None | Unset
        if isinstance(self.include_memory, Unset):
            include_memory = UNSET
        else:
            include_memory = self.include_memory

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if include_memory is not UNSET:
            field_dict["include_memory"] = include_memory

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        description = d.pop("description", UNSET)

        def _parse_include_memory(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        include_memory = _parse_include_memory(d.pop("include_memory", UNSET))

        snapshot_create = cls(
            name=name,
            description=description,
            include_memory=include_memory,
        )

        return snapshot_create
