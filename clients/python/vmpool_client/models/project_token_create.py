from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.project_token_create_role import ProjectTokenCreateRole
from ..types import UNSET, Unset

T = TypeVar("T", bound="ProjectTokenCreate")


@_attrs_define
class ProjectTokenCreate:
    """A member or reader acts in one project.

    Attributes:
        name (str):
        project_id (int):
        role (ProjectTokenCreateRole):
        ttl_s (int | None | Unset): lifetime; default and maximum in settings
    """

    name: str
    project_id: int
    role: ProjectTokenCreateRole
    ttl_s: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        project_id = self.project_id

        role = self.role.value

        ttl_s: int | None | Unset
        if isinstance(self.ttl_s, Unset):
            ttl_s = UNSET
        else:
            ttl_s = self.ttl_s

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "project_id": project_id,
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

        project_id = d.pop("project_id")

        role = ProjectTokenCreateRole(d.pop("role"))

        def _parse_ttl_s(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        ttl_s = _parse_ttl_s(d.pop("ttl_s", UNSET))

        project_token_create = cls(
            name=name,
            project_id=project_id,
            role=role,
            ttl_s=ttl_s,
        )

        return project_token_create
