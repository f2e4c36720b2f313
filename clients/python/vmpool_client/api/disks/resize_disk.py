from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.disk_out import DiskOut
from ...models.disk_resize import DiskResize
from ...models.error_body import ErrorBody
from ...types import UNSET, Response, Unset


def _get_kwargs(
    vm_id: int,
    disk_id: int,
    *,
    body: DiskResize,
    if_match: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/vms/{vm_id}/disks/{disk_id}".format(
            vm_id=quote(str(vm_id), safe=""),
            disk_id=quote(str(disk_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DiskOut | ErrorBody | None:
    if response.status_code == 200:
        response_200 = DiskOut.from_dict(response.json())

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

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())

        return response_409

    if response.status_code == 412:
        response_412 = ErrorBody.from_dict(response.json())

        return response_412

    if response.status_code == 413:
        response_413 = ErrorBody.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())

        return response_422

    if response.status_code == 502:
        response_502 = ErrorBody.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[DiskOut | ErrorBody]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    vm_id: int,
    disk_id: int,
    *,
    client: AuthenticatedClient,
    body: DiskResize,
    if_match: None | str | Unset = UNSET,
) -> Response[DiskOut | ErrorBody]:
    """Resize Disk

     Grow the disk, online if the VM runs (the guest sees the new size at once). A smaller
    size is refused: data past the new end would be lost. With If-Match, only if the disk's
    ETag still matches (else 412).

    Args:
        vm_id (int):
        disk_id (int):
        if_match (None | str | Unset): Apply the change only if the resource's current ETag is one
            of these (`"..."`, comma-separated) or, with `*`, if it exists; otherwise 412 and nothing
            is changed. Malformed: 400.
        body (DiskResize):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DiskOut | ErrorBody]
    """

    kwargs = _get_kwargs(
        vm_id=vm_id,
        disk_id=disk_id,
        body=body,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    vm_id: int,
    disk_id: int,
    *,
    client: AuthenticatedClient,
    body: DiskResize,
    if_match: None | str | Unset = UNSET,
) -> DiskOut | ErrorBody | None:
    """Resize Disk

     Grow the disk, online if the VM runs (the guest sees the new size at once). A smaller
    size is refused: data past the new end would be lost. With If-Match, only if the disk's
    ETag still matches (else 412).

    Args:
        vm_id (int):
        disk_id (int):
        if_match (None | str | Unset): Apply the change only if the resource's current ETag is one
            of these (`"..."`, comma-separated) or, with `*`, if it exists; otherwise 412 and nothing
            is changed. Malformed: 400.
        body (DiskResize):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DiskOut | ErrorBody
    """

    return sync_detailed(
        vm_id=vm_id,
        disk_id=disk_id,
        client=client,
        body=body,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    vm_id: int,
    disk_id: int,
    *,
    client: AuthenticatedClient,
    body: DiskResize,
    if_match: None | str | Unset = UNSET,
) -> Response[DiskOut | ErrorBody]:
    """Resize Disk

     Grow the disk, online if the VM runs (the guest sees the new size at once). A smaller
    size is refused: data past the new end would be lost. With If-Match, only if the disk's
    ETag still matches (else 412).

    Args:
        vm_id (int):
        disk_id (int):
        if_match (None | str | Unset): Apply the change only if the resource's current ETag is one
            of these (`"..."`, comma-separated) or, with `*`, if it exists; otherwise 412 and nothing
            is changed. Malformed: 400.
        body (DiskResize):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DiskOut | ErrorBody]
    """

    kwargs = _get_kwargs(
        vm_id=vm_id,
        disk_id=disk_id,
        body=body,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    vm_id: int,
    disk_id: int,
    *,
    client: AuthenticatedClient,
    body: DiskResize,
    if_match: None | str | Unset = UNSET,
) -> DiskOut | ErrorBody | None:
    """Resize Disk

     Grow the disk, online if the VM runs (the guest sees the new size at once). A smaller
    size is refused: data past the new end would be lost. With If-Match, only if the disk's
    ETag still matches (else 412).

    Args:
        vm_id (int):
        disk_id (int):
        if_match (None | str | Unset): Apply the change only if the resource's current ETag is one
            of these (`"..."`, comma-separated) or, with `*`, if it exists; otherwise 412 and nothing
            is changed. Malformed: 400.
        body (DiskResize):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DiskOut | ErrorBody
    """

    return (
        await asyncio_detailed(
            vm_id=vm_id,
            disk_id=disk_id,
            client=client,
            body=body,
            if_match=if_match,
        )
    ).parsed
