from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ImageOut")


@_attrs_define
class ImageOut:
    """
    Attributes:
        created_at (datetime.datetime):
        created_by (str):
        format_ (str): raw or qcow2, pinned at upload
        hosts (list[str]): hosts that hold a copy
        id (int):
        name (str):
        sha256 (str):
        size_bytes (int): bytes the image file takes
        state (str): uploading, available or deleting
        stored_at (datetime.datetime | None):
        virtual_size_bytes (int): bytes of the disk the guest sees
    """

    created_at: datetime.datetime
    created_by: str
    format_: str
    hosts: list[str]
    id: int
    name: str
    sha256: str
    size_bytes: int
    state: str
    stored_at: datetime.datetime | None
    virtual_size_bytes: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        created_by = self.created_by

        format_ = self.format_

        hosts = self.hosts

        id = self.id

        name = self.name

        sha256 = self.sha256

        size_bytes = self.size_bytes

        state = self.state

        stored_at: None | str
        if isinstance(self.stored_at, datetime.datetime):
            stored_at = self.stored_at.isoformat()
        else:
            stored_at = self.stored_at

        virtual_size_bytes = self.virtual_size_bytes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "created_by": created_by,
                "format": format_,
                "hosts": hosts,
                "id": id,
                "name": name,
                "sha256": sha256,
                "size_bytes": size_bytes,
                "state": state,
                "stored_at": stored_at,
                "virtual_size_bytes": virtual_size_bytes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        created_by = d.pop("created_by")

        format_ = d.pop("format")

        hosts = cast(list[str], d.pop("hosts"))

        id = d.pop("id")

        name = d.pop("name")

        sha256 = d.pop("sha256")

        size_bytes = d.pop("size_bytes")

        state = d.pop("state")

        def _parse_stored_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                stored_at_type_0 = datetime.datetime.fromisoformat(data)

                return stored_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        stored_at = _parse_stored_at(d.pop("stored_at"))

        virtual_size_bytes = d.pop("virtual_size_bytes")

        image_out = cls(
            created_at=created_at,
            created_by=created_by,
            format_=format_,
            hosts=hosts,
            id=id,
            name=name,
            sha256=sha256,
            size_bytes=size_bytes,
            state=state,
            stored_at=stored_at,
            virtual_size_bytes=virtual_size_bytes,
        )

        image_out.additional_properties = d
        return image_out

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
