from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="BridgeNetworkCreate")


@_attrs_define
class BridgeNetworkCreate:
    """A Linux bridge the hosts have (by name); vmpool finds which hosts have it.

    Attributes:
        bridge (str):
        kind (Literal['bridge']):
        name (str):
        ipv4_cidr (None | str | Unset):
        ipv4_gateway (None | str | Unset):
        ipv6_cidr (None | str | Unset):
        ipv6_gateway (None | str | Unset):
        project_id (int | None | Unset): only this project's VMs may use it; null: shared by all
    """

    bridge: str
    kind: Literal["bridge"]
    name: str
    ipv4_cidr: None | str | Unset = UNSET
    ipv4_gateway: None | str | Unset = UNSET
    ipv6_cidr: None | str | Unset = UNSET
    ipv6_gateway: None | str | Unset = UNSET
    project_id: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        bridge = self.bridge

        kind = self.kind

        name = self.name

        ipv4_cidr: None | str | Unset
        if isinstance(self.ipv4_cidr, Unset):
            ipv4_cidr = UNSET
        else:
            ipv4_cidr = self.ipv4_cidr

        ipv4_gateway: None | str | Unset
        if isinstance(self.ipv4_gateway, Unset):
            ipv4_gateway = UNSET
        else:
            ipv4_gateway = self.ipv4_gateway

        ipv6_cidr: None | str | Unset
        if isinstance(self.ipv6_cidr, Unset):
            ipv6_cidr = UNSET
        else:
            ipv6_cidr = self.ipv6_cidr

        ipv6_gateway: None | str | Unset
        if isinstance(self.ipv6_gateway, Unset):
            ipv6_gateway = UNSET
        else:
            ipv6_gateway = self.ipv6_gateway

        project_id: int | None | Unset
        if isinstance(self.project_id, Unset):
            project_id = UNSET
        else:
            project_id = self.project_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "bridge": bridge,
                "kind": kind,
                "name": name,
            }
        )
        if ipv4_cidr is not UNSET:
            field_dict["ipv4_cidr"] = ipv4_cidr
        if ipv4_gateway is not UNSET:
            field_dict["ipv4_gateway"] = ipv4_gateway
        if ipv6_cidr is not UNSET:
            field_dict["ipv6_cidr"] = ipv6_cidr
        if ipv6_gateway is not UNSET:
            field_dict["ipv6_gateway"] = ipv6_gateway
        if project_id is not UNSET:
            field_dict["project_id"] = project_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bridge = d.pop("bridge")

        kind = cast(Literal["bridge"], d.pop("kind"))
        if kind != "bridge":
            raise ValueError(f"kind must match const 'bridge', got '{kind}'")

        name = d.pop("name")

        def _parse_ipv4_cidr(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ipv4_cidr = _parse_ipv4_cidr(d.pop("ipv4_cidr", UNSET))

        def _parse_ipv4_gateway(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ipv4_gateway = _parse_ipv4_gateway(d.pop("ipv4_gateway", UNSET))

        def _parse_ipv6_cidr(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ipv6_cidr = _parse_ipv6_cidr(d.pop("ipv6_cidr", UNSET))

        def _parse_ipv6_gateway(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ipv6_gateway = _parse_ipv6_gateway(d.pop("ipv6_gateway", UNSET))

        def _parse_project_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        project_id = _parse_project_id(d.pop("project_id", UNSET))

        bridge_network_create = cls(
            bridge=bridge,
            kind=kind,
            name=name,
            ipv4_cidr=ipv4_cidr,
            ipv4_gateway=ipv4_gateway,
            ipv6_cidr=ipv6_cidr,
            ipv6_gateway=ipv6_gateway,
            project_id=project_id,
        )

        return bridge_network_create
