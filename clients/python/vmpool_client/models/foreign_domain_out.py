from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ForeignDomainOut")


@_attrs_define
class ForeignDomainOut:
    """
    Attributes:
        first_seen_at (datetime.datetime):
        last_seen_at (datetime.datetime):
        name (str):
        state (str):
        uuid (str):
    """

    first_seen_at: datetime.datetime
    last_seen_at: datetime.datetime
    name: str
    state: str
    uuid: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        first_seen_at = self.first_seen_at.isoformat()

        last_seen_at = self.last_seen_at.isoformat()

        name = self.name

        state = self.state

        uuid = self.uuid

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "first_seen_at": first_seen_at,
                "last_seen_at": last_seen_at,
                "name": name,
                "state": state,
                "uuid": uuid,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        first_seen_at = datetime.datetime.fromisoformat(d.pop("first_seen_at"))

        last_seen_at = datetime.datetime.fromisoformat(d.pop("last_seen_at"))

        name = d.pop("name")

        state = d.pop("state")

        uuid = d.pop("uuid")

        foreign_domain_out = cls(
            first_seen_at=first_seen_at,
            last_seen_at=last_seen_at,
            name=name,
            state=state,
            uuid=uuid,
        )

        foreign_domain_out.additional_properties = d
        return foreign_domain_out

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
