from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.strategy import Strategy
from ..types import UNSET, Unset

T = TypeVar("T", bound="PlanCreate")


@_attrs_define
class PlanCreate:
    """
    Attributes:
        dry_run (bool | Unset): answer with the plan without storing it Default: False.
        max_memory_mib (int | None | Unset): default: the pool's (0: no memory budget)
        max_moves (int | None | Unset): default: the pool's
        min_gain (float | None | Unset): default: the pool's
        strategy (None | Strategy | Unset): default: the pool's
    """

    dry_run: bool | Unset = False
    max_memory_mib: int | None | Unset = UNSET
    max_moves: int | None | Unset = UNSET
    min_gain: float | None | Unset = UNSET
    strategy: None | Strategy | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        dry_run = self.dry_run

        max_memory_mib: int | None | Unset
        if isinstance(self.max_memory_mib, Unset):
            max_memory_mib = UNSET
        else:
            max_memory_mib = self.max_memory_mib

        max_moves: int | None | Unset
        if isinstance(self.max_moves, Unset):
            max_moves = UNSET
        else:
            max_moves = self.max_moves

        min_gain: float | None | Unset
        if isinstance(self.min_gain, Unset):
            min_gain = UNSET
        else:
            min_gain = self.min_gain

        strategy: None | str | Unset
        if isinstance(self.strategy, Unset):
            strategy = UNSET
        elif isinstance(self.strategy, Strategy):
            strategy = self.strategy.value
        else:
            strategy = self.strategy

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if dry_run is not UNSET:
            field_dict["dry_run"] = dry_run
        if max_memory_mib is not UNSET:
            field_dict["max_memory_mib"] = max_memory_mib
        if max_moves is not UNSET:
            field_dict["max_moves"] = max_moves
        if min_gain is not UNSET:
            field_dict["min_gain"] = min_gain
        if strategy is not UNSET:
            field_dict["strategy"] = strategy

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        dry_run = d.pop("dry_run", UNSET)

        def _parse_max_memory_mib(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_memory_mib = _parse_max_memory_mib(d.pop("max_memory_mib", UNSET))

        def _parse_max_moves(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_moves = _parse_max_moves(d.pop("max_moves", UNSET))

        def _parse_min_gain(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        min_gain = _parse_min_gain(d.pop("min_gain", UNSET))

        def _parse_strategy(data: object) -> None | Strategy | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                strategy_type_0 = Strategy(data)

                return strategy_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Strategy | Unset, data)

        strategy = _parse_strategy(d.pop("strategy", UNSET))

        plan_create = cls(
            dry_run=dry_run,
            max_memory_mib=max_memory_mib,
            max_moves=max_moves,
            min_gain=min_gain,
            strategy=strategy,
        )

        return plan_create
