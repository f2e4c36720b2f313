import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.event_list import EventList
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    kind: None | str | Unset = UNSET,
    actor: None | str | Unset = UNSET,
    subject: None | str | Unset = UNSET,
    project_id: int | None | Unset = UNSET,
    request: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    before: int | None | Unset = UNSET,
    limit: int | Unset = 100,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_kind: None | str | Unset
    if isinstance(kind, Unset):
        json_kind = UNSET
    else:
        json_kind = kind
    params["kind"] = json_kind

    json_actor: None | str | Unset
    if isinstance(actor, Unset):
        json_actor = UNSET
    else:
        json_actor = actor
    params["actor"] = json_actor

    json_subject: None | str | Unset
    if isinstance(subject, Unset):
        json_subject = UNSET
    else:
        json_subject = subject
    params["subject"] = json_subject

    json_project_id: int | None | Unset
    if isinstance(project_id, Unset):
        json_project_id = UNSET
    else:
        json_project_id = project_id
    params["project_id"] = json_project_id

    json_request: None | str | Unset
    if isinstance(request, Unset):
        json_request = UNSET
    else:
        json_request = request
    params["request"] = json_request

    json_since: None | str | Unset
    if isinstance(since, Unset):
        json_since = UNSET
    elif isinstance(since, datetime.datetime):
        json_since = since.isoformat()
    else:
        json_since = since
    params["since"] = json_since

    json_until: None | str | Unset
    if isinstance(until, Unset):
        json_until = UNSET
    elif isinstance(until, datetime.datetime):
        json_until = until.isoformat()
    else:
        json_until = until
    params["until"] = json_until

    json_before: int | None | Unset
    if isinstance(before, Unset):
        json_before = UNSET
    else:
        json_before = before
    params["before"] = json_before

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/events",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | EventList | None:
    if response.status_code == 200:
        response_200 = EventList.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorBody.from_dict(response.json())

        return response_403

    if response.status_code == 413:
        response_413 = ErrorBody.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | EventList]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    kind: None | str | Unset = UNSET,
    actor: None | str | Unset = UNSET,
    subject: None | str | Unset = UNSET,
    project_id: int | None | Unset = UNSET,
    request: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    before: int | None | Unset = UNSET,
    limit: int | Unset = 100,
) -> Response[ErrorBody | EventList]:
    """List Events

     The audit trail, newest first: who changed what (every mutating API call, with its
    outcome and request id) and what the sync found. The next page: `before` = the last id
    of this one. A project's token sees its project's events only.

    Args:
        kind (None | str | Unset): e.g. api.call
        actor (None | str | Unset): a token name
        subject (None | str | Unset): e.g. vm/3, /v1/vms
        project_id (int | None | Unset):
        request (None | str | Unset): a request id (the X-Request-ID header)
        since (datetime.datetime | None | Unset): at or after (ISO 8601)
        until (datetime.datetime | None | Unset): before (ISO 8601)
        before (int | None | Unset):
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | EventList]
    """

    kwargs = _get_kwargs(
        kind=kind,
        actor=actor,
        subject=subject,
        project_id=project_id,
        request=request,
        since=since,
        until=until,
        before=before,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    kind: None | str | Unset = UNSET,
    actor: None | str | Unset = UNSET,
    subject: None | str | Unset = UNSET,
    project_id: int | None | Unset = UNSET,
    request: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    before: int | None | Unset = UNSET,
    limit: int | Unset = 100,
) -> ErrorBody | EventList | None:
    """List Events

     The audit trail, newest first: who changed what (every mutating API call, with its
    outcome and request id) and what the sync found. The next page: `before` = the last id
    of this one. A project's token sees its project's events only.

    Args:
        kind (None | str | Unset): e.g. api.call
        actor (None | str | Unset): a token name
        subject (None | str | Unset): e.g. vm/3, /v1/vms
        project_id (int | None | Unset):
        request (None | str | Unset): a request id (the X-Request-ID header)
        since (datetime.datetime | None | Unset): at or after (ISO 8601)
        until (datetime.datetime | None | Unset): before (ISO 8601)
        before (int | None | Unset):
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | EventList
    """

    return sync_detailed(
        client=client,
        kind=kind,
        actor=actor,
        subject=subject,
        project_id=project_id,
        request=request,
        since=since,
        until=until,
        before=before,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    kind: None | str | Unset = UNSET,
    actor: None | str | Unset = UNSET,
    subject: None | str | Unset = UNSET,
    project_id: int | None | Unset = UNSET,
    request: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    before: int | None | Unset = UNSET,
    limit: int | Unset = 100,
) -> Response[ErrorBody | EventList]:
    """List Events

     The audit trail, newest first: who changed what (every mutating API call, with its
    outcome and request id) and what the sync found. The next page: `before` = the last id
    of this one. A project's token sees its project's events only.

    Args:
        kind (None | str | Unset): e.g. api.call
        actor (None | str | Unset): a token name
        subject (None | str | Unset): e.g. vm/3, /v1/vms
        project_id (int | None | Unset):
        request (None | str | Unset): a request id (the X-Request-ID header)
        since (datetime.datetime | None | Unset): at or after (ISO 8601)
        until (datetime.datetime | None | Unset): before (ISO 8601)
        before (int | None | Unset):
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | EventList]
    """

    kwargs = _get_kwargs(
        kind=kind,
        actor=actor,
        subject=subject,
        project_id=project_id,
        request=request,
        since=since,
        until=until,
        before=before,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    kind: None | str | Unset = UNSET,
    actor: None | str | Unset = UNSET,
    subject: None | str | Unset = UNSET,
    project_id: int | None | Unset = UNSET,
    request: None | str | Unset = UNSET,
    since: datetime.datetime | None | Unset = UNSET,
    until: datetime.datetime | None | Unset = UNSET,
    before: int | None | Unset = UNSET,
    limit: int | Unset = 100,
) -> ErrorBody | EventList | None:
    """List Events

     The audit trail, newest first: who changed what (every mutating API call, with its
    outcome and request id) and what the sync found. The next page: `before` = the last id
    of this one. A project's token sees its project's events only.

    Args:
        kind (None | str | Unset): e.g. api.call
        actor (None | str | Unset): a token name
        subject (None | str | Unset): e.g. vm/3, /v1/vms
        project_id (int | None | Unset):
        request (None | str | Unset): a request id (the X-Request-ID header)
        since (datetime.datetime | None | Unset): at or after (ISO 8601)
        until (datetime.datetime | None | Unset): before (ISO 8601)
        before (int | None | Unset):
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | EventList
    """

    return (
        await asyncio_detailed(
            client=client,
            kind=kind,
            actor=actor,
            subject=subject,
            project_id=project_id,
            request=request,
            since=since,
            until=until,
            before=before,
            limit=limit,
        )
    ).parsed
