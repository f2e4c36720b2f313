from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PlanStepOut")


@_attrs_define
class PlanStepOut:
    """
    Attributes:
        detail (None | str): why a step was skipped or failed
        finished_at (datetime.datetime | None):
        memory_mib (float):
        migration_id (int | None):
        reason (str): evacuate | soft-group | balance | consolidate
        score_after (float):
        score_before (float):
        seq (int):
        source_host (str):
        started_at (datetime.datetime | None):
        state (str): pending | running | completed | skipped | failed | cancelled
        target_host (str):
        vm_id (int | None):
        vm_name (str):
    """

    detail: None | str
    finished_at: datetime.datetime | None
    memory_mib: float
    migration_id: int | None
    reason: str
    score_after: float
    score_before: float
    seq: int
    source_host: str
    started_at: datetime.datetime | None
    state: str
    target_host: str
    vm_id: int | None
    vm_name: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        detail: None | str
        detail = self.detail

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        memory_mib = self.memory_mib

        migration_id: int | None
        migration_id = self.migration_id

        reason = self.reason

        score_after = self.score_after

        score_before = self.score_before

        seq = self.seq

        source_host = self.source_host

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        state = self.state

        target_host = self.target_host

        vm_id: int | None
        vm_id = self.vm_id

        vm_name = self.vm_name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "detail": detail,
                "finished_at": finished_at,
                "memory_mib": memory_mib,
                "migration_id": migration_id,
                "reason": reason,
                "score_after": score_after,
                "score_before": score_before,
                "seq": seq,
                "source_host": source_host,
                "started_at": started_at,
                "state": state,
                "target_host": target_host,
                "vm_id": vm_id,
                "vm_name": vm_name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_detail(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        detail = _parse_detail(d.pop("detail"))

        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        memory_mib = d.pop("memory_mib")

        def _parse_migration_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        migration_id = _parse_migration_id(d.pop("migration_id"))

        reason = d.pop("reason")

        score_after = d.pop("score_after")

        score_before = d.pop("score_before")

        seq = d.pop("seq")

        source_host = d.pop("source_host")

        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))

        state = d.pop("state")

        target_host = d.pop("target_host")

        def _parse_vm_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        vm_id = _parse_vm_id(d.pop("vm_id"))

        vm_name = d.pop("vm_name")

        plan_step_out = cls(
            detail=detail,
            finished_at=finished_at,
            memory_mib=memory_mib,
            migration_id=migration_id,
            reason=reason,
            score_after=score_after,
            score_before=score_before,
            seq=seq,
            source_host=source_host,
            started_at=started_at,
            state=state,
            target_host=target_host,
            vm_id=vm_id,
            vm_name=vm_name,
        )

        plan_step_out.additional_properties = d
        return plan_step_out

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
