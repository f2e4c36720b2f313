from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="HostCreate")


@_attrs_define
class HostCreate:
    """
    Attributes:
        uri (str): libvirt URI: qemu:///system, qemu+ssh://..., qemu+tls://..., qemu+unix:///, qemu+tcp://... when
            allowed; the accepted parameters are in docs/security.md
        migration_address (None | str | Unset):
        name (None | str | Unset):
        peer_uri (None | str | Unset):
        pool_id (int | None | Unset):
    """

    uri: str
    migration_address: None | str | Unset = UNSET
    name: None | str | Unset = UNSET
    peer_uri: None | str | Unset = UNSET
    pool_id: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        uri = self.uri

        migration_address: None | str | Unset
        if isinstance(self.migration_address, Unset):
            migration_address = UNSET
        else:
            migration_address = self.migration_address

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        peer_uri: None | str | Unset
        if isinstance(self.peer_uri, Unset):
            peer_uri = UNSET
        else:
            peer_uri = self.peer_uri

        pool_id: int | None | Unset
        if isinstance(self.pool_id, Unset):
            pool_id = UNSET
        else:
            pool_id = self.pool_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "uri": uri,
            }
        )
        if migration_address is not UNSET:
            field_dict["migration_address"] = migration_address
        if name is not UNSET:
            field_dict["name"] = name
        if peer_uri is not UNSET:
            field_dict["peer_uri"] = peer_uri
        if pool_id is not UNSET:
            field_dict["pool_id"] = pool_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        uri = d.pop("uri")

        def _parse_migration_address(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        migration_address = _parse_migration_address(d.pop("migration_address", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_peer_uri(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        peer_uri = _parse_peer_uri(d.pop("peer_uri", UNSET))

        def _parse_pool_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        pool_id = _parse_pool_id(d.pop("pool_id", UNSET))

        host_create = cls(
            uri=uri,
            migration_address=migration_address,
            name=name,
            peer_uri=peer_uri,
            pool_id=pool_id,
        )

        return host_create
