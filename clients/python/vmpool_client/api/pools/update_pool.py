from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.pool_out import PoolOut
from ...models.pool_policy_in import PoolPolicyIn
from ...types import UNSET, Response, Unset


def _get_kwargs(
    pool_id: int,
    *,
    body: PoolPolicyIn,
    if_match: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/pools/{pool_id}".format(
            pool_id=quote(str(pool_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | PoolOut | None:
    if response.status_code == 200:
        response_200 = PoolOut.from_dict(response.json())

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
) -> Response[ErrorBody | PoolOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    pool_id: int,
    *,
    client: AuthenticatedClient,
    body: PoolPolicyIn,
    if_match: None | str | Unset = UNSET,
) -> Response[ErrorBody | PoolOut]:
    """Update Pool

     Change the allocation policy; the change is recorded in the audit trail (/v1/events).
    With If-Match, only if the pool's ETag still matches (else 412).

    Args:
        pool_id (int):
        if_match (None | str | Unset): Apply the change only if the resource's current ETag is one
            of these (`"..."`, comma-separated) or, with `*`, if it exists; otherwise 412 and nothing
            is changed. Malformed: 400.
        body (PoolPolicyIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | PoolOut]
    """

    kwargs = _get_kwargs(
        pool_id=pool_id,
        body=body,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    pool_id: int,
    *,
    client: AuthenticatedClient,
    body: PoolPolicyIn,
    if_match: None | str | Unset = UNSET,
) -> ErrorBody | PoolOut | None:
    """Update Pool

     Change the allocation policy; the change is recorded in the audit trail (/v1/events).
    With If-Match, only if the pool's ETag still matches (else 412).

    Args:
        pool_id (int):
        if_match (None | str | Unset): Apply the change only if the resource's current ETag is one
            of these (`"..."`, comma-separated) or, with `*`, if it exists; otherwise 412 and nothing
            is changed. Malformed: 400.
        body (PoolPolicyIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | PoolOut
    """

    return sync_detailed(
        pool_id=pool_id,
        client=client,
        body=body,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    pool_id: int,
    *,
    client: AuthenticatedClient,
    body: PoolPolicyIn,
    if_match: None | str | Unset = UNSET,
) -> Response[ErrorBody | PoolOut]:
    """Update Pool

     Change the allocation policy; the change is recorded in the audit trail (/v1/events).
    With If-Match, only if the pool's ETag still matches (else 412).

    Args:
        pool_id (int):
        if_match (None | str | Unset): Apply the change only if the resource's current ETag is one
            of these (`"..."`, comma-separated) or, with `*`, if it exists; otherwise 412 and nothing
            is changed. Malformed: 400.
        body (PoolPolicyIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | PoolOut]
    """

    kwargs = _get_kwargs(
        pool_id=pool_id,
        body=body,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    pool_id: int,
    *,
    client: AuthenticatedClient,
    body: PoolPolicyIn,
    if_match: None | str | Unset = UNSET,
) -> ErrorBody | PoolOut | None:
    """Update Pool

     Change the allocation policy; the change is recorded in the audit trail (/v1/events).
    With If-Match, only if the pool's ETag still matches (else 412).

    Args:
        pool_id (int):
        if_match (None | str | Unset): Apply the change only if the resource's current ETag is one
            of these (`"..."`, comma-separated) or, with `*`, if it exists; otherwise 412 and nothing
            is changed. Malformed: 400.
        body (PoolPolicyIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | PoolOut
    """

    return (
        await asyncio_detailed(
            pool_id=pool_id,
            client=client,
            body=body,
            if_match=if_match,
        )
    ).parsed
