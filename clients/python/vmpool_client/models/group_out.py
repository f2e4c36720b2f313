from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.group_out_members import GroupOutMembers


T = TypeVar("T", bound="GroupOut")


@_attrs_define
class GroupOut:
    """
    Attributes:
        hard (bool):
        id (int):
        members (GroupOutMembers): host name -> names of member VMs on it (admins only)
        name (str):
        policy (str):
        pool_id (int):
        project_id (int):
    """

    hard: bool
    id: int
    members: GroupOutMembers
    name: str
    policy: str
    pool_id: int
    project_id: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        hard = self.hard

        id = self.id

        members = self.members.to_dict()

        name = self.name

        policy = self.policy

        pool_id = self.pool_id

        project_id = self.project_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "hard": hard,
                "id": id,
                "members": members,
                "name": name,
                "policy": policy,
                "pool_id": pool_id,
                "project_id": project_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.group_out_members import GroupOutMembers  # noqa: PLC0415

        d = dict(src_dict)
        hard = d.pop("hard")

        id = d.pop("id")

        members = GroupOutMembers.from_dict(d.pop("members"))

        name = d.pop("name")

        policy = d.pop("policy")

        pool_id = d.pop("pool_id")

        project_id = d.pop("project_id")

        group_out = cls(
            hard=hard,
            id=id,
            members=members,
            name=name,
            policy=policy,
            pool_id=pool_id,
            project_id=project_id,
        )

        group_out.additional_properties = d
        return group_out

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
