from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.host_score_out import HostScoreOut
    from ..models.pool_score_out_components import PoolScoreOutComponents


T = TypeVar("T", bound="PoolScoreOut")


@_attrs_define
class PoolScoreOut:
    """
    Attributes:
        components (PoolScoreOutComponents):
        empty_hosts (list[str]):
        hosts (list[HostScoreOut]):
        pool_id (int):
        score (float): lower is better (docs/rebalance.md)
        strategy (str):
        warnings (list[str]):
    """

    components: PoolScoreOutComponents
    empty_hosts: list[str]
    hosts: list[HostScoreOut]
    pool_id: int
    score: float
    strategy: str
    warnings: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        components = self.components.to_dict()

        empty_hosts = self.empty_hosts

        hosts = []
        for hosts_item_data in self.hosts:
            hosts_item = hosts_item_data.to_dict()
            hosts.append(hosts_item)

        pool_id = self.pool_id

        score = self.score

        strategy = self.strategy

        warnings = self.warnings

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "components": components,
                "empty_hosts": empty_hosts,
                "hosts": hosts,
                "pool_id": pool_id,
                "score": score,
                "strategy": strategy,
                "warnings": warnings,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.host_score_out import HostScoreOut  # noqa: PLC0415
        from ..models.pool_score_out_components import PoolScoreOutComponents  # noqa: PLC0415

        d = dict(src_dict)
        components = PoolScoreOutComponents.from_dict(d.pop("components"))

        empty_hosts = cast(list[str], d.pop("empty_hosts"))

        hosts = []
        _hosts = d.pop("hosts")
        for hosts_item_data in _hosts:
            hosts_item = HostScoreOut.from_dict(hosts_item_data)

            hosts.append(hosts_item)

        pool_id = d.pop("pool_id")

        score = d.pop("score")

        strategy = d.pop("strategy")

        warnings = cast(list[str], d.pop("warnings"))

        pool_score_out = cls(
            components=components,
            empty_hosts=empty_hosts,
            hosts=hosts,
            pool_id=pool_id,
            score=score,
            strategy=strategy,
            warnings=warnings,
        )

        pool_score_out.additional_properties = d
        return pool_score_out

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
