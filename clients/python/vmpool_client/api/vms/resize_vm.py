from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.vm_out import VmOut
from ...models.vm_resize import VmResize
from ...types import Response


def _get_kwargs(
    vm_id: int,
    *,
    body: VmResize,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/vms/{vm_id}".format(
            vm_id=quote(str(vm_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | VmOut | None:
    if response.status_code == 200:
        response_200 = VmOut.from_dict(response.json())

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
) -> Response[ErrorBody | VmOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    vm_id: int,
    *,
    client: AuthenticatedClient,
    body: VmResize,
) -> Response[ErrorBody | VmOut]:
    """Resize Vm

     Hot-plug: new vCPUs and/or memory within the VM's max_vcpus and max_memory_mib, live
    while it runs (vCPUs plugged or unplugged, memory through the balloon) and in its
    definition while it is stopped. A growth is claimed first: a 409 `no_capacity` says, per
    filter, why its host cannot take it (`quota_exceeded`: its project's quota); a shrink
    frees the capacity once the host confirmed it.

    Args:
        vm_id (int):
        body (VmResize): New current sizes, within the VM's maxima: live while it runs, in its
            definition
            while it is stopped. Fields not given stay.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | VmOut]
    """

    kwargs = _get_kwargs(
        vm_id=vm_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    vm_id: int,
    *,
    client: AuthenticatedClient,
    body: VmResize,
) -> ErrorBody | VmOut | None:
    """Resize Vm

     Hot-plug: new vCPUs and/or memory within the VM's max_vcpus and max_memory_mib, live
    while it runs (vCPUs plugged or unplugged, memory through the balloon) and in its
    definition while it is stopped. A growth is claimed first: a 409 `no_capacity` says, per
    filter, why its host cannot take it (`quota_exceeded`: its project's quota); a shrink
    frees the capacity once the host confirmed it.

    Args:
        vm_id (int):
        body (VmResize): New current sizes, within the VM's maxima: live while it runs, in its
            definition
            while it is stopped. Fields not given stay.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | VmOut
    """

    return sync_detailed(
        vm_id=vm_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    vm_id: int,
    *,
    client: AuthenticatedClient,
    body: VmResize,
) -> Response[ErrorBody | VmOut]:
    """Resize Vm

     Hot-plug: new vCPUs and/or memory within the VM's max_vcpus and max_memory_mib, live
    while it runs (vCPUs plugged or unplugged, memory through the balloon) and in its
    definition while it is stopped. A growth is claimed first: a 409 `no_capacity` says, per
    filter, why its host cannot take it (`quota_exceeded`: its project's quota); a shrink
    frees the capacity once the host confirmed it.

    Args:
        vm_id (int):
        body (VmResize): New current sizes, within the VM's maxima: live while it runs, in its
            definition
            while it is stopped. Fields not given stay.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | VmOut]
    """

    kwargs = _get_kwargs(
        vm_id=vm_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    vm_id: int,
    *,
    client: AuthenticatedClient,
    body: VmResize,
) -> ErrorBody | VmOut | None:
    """Resize Vm

     Hot-plug: new vCPUs and/or memory within the VM's max_vcpus and max_memory_mib, live
    while it runs (vCPUs plugged or unplugged, memory through the balloon) and in its
    definition while it is stopped. A growth is claimed first: a 409 `no_capacity` says, per
    filter, why its host cannot take it (`quota_exceeded`: its project's quota); a shrink
    frees the capacity once the host confirmed it.

    Args:
        vm_id (int):
        body (VmResize): New current sizes, within the VM's maxima: live while it runs, in its
            definition
            while it is stopped. Fields not given stay.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | VmOut
    """

    return (
        await asyncio_detailed(
            vm_id=vm_id,
            client=client,
            body=body,
        )
    ).parsed
