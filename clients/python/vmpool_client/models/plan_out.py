from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.plan_out_components_after import PlanOutComponentsAfter
    from ..models.plan_out_components_before import PlanOutComponentsBefore
    from ..models.plan_step_out import PlanStepOut


T = TypeVar("T", bound="PlanOut")


@_attrs_define
class PlanOut:
    """
    Attributes:
        actor (str):
        approved_at (datetime.datetime | None):
        approved_by (None | str):
        components_after (PlanOutComponentsAfter):
        components_before (PlanOutComponentsBefore):
        created_at (datetime.datetime):
        disk_gib_moved (float): GiB of local disks the moves copy, at most (copies are incremental)
        emptied_hosts (list[str]): of those, the ones the plan empties
        empty_hosts (list[str]): up hosts without VMs after the plan
        finished_at (datetime.datetime | None):
        id (int | None): null for a dry run, which is not stored
        min_gain (float):
        note (None | str):
        origin (str): scheduled (the loop) | api
        planning_ms (float | None):
        pool_id (int):
        score_after (float): the score the plan expects
        score_before (float):
        score_final (float | None): the score measured when the plan ended
        state (str): proposed | running | completed | cancelled | superseded (or dry-run)
        steps (list[PlanStepOut]):
        stopped_because (str):
        strategy (str):
    """

    actor: str
    approved_at: datetime.datetime | None
    approved_by: None | str
    components_after: PlanOutComponentsAfter
    components_before: PlanOutComponentsBefore
    created_at: datetime.datetime
    disk_gib_moved: float
    emptied_hosts: list[str]
    empty_hosts: list[str]
    finished_at: datetime.datetime | None
    id: int | None
    min_gain: float
    note: None | str
    origin: str
    planning_ms: float | None
    pool_id: int
    score_after: float
    score_before: float
    score_final: float | None
    state: str
    steps: list[PlanStepOut]
    stopped_because: str
    strategy: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        actor = self.actor

        approved_at: None | str
        if isinstance(self.approved_at, datetime.datetime):
            approved_at = self.approved_at.isoformat()
        else:
            approved_at = self.approved_at

        approved_by: None | str
        approved_by = self.approved_by

        components_after = self.components_after.to_dict()

        components_before = self.components_before.to_dict()

        created_at = self.created_at.isoformat()

        disk_gib_moved = self.disk_gib_moved

        emptied_hosts = self.emptied_hosts

        empty_hosts = self.empty_hosts

        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        id: int | None
        id = self.id

        min_gain = self.min_gain

        note: None | str
        note = self.note

        origin = self.origin

        planning_ms: float | None
        planning_ms = self.planning_ms

        pool_id = self.pool_id

        score_after = self.score_after

        score_before = self.score_before

        score_final: float | None
        score_final = self.score_final

        state = self.state

        steps = []
        for steps_item_data in self.steps:
            steps_item = steps_item_data.to_dict()
            steps.append(steps_item)

        stopped_because = self.stopped_because

        strategy = self.strategy

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "actor": actor,
                "approved_at": approved_at,
                "approved_by": approved_by,
                "components_after": components_after,
                "components_before": components_before,
                "created_at": created_at,
                "disk_gib_moved": disk_gib_moved,
                "emptied_hosts": emptied_hosts,
                "empty_hosts": empty_hosts,
                "finished_at": finished_at,
                "id": id,
                "min_gain": min_gain,
                "note": note,
                "origin": origin,
                "planning_ms": planning_ms,
                "pool_id": pool_id,
                "score_after": score_after,
                "score_before": score_before,
                "score_final": score_final,
                "state": state,
                "steps": steps,
                "stopped_because": stopped_because,
                "strategy": strategy,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.plan_out_components_after import PlanOutComponentsAfter  # noqa: PLC0415
        from ..models.plan_out_components_before import PlanOutComponentsBefore  # noqa: PLC0415
        from ..models.plan_step_out import PlanStepOut  # noqa: PLC0415

        d = dict(src_dict)
        actor = d.pop("actor")

        def _parse_approved_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                approved_at_type_0 = datetime.datetime.fromisoformat(data)

                return approved_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        approved_at = _parse_approved_at(d.pop("approved_at"))

        def _parse_approved_by(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        approved_by = _parse_approved_by(d.pop("approved_by"))

        components_after = PlanOutComponentsAfter.from_dict(d.pop("components_after"))

        components_before = PlanOutComponentsBefore.from_dict(d.pop("components_before"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        disk_gib_moved = d.pop("disk_gib_moved")

        emptied_hosts = cast(list[str], d.pop("emptied_hosts"))

        empty_hosts = cast(list[str], d.pop("empty_hosts"))

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

        def _parse_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        id = _parse_id(d.pop("id"))

        min_gain = d.pop("min_gain")

        def _parse_note(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        note = _parse_note(d.pop("note"))

        origin = d.pop("origin")

        def _parse_planning_ms(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        planning_ms = _parse_planning_ms(d.pop("planning_ms"))

        pool_id = d.pop("pool_id")

        score_after = d.pop("score_after")

        score_before = d.pop("score_before")

        def _parse_score_final(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        score_final = _parse_score_final(d.pop("score_final"))

        state = d.pop("state")

        steps = []
        _steps = d.pop("steps")
        for steps_item_data in _steps:
            steps_item = PlanStepOut.from_dict(steps_item_data)

            steps.append(steps_item)

        stopped_because = d.pop("stopped_because")

        strategy = d.pop("strategy")

        plan_out = cls(
            actor=actor,
            approved_at=approved_at,
            approved_by=approved_by,
            components_after=components_after,
            components_before=components_before,
            created_at=created_at,
            disk_gib_moved=disk_gib_moved,
            emptied_hosts=emptied_hosts,
            empty_hosts=empty_hosts,
            finished_at=finished_at,
            id=id,
            min_gain=min_gain,
            note=note,
            origin=origin,
            planning_ms=planning_ms,
            pool_id=pool_id,
            score_after=score_after,
            score_before=score_before,
            score_final=score_final,
            state=state,
            steps=steps,
            stopped_because=stopped_because,
            strategy=strategy,
        )

        plan_out.additional_properties = d
        return plan_out

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
