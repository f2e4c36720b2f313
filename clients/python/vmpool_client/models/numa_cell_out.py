from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.huge_pages_out import HugePagesOut


T = TypeVar("T", bound="NumaCellOut")


@_attrs_define
class NumaCellOut:
    """
    Attributes:
        cpus (list[int]):
        hugepages (list[HugePagesOut]):
        id (int):
        memory_mib (int):
    """

    cpus: list[int]
    hugepages: list[HugePagesOut]
    id: int
    memory_mib: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        cpus = self.cpus

        hugepages = []
        for hugepages_item_data in self.hugepages:
            hugepages_item = hugepages_item_data.to_dict()
            hugepages.append(hugepages_item)

        id = self.id

        memory_mib = self.memory_mib

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cpus": cpus,
                "hugepages": hugepages,
                "id": id,
                "memory_mib": memory_mib,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.huge_pages_out import HugePagesOut  # noqa: PLC0415

        d = dict(src_dict)
        cpus = cast(list[int], d.pop("cpus"))

        hugepages = []
        _hugepages = d.pop("hugepages")
        for hugepages_item_data in _hugepages:
            hugepages_item = HugePagesOut.from_dict(hugepages_item_data)

            hugepages.append(hugepages_item)

        id = d.pop("id")

        memory_mib = d.pop("memory_mib")

        numa_cell_out = cls(
            cpus=cpus,
            hugepages=hugepages,
            id=id,
            memory_mib=memory_mib,
        )

        numa_cell_out.additional_properties = d
        return numa_cell_out

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
