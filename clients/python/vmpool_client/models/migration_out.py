from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.migration_state import MigrationState

T = TypeVar("T", bound="MigrationOut")


@_attrs_define
class MigrationOut:
    """
    Attributes:
        allow_post_copy (bool):
        auto_converge (bool):
        bandwidth_mib_s (int | None):
        cancel_requested (bool):
        completion_timeout_s_per_gib (int):
        created_at (datetime.datetime):
        current_max_downtime_ms (int | None):
        data_processed (int | None):
        data_remaining (int | None):
        data_total (int | None): bytes
        downtime_ms (int | None): measured, once completed
        error (None | str):
        finished_at (datetime.datetime | None):
        id (int):
        iteration (int | None):
        max_downtime_ms (int):
        memory_dirty_rate (int | None): bytes per second
        post_copy (bool):
        reason (str): api or evacuation
        source_host (None | str): kept after the host is deleted
        source_host_id (int | None): null once the host is deleted
        started_at (datetime.datetime | None):
        state (MigrationState):
        storage (str):
        target_host (None | str):
        target_host_id (int | None):
        total_time_ms (int | None):
        vm_id (int):
        vm_name (str):
    """

    allow_post_copy: bool
    auto_converge: bool
    bandwidth_mib_s: int | None
    cancel_requested: bool
    completion_timeout_s_per_gib: int
    created_at: datetime.datetime
    current_max_downtime_ms: int | None
    data_processed: int | None
    data_remaining: int | None
    data_total: int | None
    downtime_ms: int | None
    error: None | str
    finished_at: datetime.datetime | None
    id: int
    iteration: int | None
    max_downtime_ms: int
    memory_dirty_rate: int | None
    post_copy: bool
    reason: str
    source_host: None | str
    source_host_id: int | None
    started_at: datetime.datetime | None
    state: MigrationState
    storage: str
    target_host: None | str
    target_host_id: int | None
    total_time_ms: int | None
    vm_id: int
    vm_name: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        allow_post_copy = self.allow_post_copy

        auto_converge = self.auto_converge

        bandwidth_mib_s: int | None
        bandwidth_mib_s = self.bandwidth_mib_s

        cancel_requested = self.cancel_requested

        completion_timeout_s_per_gib = self.completion_timeout_s_per_gib

        created_at = self.created_at.isoformat()

        current_max_downtime_ms: int | None
        current_max_downtime_ms = self.current_max_downtime_ms

        data_processed: int | None
        data_processed = self.data_processed

        data_remaining: int | None
        data_remaining = self.data_remaining

        data_total: int | None
        data_total = self.data_total

        downtime_ms: int | None
        downtime_ms = self.downtime_ms

        error: None | str
        error = self.error

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        id = self.id

        iteration: int | None
        iteration = self.iteration

        max_downtime_ms = self.max_downtime_ms

        memory_dirty_rate: int | None
        memory_dirty_rate = self.memory_dirty_rate

        post_copy = self.post_copy

        reason = self.reason

        source_host: None | str
        source_host = self.source_host

        source_host_id: int | None
        source_host_id = self.source_host_id

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        state = self.state.value

        storage = self.storage

        target_host: None | str
        target_host = self.target_host

        target_host_id: int | None
        target_host_id = self.target_host_id

        total_time_ms: int | None
        total_time_ms = self.total_time_ms

        vm_id = self.vm_id

        vm_name = self.vm_name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "allow_post_copy": allow_post_copy,
                "auto_converge": auto_converge,
                "bandwidth_mib_s": bandwidth_mib_s,
                "cancel_requested": cancel_requested,
                "completion_timeout_s_per_gib": completion_timeout_s_per_gib,
                "created_at": created_at,
                "current_max_downtime_ms": current_max_downtime_ms,
                "data_processed": data_processed,
                "data_remaining": data_remaining,
                "data_total": data_total,
                "downtime_ms": downtime_ms,
                "error": error,
                "finished_at": finished_at,
                "id": id,
                "iteration": iteration,
                "max_downtime_ms": max_downtime_ms,
                "memory_dirty_rate": memory_dirty_rate,
                "post_copy": post_copy,
                "reason": reason,
                "source_host": source_host,
                "source_host_id": source_host_id,
                "started_at": started_at,
                "state": state,
                "storage": storage,
                "target_host": target_host,
                "target_host_id": target_host_id,
                "total_time_ms": total_time_ms,
                "vm_id": vm_id,
                "vm_name": vm_name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        allow_post_copy = d.pop("allow_post_copy")

        auto_converge = d.pop("auto_converge")

        def _parse_bandwidth_mib_s(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        bandwidth_mib_s = _parse_bandwidth_mib_s(d.pop("bandwidth_mib_s"))

        cancel_requested = d.pop("cancel_requested")

        completion_timeout_s_per_gib = d.pop("completion_timeout_s_per_gib")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_current_max_downtime_ms(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        current_max_downtime_ms = _parse_current_max_downtime_ms(d.pop("current_max_downtime_ms"))

        def _parse_data_processed(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        data_processed = _parse_data_processed(d.pop("data_processed"))

        def _parse_data_remaining(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        data_remaining = _parse_data_remaining(d.pop("data_remaining"))

        def _parse_data_total(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        data_total = _parse_data_total(d.pop("data_total"))

        def _parse_downtime_ms(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        downtime_ms = _parse_downtime_ms(d.pop("downtime_ms"))

        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

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

        id = d.pop("id")

        def _parse_iteration(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        iteration = _parse_iteration(d.pop("iteration"))

        max_downtime_ms = d.pop("max_downtime_ms")

        def _parse_memory_dirty_rate(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        memory_dirty_rate = _parse_memory_dirty_rate(d.pop("memory_dirty_rate"))

        post_copy = d.pop("post_copy")

        reason = d.pop("reason")

        def _parse_source_host(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        source_host = _parse_source_host(d.pop("source_host"))

        def _parse_source_host_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        source_host_id = _parse_source_host_id(d.pop("source_host_id"))

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

        state = MigrationState(d.pop("state"))

        storage = d.pop("storage")

        def _parse_target_host(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        target_host = _parse_target_host(d.pop("target_host"))

        def _parse_target_host_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        target_host_id = _parse_target_host_id(d.pop("target_host_id"))

        def _parse_total_time_ms(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        total_time_ms = _parse_total_time_ms(d.pop("total_time_ms"))

        vm_id = d.pop("vm_id")

        vm_name = d.pop("vm_name")

        migration_out = cls(
            allow_post_copy=allow_post_copy,
            auto_converge=auto_converge,
            bandwidth_mib_s=bandwidth_mib_s,
            cancel_requested=cancel_requested,
            completion_timeout_s_per_gib=completion_timeout_s_per_gib,
            created_at=created_at,
            current_max_downtime_ms=current_max_downtime_ms,
            data_processed=data_processed,
            data_remaining=data_remaining,
            data_total=data_total,
            downtime_ms=downtime_ms,
            error=error,
            finished_at=finished_at,
            id=id,
            iteration=iteration,
            max_downtime_ms=max_downtime_ms,
            memory_dirty_rate=memory_dirty_rate,
            post_copy=post_copy,
            reason=reason,
            source_host=source_host,
            source_host_id=source_host_id,
            started_at=started_at,
            state=state,
            storage=storage,
            target_host=target_host,
            target_host_id=target_host_id,
            total_time_ms=total_time_ms,
            vm_id=vm_id,
            vm_name=vm_name,
        )

        migration_out.additional_properties = d
        return migration_out

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
