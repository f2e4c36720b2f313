from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.snapshot_out import SnapshotOut
from ...types import Response


def _get_kwargs(
    vm_id: int,
    snapshot_id: int,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/vms/{vm_id}/snapshots/{snapshot_id}".format(
            vm_id=quote(str(vm_id), safe=""),
            snapshot_id=quote(str(snapshot_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | SnapshotOut | None:
    if response.status_code == 200:
        response_200 = SnapshotOut.from_dict(response.json())

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
) -> Response[ErrorBody | SnapshotOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    vm_id: int,
    snapshot_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[ErrorBody | SnapshotOut]:
    """Get Snapshot

    Args:
        vm_id (int):
        snapshot_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | SnapshotOut]
    """

    kwargs = _get_kwargs(
        vm_id=vm_id,
        snapshot_id=snapshot_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    vm_id: int,
    snapshot_id: int,
    *,
    client: AuthenticatedClient,
) -> ErrorBody | SnapshotOut | None:
    """Get Snapshot

    Args:
        vm_id (int):
        snapshot_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | SnapshotOut
    """

    return sync_detailed(
        vm_id=vm_id,
        snapshot_id=snapshot_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    vm_id: int,
    snapshot_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[ErrorBody | SnapshotOut]:
    """Get Snapshot

    Args:
        vm_id (int):
        snapshot_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | SnapshotOut]
    """

    kwargs = _get_kwargs(
        vm_id=vm_id,
        snapshot_id=snapshot_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    vm_id: int,
    snapshot_id: int,
    *,
    client: AuthenticatedClient,
) -> ErrorBody | SnapshotOut | None:
    """Get Snapshot

    Args:
        vm_id (int):
        snapshot_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | SnapshotOut
    """

    return (
        await asyncio_detailed(
            vm_id=vm_id,
            snapshot_id=snapshot_id,
            client=client,
        )
    ).parsed
