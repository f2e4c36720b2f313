from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.host_out import HostOut
from ...models.host_update import HostUpdate
from ...types import UNSET, Response, Unset


def _get_kwargs(
    host_id: int,
    *,
    body: HostUpdate,
    if_match: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/hosts/{host_id}".format(
            host_id=quote(str(host_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | HostOut | None:
    if response.status_code == 200:
        response_200 = HostOut.from_dict(response.json())

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

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())

        return response_404

    if response.status_code == 412:
        response_412 = ErrorBody.from_dict(response.json())

        return response_412

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
) -> Response[ErrorBody | HostOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    host_id: int,
    *,
    client: AuthenticatedClient,
    body: HostUpdate,
    if_match: None | str | Unset = UNSET,
) -> Response[ErrorBody | HostOut]:
    """Update Host

     Per-host ratio and reservation overrides (null clears one) and operator-set traits.
    With If-Match, only if the host's ETag still matches (else 412).

    Args:
        host_id (int):
        if_match (None | str | Unset): Apply the change only if the resource's current ETag is one
            of these (`"..."`, comma-separated) or, with `*`, if it exists; otherwise 412 and nothing
            is changed. Malformed: 400.
        body (HostUpdate): Per-host overrides; null clears one (back to the pool's value).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | HostOut]
    """

    kwargs = _get_kwargs(
        host_id=host_id,
        body=body,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    host_id: int,
    *,
    client: AuthenticatedClient,
    body: HostUpdate,
    if_match: None | str | Unset = UNSET,
) -> ErrorBody | HostOut | None:
    """Update Host

     Per-host ratio and reservation overrides (null clears one) and operator-set traits.
    With If-Match, only if the host's ETag still matches (else 412).

    Args:
        host_id (int):
        if_match (None | str | Unset): Apply the change only if the resource's current ETag is one
            of these (`"..."`, comma-separated) or, with `*`, if it exists; otherwise 412 and nothing
            is changed. Malformed: 400.
        body (HostUpdate): Per-host overrides; null clears one (back to the pool's value).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | HostOut
    """

    return sync_detailed(
        host_id=host_id,
        client=client,
        body=body,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    host_id: int,
    *,
    client: AuthenticatedClient,
    body: HostUpdate,
    if_match: None | str | Unset = UNSET,
) -> Response[ErrorBody | HostOut]:
    """Update Host

     Per-host ratio and reservation overrides (null clears one) and operator-set traits.
    With If-Match, only if the host's ETag still matches (else 412).

    Args:
        host_id (int):
        if_match (None | str | Unset): Apply the change only if the resource's current ETag is one
            of these (`"..."`, comma-separated) or, with `*`, if it exists; otherwise 412 and nothing
            is changed. Malformed: 400.
        body (HostUpdate): Per-host overrides; null clears one (back to the pool's value).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | HostOut]
    """

    kwargs = _get_kwargs(
        host_id=host_id,
        body=body,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    host_id: int,
    *,
    client: AuthenticatedClient,
    body: HostUpdate,
    if_match: None | str | Unset = UNSET,
) -> ErrorBody | HostOut | None:
    """Update Host

     Per-host ratio and reservation overrides (null clears one) and operator-set traits.
    With If-Match, only if the host's ETag still matches (else 412).

    Args:
        host_id (int):
        if_match (None | str | Unset): Apply the change only if the resource's current ETag is one
            of these (`"..."`, comma-separated) or, with `*`, if it exists; otherwise 412 and nothing
            is changed. Malformed: 400.
        body (HostUpdate): Per-host overrides; null clears one (back to the pool's value).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | HostOut
    """

    return (
        await asyncio_detailed(
            host_id=host_id,
            client=client,
            body=body,
            if_match=if_match,
        )
    ).parsed
