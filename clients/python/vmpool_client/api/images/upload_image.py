from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.disk_format import DiskFormat
from ...models.error_body import ErrorBody
from ...models.image_out import ImageOut
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    *,
    body: File,
    name: str,
    format_: DiskFormat | None | Unset = UNSET,
    sha256: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["name"] = name

    json_format_: None | str | Unset
    if isinstance(format_, Unset):
        json_format_ = UNSET
    elif isinstance(format_, DiskFormat):
        json_format_ = format_.value
    else:
        json_format_ = format_
    params["format"] = json_format_

    json_sha256: None | str | Unset
    if isinstance(sha256, Unset):
        json_sha256 = UNSET
    else:
        json_sha256 = sha256
    params["sha256"] = json_sha256

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/images",
        "params": params,
    }

    _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | ImageOut | None:
    if response.status_code == 201:
        response_201 = ImageOut.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorBody.from_dict(response.json())

        return response_403

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
) -> Response[ErrorBody | ImageOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: File,
    name: str,
    format_: DiskFormat | None | Unset = UNSET,
    sha256: None | str | Unset = UNSET,
) -> Response[ErrorBody | ImageOut]:
    """Upload Image

     Upload a raw or qcow2 image as the request body. It must stand alone (no backing
    file, no external data file, not encrypted) and be at most `max_image_bytes`; its
    format is pinned from then on. A failed or interrupted upload leaves nothing.

    Args:
        name (str):
        format_ (DiskFormat | None | Unset): raw or qcow2; detected once when absent
        sha256 (None | str | Unset): refused if the bytes differ
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | ImageOut]
    """

    kwargs = _get_kwargs(
        body=body,
        name=name,
        format_=format_,
        sha256=sha256,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: File,
    name: str,
    format_: DiskFormat | None | Unset = UNSET,
    sha256: None | str | Unset = UNSET,
) -> ErrorBody | ImageOut | None:
    """Upload Image

     Upload a raw or qcow2 image as the request body. It must stand alone (no backing
    file, no external data file, not encrypted) and be at most `max_image_bytes`; its
    format is pinned from then on. A failed or interrupted upload leaves nothing.

    Args:
        name (str):
        format_ (DiskFormat | None | Unset): raw or qcow2; detected once when absent
        sha256 (None | str | Unset): refused if the bytes differ
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | ImageOut
    """

    return sync_detailed(
        client=client,
        body=body,
        name=name,
        format_=format_,
        sha256=sha256,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: File,
    name: str,
    format_: DiskFormat | None | Unset = UNSET,
    sha256: None | str | Unset = UNSET,
) -> Response[ErrorBody | ImageOut]:
    """Upload Image

     Upload a raw or qcow2 image as the request body. It must stand alone (no backing
    file, no external data file, not encrypted) and be at most `max_image_bytes`; its
    format is pinned from then on. A failed or interrupted upload leaves nothing.

    Args:
        name (str):
        format_ (DiskFormat | None | Unset): raw or qcow2; detected once when absent
        sha256 (None | str | Unset): refused if the bytes differ
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | ImageOut]
    """

    kwargs = _get_kwargs(
        body=body,
        name=name,
        format_=format_,
        sha256=sha256,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: File,
    name: str,
    format_: DiskFormat | None | Unset = UNSET,
    sha256: None | str | Unset = UNSET,
) -> ErrorBody | ImageOut | None:
    """Upload Image

     Upload a raw or qcow2 image as the request body. It must stand alone (no backing
    file, no external data file, not encrypted) and be at most `max_image_bytes`; its
    format is pinned from then on. A failed or interrupted upload leaves nothing.

    Args:
        name (str):
        format_ (DiskFormat | None | Unset): raw or qcow2; detected once when absent
        sha256 (None | str | Unset): refused if the bytes differ
        body (File):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | ImageOut
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            name=name,
            format_=format_,
            sha256=sha256,
        )
    ).parsed
