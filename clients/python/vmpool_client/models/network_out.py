from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="NetworkOut")


@_attrs_define
class NetworkOut:
    """
    Attributes:
        bridge (str): the Linux bridge NICs join (vmp<hex> for kind libvirt)
        created_at (datetime.datetime):
        hosts (list[str]): the hosts that offer it, as last found
        id (int):
        ipv4_cidr (None | str):
        ipv4_gateway (None | str):
        ipv6_cidr (None | str):
        ipv6_gateway (None | str):
        kind (str):
        mode (None | str):
        name (str):
        nic_count (int):
        project_id (int | None): null: shared by every project
    """

    bridge: str
    created_at: datetime.datetime
    hosts: list[str]
    id: int
    ipv4_cidr: None | str
    ipv4_gateway: None | str
    ipv6_cidr: None | str
    ipv6_gateway: None | str
    kind: str
    mode: None | str
    name: str
    nic_count: int
    project_id: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bridge = self.bridge

        created_at = self.created_at.isoformat()

        hosts = self.hosts

        id = self.id

        ipv4_cidr: None | str
        ipv4_cidr = self.ipv4_cidr

        ipv4_gateway: None | str
        ipv4_gateway = self.ipv4_gateway

        ipv6_cidr: None | str
        ipv6_cidr = self.ipv6_cidr

        ipv6_gateway: None | str
        ipv6_gateway = self.ipv6_gateway

        kind = self.kind

        mode: None | str
        mode = self.mode

        name = self.name

        nic_count = self.nic_count

        project_id: int | None
        project_id = self.project_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bridge": bridge,
                "created_at": created_at,
                "hosts": hosts,
                "id": id,
                "ipv4_cidr": ipv4_cidr,
                "ipv4_gateway": ipv4_gateway,
                "ipv6_cidr": ipv6_cidr,
                "ipv6_gateway": ipv6_gateway,
                "kind": kind,
                "mode": mode,
                "name": name,
                "nic_count": nic_count,
                "project_id": project_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bridge = d.pop("bridge")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        hosts = cast(list[str], d.pop("hosts"))

        id = d.pop("id")

        def _parse_ipv4_cidr(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ipv4_cidr = _parse_ipv4_cidr(d.pop("ipv4_cidr"))

        def _parse_ipv4_gateway(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ipv4_gateway = _parse_ipv4_gateway(d.pop("ipv4_gateway"))

        def _parse_ipv6_cidr(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ipv6_cidr = _parse_ipv6_cidr(d.pop("ipv6_cidr"))

        def _parse_ipv6_gateway(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ipv6_gateway = _parse_ipv6_gateway(d.pop("ipv6_gateway"))

        kind = d.pop("kind")

        def _parse_mode(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        mode = _parse_mode(d.pop("mode"))

        name = d.pop("name")

        nic_count = d.pop("nic_count")

        def _parse_project_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        project_id = _parse_project_id(d.pop("project_id"))

        network_out = cls(
            bridge=bridge,
            created_at=created_at,
            hosts=hosts,
            id=id,
            ipv4_cidr=ipv4_cidr,
            ipv4_gateway=ipv4_gateway,
            ipv6_cidr=ipv6_cidr,
            ipv6_gateway=ipv6_gateway,
            kind=kind,
            mode=mode,
            name=name,
            nic_count=nic_count,
            project_id=project_id,
        )

        network_out.additional_properties = d
        return network_out

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
