from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.vm_page import VmPage
from ...models.vm_state import VmState
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    host_id: int | None | Unset = UNSET,
    state: None | Unset | VmState = UNSET,
    pool_id: int | None | Unset = UNSET,
    name: None | str | Unset = UNSET,
    idle: bool | None | Unset = UNSET,
    after: int | Unset = 0,
    limit: int | Unset = 100,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_host_id: int | None | Unset
    if isinstance(host_id, Unset):
        json_host_id = UNSET
    else:
        json_host_id = host_id
    params["host_id"] = json_host_id

    json_state: None | str | Unset
    if isinstance(state, Unset):
        json_state = UNSET
    elif isinstance(state, VmState):
        json_state = state.value
    else:
        json_state = state
    params["state"] = json_state

    json_pool_id: int | None | Unset
    if isinstance(pool_id, Unset):
        json_pool_id = UNSET
    else:
        json_pool_id = pool_id
    params["pool_id"] = json_pool_id

    json_name: None | str | Unset
    if isinstance(name, Unset):
        json_name = UNSET
    else:
        json_name = name
    params["name"] = json_name

    json_idle: bool | None | Unset
    if isinstance(idle, Unset):
        json_idle = UNSET
    else:
        json_idle = idle
    params["idle"] = json_idle

    params["after"] = after

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/vms",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | VmPage | None:
    if response.status_code == 200:
        response_200 = VmPage.from_dict(response.json())

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
) -> Response[ErrorBody | VmPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    host_id: int | None | Unset = UNSET,
    state: None | Unset | VmState = UNSET,
    pool_id: int | None | Unset = UNSET,
    name: None | str | Unset = UNSET,
    idle: bool | None | Unset = UNSET,
    after: int | Unset = 0,
    limit: int | Unset = 100,
) -> Response[ErrorBody | VmPage]:
    """List Vms

     The VMs the caller may see (a project's token: its project's), by id. Filtering by
    host or pool is for admins.

    Args:
        host_id (int | None | Unset):
        state (None | Unset | VmState):
        pool_id (int | None | Unset):
        name (None | str | Unset): only the item with this name
        idle (bool | None | Unset): true: only the VMs reported idle by their pool's idle rule
            (idle_warned_at set); false: the others
        after (int | Unset): the last id of the previous page Default: 0.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | VmPage]
    """

    kwargs = _get_kwargs(
        host_id=host_id,
        state=state,
        pool_id=pool_id,
        name=name,
        idle=idle,
        after=after,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    host_id: int | None | Unset = UNSET,
    state: None | Unset | VmState = UNSET,
    pool_id: int | None | Unset = UNSET,
    name: None | str | Unset = UNSET,
    idle: bool | None | Unset = UNSET,
    after: int | Unset = 0,
    limit: int | Unset = 100,
) -> ErrorBody | VmPage | None:
    """List Vms

     The VMs the caller may see (a project's token: its project's), by id. Filtering by
    host or pool is for admins.

    Args:
        host_id (int | None | Unset):
        state (None | Unset | VmState):
        pool_id (int | None | Unset):
        name (None | str | Unset): only the item with this name
        idle (bool | None | Unset): true: only the VMs reported idle by their pool's idle rule
            (idle_warned_at set); false: the others
        after (int | Unset): the last id of the previous page Default: 0.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | VmPage
    """

    return sync_detailed(
        client=client,
        host_id=host_id,
        state=state,
        pool_id=pool_id,
        name=name,
        idle=idle,
        after=after,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    host_id: int | None | Unset = UNSET,
    state: None | Unset | VmState = UNSET,
    pool_id: int | None | Unset = UNSET,
    name: None | str | Unset = UNSET,
    idle: bool | None | Unset = UNSET,
    after: int | Unset = 0,
    limit: int | Unset = 100,
) -> Response[ErrorBody | VmPage]:
    """List Vms

     The VMs the caller may see (a project's token: its project's), by id. Filtering by
    host or pool is for admins.

    Args:
        host_id (int | None | Unset):
        state (None | Unset | VmState):
        pool_id (int | None | Unset):
        name (None | str | Unset): only the item with this name
        idle (bool | None | Unset): true: only the VMs reported idle by their pool's idle rule
            (idle_warned_at set); false: the others
        after (int | Unset): the last id of the previous page Default: 0.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | VmPage]
    """

    kwargs = _get_kwargs(
        host_id=host_id,
        state=state,
        pool_id=pool_id,
        name=name,
        idle=idle,
        after=after,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    host_id: int | None | Unset = UNSET,
    state: None | Unset | VmState = UNSET,
    pool_id: int | None | Unset = UNSET,
    name: None | str | Unset = UNSET,
    idle: bool | None | Unset = UNSET,
    after: int | Unset = 0,
    limit: int | Unset = 100,
) -> ErrorBody | VmPage | None:
    """List Vms

     The VMs the caller may see (a project's token: its project's), by id. Filtering by
    host or pool is for admins.

    Args:
        host_id (int | None | Unset):
        state (None | Unset | VmState):
        pool_id (int | None | Unset):
        name (None | str | Unset): only the item with this name
        idle (bool | None | Unset): true: only the VMs reported idle by their pool's idle rule
            (idle_warned_at set); false: the others
        after (int | Unset): the last id of the previous page Default: 0.
        limit (int | Unset):  Default: 100.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | VmPage
    """

    return (
        await asyncio_detailed(
            client=client,
            host_id=host_id,
            state=state,
            pool_id=pool_id,
            name=name,
            idle=idle,
            after=after,
            limit=limit,
        )
    ).parsed
