from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="HostDeviceOut")


@_attrs_define
class HostDeviceOut:
    """
    Attributes:
        address (str): PCI address, domain:bus:slot.function
        alias (None | str): assignable to VMs asking for this alias; null: not
        host_id (int):
        iommu_group (int | None):
        missing_since (datetime.datetime | None): no longer listed by the host's libvirt since (kept while a VM holds
            it)
        numa_node (int | None):
        product (str):
        product_id (str):
        vendor (str):
        vendor_id (str):
        vm_id (int | None): the VM it is assigned to
        vm_name (None | str):
    """

    address: str
    alias: None | str
    host_id: int
    iommu_group: int | None
    missing_since: datetime.datetime | None
    numa_node: int | None
    product: str
    product_id: str
    vendor: str
    vendor_id: str
    vm_id: int | None
    vm_name: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        address = self.address

        alias: None | str
        alias = self.alias

        host_id = self.host_id

        iommu_group: int | None
        iommu_group = self.iommu_group

        missing_since: None | str
        if isinstance(self.missing_since, datetime.datetime):
            missing_since = self.missing_since.isoformat()
        else:
            missing_since = self.missing_since

        numa_node: int | None
        numa_node = self.numa_node

        product = self.product

        product_id = self.product_id

        vendor = self.vendor

        vendor_id = self.vendor_id

        vm_id: int | None
        vm_id = self.vm_id

        vm_name: None | str
        vm_name = self.vm_name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "address": address,
                "alias": alias,
                "host_id": host_id,
                "iommu_group": iommu_group,
                "missing_since": missing_since,
                "numa_node": numa_node,
                "product": product,
                "product_id": product_id,
                "vendor": vendor,
                "vendor_id": vendor_id,
                "vm_id": vm_id,
                "vm_name": vm_name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        address = d.pop("address")

        def _parse_alias(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        alias = _parse_alias(d.pop("alias"))

        host_id = d.pop("host_id")

        def _parse_iommu_group(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        iommu_group = _parse_iommu_group(d.pop("iommu_group"))

        def _parse_missing_since(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                missing_since_type_0 = datetime.datetime.fromisoformat(data)

                return missing_since_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        missing_since = _parse_missing_since(d.pop("missing_since"))

        def _parse_numa_node(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        numa_node = _parse_numa_node(d.pop("numa_node"))

        product = d.pop("product")

        product_id = d.pop("product_id")

        vendor = d.pop("vendor")

        vendor_id = d.pop("vendor_id")

        def _parse_vm_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        vm_id = _parse_vm_id(d.pop("vm_id"))

        def _parse_vm_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        vm_name = _parse_vm_name(d.pop("vm_name"))

        host_device_out = cls(
            address=address,
            alias=alias,
            host_id=host_id,
            iommu_group=iommu_group,
            missing_since=missing_since,
            numa_node=numa_node,
            product=product,
            product_id=product_id,
            vendor=vendor,
            vendor_id=vendor_id,
            vm_id=vm_id,
            vm_name=vm_name,
        )

        host_device_out.additional_properties = d
        return host_device_out

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
