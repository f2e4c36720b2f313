from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="LoadOut")


@_attrs_define
class LoadOut:
    """
    Attributes:
        cpu_usage (float | None): busy share of its CPUs over the last interval
        cpu_usage_avg (float | None): smoothed over window_s (time constant)
        kind (str): host or vm
        memory_used_mib (int | None): VMs: resident memory, where reported
        sampled_at (datetime.datetime | None): null: not sampled yet
        samples (int):
        subject_id (int):
        window_s (float):
    """

    cpu_usage: float | None
    cpu_usage_avg: float | None
    kind: str
    memory_used_mib: int | None
    sampled_at: datetime.datetime | None
    samples: int
    subject_id: int
    window_s: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cpu_usage: float | None
        cpu_usage = self.cpu_usage

        cpu_usage_avg: float | None
        cpu_usage_avg = self.cpu_usage_avg

        kind = self.kind

        memory_used_mib: int | None
        memory_used_mib = self.memory_used_mib

        sampled_at: None | str
        if isinstance(self.sampled_at, datetime.datetime):
            sampled_at = self.sampled_at.isoformat()
        else:
            sampled_at = self.sampled_at

        samples = self.samples

        subject_id = self.subject_id

        window_s = self.window_s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cpu_usage": cpu_usage,
                "cpu_usage_avg": cpu_usage_avg,
                "kind": kind,
                "memory_used_mib": memory_used_mib,
                "sampled_at": sampled_at,
                "samples": samples,
                "subject_id": subject_id,
                "window_s": window_s,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_cpu_usage(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        cpu_usage = _parse_cpu_usage(d.pop("cpu_usage"))

        def _parse_cpu_usage_avg(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        cpu_usage_avg = _parse_cpu_usage_avg(d.pop("cpu_usage_avg"))

        kind = d.pop("kind")

        def _parse_memory_used_mib(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        memory_used_mib = _parse_memory_used_mib(d.pop("memory_used_mib"))

        def _parse_sampled_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                sampled_at_type_0 = datetime.datetime.fromisoformat(data)

                return sampled_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        sampled_at = _parse_sampled_at(d.pop("sampled_at"))

        samples = d.pop("samples")

        subject_id = d.pop("subject_id")

        window_s = d.pop("window_s")

        load_out = cls(
            cpu_usage=cpu_usage,
            cpu_usage_avg=cpu_usage_avg,
            kind=kind,
            memory_used_mib=memory_used_mib,
            sampled_at=sampled_at,
            samples=samples,
            subject_id=subject_id,
            window_s=window_s,
        )

        load_out.additional_properties = d
        return load_out

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
