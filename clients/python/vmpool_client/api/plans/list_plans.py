from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.list_plans_state_type_0 import ListPlansStateType0
from ...models.plan_list import PlanList
from ...types import UNSET, Response, Unset


def _get_kwargs(
    pool_id: int,
    *,
    state: ListPlansStateType0 | None | Unset = UNSET,
    before: int | None | Unset = UNSET,
    limit: int | Unset = 20,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_state: None | str | Unset
    if isinstance(state, Unset):
        json_state = UNSET
    elif isinstance(state, ListPlansStateType0):
        json_state = state.value
    else:
        json_state = state
    params["state"] = json_state

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
        "url": "/v1/pools/{pool_id}/plans".format(
            pool_id=quote(str(pool_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | PlanList | None:
    if response.status_code == 200:
        response_200 = PlanList.from_dict(response.json())

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
) -> Response[ErrorBody | PlanList]:
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
    state: ListPlansStateType0 | None | Unset = UNSET,
    before: int | None | Unset = UNSET,
    limit: int | Unset = 20,
) -> Response[ErrorBody | PlanList]:
    """List Plans

     The pool's plans, newest first, with their steps and outcomes.

    Args:
        pool_id (int):
        state (ListPlansStateType0 | None | Unset):
        before (int | None | Unset): items older than this id
        limit (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | PlanList]
    """

    kwargs = _get_kwargs(
        pool_id=pool_id,
        state=state,
        before=before,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    pool_id: int,
    *,
    client: AuthenticatedClient,
    state: ListPlansStateType0 | None | Unset = UNSET,
    before: int | None | Unset = UNSET,
    limit: int | Unset = 20,
) -> ErrorBody | PlanList | None:
    """List Plans

     The pool's plans, newest first, with their steps and outcomes.

    Args:
        pool_id (int):
        state (ListPlansStateType0 | None | Unset):
        before (int | None | Unset): items older than this id
        limit (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | PlanList
    """

    return sync_detailed(
        pool_id=pool_id,
        client=client,
        state=state,
        before=before,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    pool_id: int,
    *,
    client: AuthenticatedClient,
    state: ListPlansStateType0 | None | Unset = UNSET,
    before: int | None | Unset = UNSET,
    limit: int | Unset = 20,
) -> Response[ErrorBody | PlanList]:
    """List Plans

     The pool's plans, newest first, with their steps and outcomes.

    Args:
        pool_id (int):
        state (ListPlansStateType0 | None | Unset):
        before (int | None | Unset): items older than this id
        limit (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | PlanList]
    """

    kwargs = _get_kwargs(
        pool_id=pool_id,
        state=state,
        before=before,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    pool_id: int,
    *,
    client: AuthenticatedClient,
    state: ListPlansStateType0 | None | Unset = UNSET,
    before: int | None | Unset = UNSET,
    limit: int | Unset = 20,
) -> ErrorBody | PlanList | None:
    """List Plans

     The pool's plans, newest first, with their steps and outcomes.

    Args:
        pool_id (int):
        state (ListPlansStateType0 | None | Unset):
        before (int | None | Unset): items older than this id
        limit (int | Unset):  Default: 20.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | PlanList
    """

    return (
        await asyncio_detailed(
            pool_id=pool_id,
            client=client,
            state=state,
            before=before,
            limit=limit,
        )
    ).parsed
