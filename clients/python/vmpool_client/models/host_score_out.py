from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="HostScoreOut")


@_attrs_define
class HostScoreOut:
    """
    Attributes:
        cpu_alloc (float):
        cpu_load (float):
        mem_alloc (float):
        name (str):
        up (bool):
        vms (int):
    """

    cpu_alloc: float
    cpu_load: float
    mem_alloc: float
    name: str
    up: bool
    vms: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cpu_alloc = self.cpu_alloc

        cpu_load = self.cpu_load

        mem_alloc = self.mem_alloc

        name = self.name

        up = self.up

        vms = self.vms

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cpu_alloc": cpu_alloc,
                "cpu_load": cpu_load,
                "mem_alloc": mem_alloc,
                "name": name,
                "up": up,
                "vms": vms,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cpu_alloc = d.pop("cpu_alloc")

        cpu_load = d.pop("cpu_load")

        mem_alloc = d.pop("mem_alloc")

        name = d.pop("name")

        up = d.pop("up")

        vms = d.pop("vms")

        host_score_out = cls(
            cpu_alloc=cpu_alloc,
            cpu_load=cpu_load,
            mem_alloc=mem_alloc,
            name=name,
            up=up,
            vms=vms,
        )

        host_score_out.additional_properties = d
        return host_score_out

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
