from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.capacity_out import CapacityOut
from ...models.error_body import ErrorBody
from ...types import UNSET, Response, Unset


def _get_kwargs(
    pool_id: int,
    *,
    vcpus: int,
    memory_mib: int,
    disk_gib: int | Unset = 0,
    guaranteed: bool | Unset = False,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["vcpus"] = vcpus

    params["memory_mib"] = memory_mib

    params["disk_gib"] = disk_gib

    params["guaranteed"] = guaranteed

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/pools/{pool_id}/capacity".format(
            pool_id=quote(str(pool_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CapacityOut | ErrorBody | None:
    if response.status_code == 200:
        response_200 = CapacityOut.from_dict(response.json())

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
) -> Response[CapacityOut | ErrorBody]:
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
    vcpus: int,
    memory_mib: int,
    disk_gib: int | Unset = 0,
    guaranteed: bool | Unset = False,
) -> Response[CapacityOut | ErrorBody]:
    """Get Pool Capacity

     How many more VMs of this size fit, per host and in total (like Ganeti's hspace).

    Args:
        pool_id (int):
        vcpus (int):
        memory_mib (int):
        disk_gib (int | Unset):  Default: 0.
        guaranteed (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CapacityOut | ErrorBody]
    """

    kwargs = _get_kwargs(
        pool_id=pool_id,
        vcpus=vcpus,
        memory_mib=memory_mib,
        disk_gib=disk_gib,
        guaranteed=guaranteed,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    pool_id: int,
    *,
    client: AuthenticatedClient,
    vcpus: int,
    memory_mib: int,
    disk_gib: int | Unset = 0,
    guaranteed: bool | Unset = False,
) -> CapacityOut | ErrorBody | None:
    """Get Pool Capacity

     How many more VMs of this size fit, per host and in total (like Ganeti's hspace).

    Args:
        pool_id (int):
        vcpus (int):
        memory_mib (int):
        disk_gib (int | Unset):  Default: 0.
        guaranteed (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CapacityOut | ErrorBody
    """

    return sync_detailed(
        pool_id=pool_id,
        client=client,
        vcpus=vcpus,
        memory_mib=memory_mib,
        disk_gib=disk_gib,
        guaranteed=guaranteed,
    ).parsed


async def asyncio_detailed(
    pool_id: int,
    *,
    client: AuthenticatedClient,
    vcpus: int,
    memory_mib: int,
    disk_gib: int | Unset = 0,
    guaranteed: bool | Unset = False,
) -> Response[CapacityOut | ErrorBody]:
    """Get Pool Capacity

     How many more VMs of this size fit, per host and in total (like Ganeti's hspace).

    Args:
        pool_id (int):
        vcpus (int):
        memory_mib (int):
        disk_gib (int | Unset):  Default: 0.
        guaranteed (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CapacityOut | ErrorBody]
    """

    kwargs = _get_kwargs(
        pool_id=pool_id,
        vcpus=vcpus,
        memory_mib=memory_mib,
        disk_gib=disk_gib,
        guaranteed=guaranteed,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    pool_id: int,
    *,
    client: AuthenticatedClient,
    vcpus: int,
    memory_mib: int,
    disk_gib: int | Unset = 0,
    guaranteed: bool | Unset = False,
) -> CapacityOut | ErrorBody | None:
    """Get Pool Capacity

     How many more VMs of this size fit, per host and in total (like Ganeti's hspace).

    Args:
        pool_id (int):
        vcpus (int):
        memory_mib (int):
        disk_gib (int | Unset):  Default: 0.
        guaranteed (bool | Unset):  Default: False.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CapacityOut | ErrorBody
    """

    return (
        await asyncio_detailed(
            pool_id=pool_id,
            client=client,
            vcpus=vcpus,
            memory_mib=memory_mib,
            disk_gib=disk_gib,
            guaranteed=guaranteed,
        )
    ).parsed
