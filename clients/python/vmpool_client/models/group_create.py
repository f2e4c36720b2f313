from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.group_policy import GroupPolicy
from ..types import UNSET, Unset

T = TypeVar("T", bound="GroupCreate")


@_attrs_define
class GroupCreate:
    """
    Attributes:
        hard (bool): true: must; false: prefer
        name (str):
        policy (GroupPolicy):
        pool_id (int | None | Unset):
        project_id (int | None | Unset): an admin's choice, as for VMs
    """

    hard: bool
    name: str
    policy: GroupPolicy
    pool_id: int | None | Unset = UNSET
    project_id: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        hard = self.hard

        name = self.name

        policy = self.policy.value

        pool_id: int | None | Unset
        if isinstance(self.pool_id, Unset):
            pool_id = UNSET
        else:
            pool_id = self.pool_id

        project_id: int | None | Unset
        if isinstance(self.project_id, Unset):
            project_id = UNSET
        else:
            project_id = self.project_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "hard": hard,
                "name": name,
                "policy": policy,
            }
        )
        if pool_id is not UNSET:
            field_dict["pool_id"] = pool_id
        if project_id is not UNSET:
            field_dict["project_id"] = project_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        hard = d.pop("hard")

        name = d.pop("name")

        policy = GroupPolicy(d.pop("policy"))

        def _parse_pool_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        pool_id = _parse_pool_id(d.pop("pool_id", UNSET))

        def _parse_project_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        project_id = _parse_project_id(d.pop("project_id", UNSET))

        group_create = cls(
            hard=hard,
            name=name,
            policy=policy,
            pool_id=pool_id,
            project_id=project_id,
        )

        return group_create
