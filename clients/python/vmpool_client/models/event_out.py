from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.event_out_details import EventOutDetails


T = TypeVar("T", bound="EventOut")


@_attrs_define
class EventOut:
    """
    Attributes:
        actor (str):
        at (datetime.datetime):
        details (EventOutDetails):
        id (int):
        kind (str):
        project_id (int | None):
        request_id (None | str): the API request that made it (X-Request-ID)
        subject (str):
    """

    actor: str
    at: datetime.datetime
    details: EventOutDetails
    id: int
    kind: str
    project_id: int | None
    request_id: None | str
    subject: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:

        actor = self.actor

        at = self.at.isoformat()

        details = self.details.to_dict()

        id = self.id

        kind = self.kind

        project_id: int | None
        project_id = self.project_id

        request_id: None | str
        request_id = self.request_id

        subject = self.subject

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "actor": actor,
                "at": at,
                "details": details,
                "id": id,
                "kind": kind,
                "project_id": project_id,
                "request_id": request_id,
                "subject": subject,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_out_details import EventOutDetails  # noqa: PLC0415

        d = dict(src_dict)
        actor = d.pop("actor")

        at = datetime.datetime.fromisoformat(d.pop("at"))

        details = EventOutDetails.from_dict(d.pop("details"))

        id = d.pop("id")

        kind = d.pop("kind")

        def _parse_project_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        project_id = _parse_project_id(d.pop("project_id"))

        def _parse_request_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        request_id = _parse_request_id(d.pop("request_id"))

        subject = d.pop("subject")

        event_out = cls(
            actor=actor,
            at=at,
            details=details,
            id=id,
            kind=kind,
            project_id=project_id,
            request_id=request_id,
            subject=subject,
        )

        event_out.additional_properties = d
        return event_out

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
