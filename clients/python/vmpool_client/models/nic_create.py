from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.nic_create_model import NicCreateModel
from ..types import UNSET, Unset

T = TypeVar("T", bound="NicCreate")


@_attrs_define
class NicCreate:
    """
    Attributes:
        network (str): a network's name
        ipv4 (None | str | Unset): an address of the network's IPv4 subnet; vmpool hands out the lowest free one if none
            is given
        ipv6 (None | str | Unset):
        mac (None | str | Unset):
        model (NicCreateModel | Unset):  Default: NicCreateModel.VIRTIO.
    """

    network: str
    ipv4: None | str | Unset = UNSET
    ipv6: None | str | Unset = UNSET
    mac: None | str | Unset = UNSET
    model: NicCreateModel | Unset = NicCreateModel.VIRTIO

    def to_dict(self) -> dict[str, Any]:
        network = self.network

        ipv4: None | str | Unset
        if isinstance(self.ipv4, Unset):
            ipv4 = UNSET
        else:
            ipv4 = self.ipv4

        ipv6: None | str | Unset
        if isinstance(self.ipv6, Unset):
            ipv6 = UNSET
        else:
            ipv6 = self.ipv6

        mac: None | str | Unset
        if isinstance(self.mac, Unset):
            mac = UNSET
        else:
            mac = self.mac

        model: str | Unset = UNSET
        if not isinstance(self.model, Unset):
            model = self.model.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "network": network,
            }
        )
        if ipv4 is not UNSET:
            field_dict["ipv4"] = ipv4
        if ipv6 is not UNSET:
            field_dict["ipv6"] = ipv6
        if mac is not UNSET:
            field_dict["mac"] = mac
        if model is not UNSET:
            field_dict["model"] = model

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        network = d.pop("network")

        def _parse_ipv4(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ipv4 = _parse_ipv4(d.pop("ipv4", UNSET))

        def _parse_ipv6(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ipv6 = _parse_ipv6(d.pop("ipv6", UNSET))

        def _parse_mac(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        mac = _parse_mac(d.pop("mac", UNSET))

        _model = d.pop("model", UNSET)
        model: NicCreateModel | Unset
        if isinstance(_model, Unset):
            model = UNSET
        else:
            model = NicCreateModel(_model)

        nic_create = cls(
            network=network,
            ipv4=ipv4,
            ipv6=ipv6,
            mac=mac,
            model=model,
        )

        return nic_create
