from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="NicOut")


@_attrs_define
class NicOut:
    """
    Attributes:
        id (int):
        ipv4 (None | str):
        ipv6 (None | str):
        last_error (None | str):
        mac (str):
        model (str):
        network (str):
        state (str): attaching, attached or detaching
        vm_id (int):
    """

    id: int
    ipv4: None | str
    ipv6: None | str
    last_error: None | str
    mac: str
    model: str
    network: str
    state: str
    vm_id: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        ipv4: None | str
        ipv4 = self.ipv4

        ipv6: None | str
        ipv6 = self.ipv6

        last_error: None | str
        last_error = self.last_error

        mac = self.mac

        model = self.model

        network = self.network

        state = self.state

        vm_id = self.vm_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "ipv4": ipv4,
                "ipv6": ipv6,
                "last_error": last_error,
                "mac": mac,
                "model": model,
                "network": network,
                "state": state,
                "vm_id": vm_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        def _parse_ipv4(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ipv4 = _parse_ipv4(d.pop("ipv4"))

        def _parse_ipv6(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        ipv6 = _parse_ipv6(d.pop("ipv6"))

        def _parse_last_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        last_error = _parse_last_error(d.pop("last_error"))

        mac = d.pop("mac")

        model = d.pop("model")

        network = d.pop("network")

        state = d.pop("state")

        vm_id = d.pop("vm_id")

        nic_out = cls(
            id=id,
            ipv4=ipv4,
            ipv6=ipv6,
            last_error=last_error,
            mac=mac,
            model=model,
            network=network,
            state=state,
            vm_id=vm_id,
        )

        nic_out.additional_properties = d
        return nic_out

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
