from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.migration_out import MigrationOut
from ...types import Response


def _get_kwargs(
    migration_id: int,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/migrations/{migration_id}/cancel".format(
            migration_id=quote(str(migration_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | MigrationOut | None:
    if response.status_code == 202:
        response_202 = MigrationOut.from_dict(response.json())

        return response_202

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

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())

        return response_409

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
) -> Response[ErrorBody | MigrationOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    migration_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[ErrorBody | MigrationOut]:
    """Cancel Migration

     Abort the job; the VM keeps running on its source.

    Args:
        migration_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | MigrationOut]
    """

    kwargs = _get_kwargs(
        migration_id=migration_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    migration_id: int,
    *,
    client: AuthenticatedClient,
) -> ErrorBody | MigrationOut | None:
    """Cancel Migration

     Abort the job; the VM keeps running on its source.

    Args:
        migration_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | MigrationOut
    """

    return sync_detailed(
        migration_id=migration_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    migration_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[ErrorBody | MigrationOut]:
    """Cancel Migration

     Abort the job; the VM keeps running on its source.

    Args:
        migration_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | MigrationOut]
    """

    kwargs = _get_kwargs(
        migration_id=migration_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    migration_id: int,
    *,
    client: AuthenticatedClient,
) -> ErrorBody | MigrationOut | None:
    """Cancel Migration

     Abort the job; the VM keeps running on its source.

    Args:
        migration_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | MigrationOut
    """

    return (
        await asyncio_detailed(
            migration_id=migration_id,
            client=client,
        )
    ).parsed
