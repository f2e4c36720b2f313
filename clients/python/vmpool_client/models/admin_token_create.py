from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="AdminTokenCreate")


@_attrs_define
class AdminTokenCreate:
    """An admin acts in every project: no project.

    Attributes:
        name (str):
        role (Literal['admin']):
        ttl_s (int | None | Unset): lifetime; default and maximum in settings
    """

    name: str
    role: Literal["admin"]
    ttl_s: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        role = self.role

        ttl_s: int | None | Unset
        if isinstance(self.ttl_s, Unset):
            ttl_s = UNSET
        else:
            ttl_s = self.ttl_s

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "role": role,
            }
        )
        if ttl_s is not UNSET:
            field_dict["ttl_s"] = ttl_s

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        role = cast(Literal["admin"], d.pop("role"))
        if role != "admin":
            raise ValueError(f"role must match const 'admin', got '{role}'")

        def _parse_ttl_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        ttl_s = _parse_ttl_s(d.pop("ttl_s", UNSET))

        admin_token_create = cls(
            name=name,
            role=role,
            ttl_s=ttl_s,
        )

        return admin_token_create
