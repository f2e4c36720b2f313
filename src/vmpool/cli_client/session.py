"""A session with the API: the generated client (vmpool_client), the one place that turns an
answer into a value or into a one-line error, and the lookups from the names an operator
types to the ids the API takes."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

if TYPE_CHECKING:
    import httpx
    from vmpool_client import AuthenticatedClient
    from vmpool_client.models import ErrorBody
    from vmpool_client.types import Response

    from vmpool.cli_client.config import Target

T = TypeVar("T")

# Exit codes (docs/operations.md, CLI): 2 is click's for a usage error.
EXIT_FAILED = 1  # the API refused, or the operation ended badly (a failed migration)
EXIT_CONFIG = 4  # no URL or token, or a config file that does not parse
EXIT_UNREACHABLE = 3  # no answer from the daemon
EXIT_INTERRUPTED = 130  # Ctrl-C while waiting (after the choice it offers)


class CliError(Exception):
    """Ends the command with one line on stderr and an exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class Items(Protocol):
    @property
    def items(self) -> list[Any]: ...


class Page(Items, Protocol):
    """A page of an id-ordered list (`next_after`: the cursor of the next page; None or
    unset on the last)."""

    @property
    def next_after(self) -> object: ...


P = TypeVar("P", bound=Page)


def error_line(status: int, content: bytes) -> str:
    """The one line an error answer becomes: its message, with the status and the code.
    Every error of the API has the body {"error": {"code", "message", "details"}}; anything
    else (a proxy's page) is shown by its first line."""
    try:
        body = json.loads(content)
        error = body["error"]
        message = str(error["message"])
        # invalid input: which fields, and why (loc is ["body", "name"] or ["query", ...])
        problems = [
            f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
            for e in (error.get("details") or {}).get("errors", [])[:3]
        ]
        if problems:
            message += ": " + "; ".join(problems)
        return f"{message} ({status} {error['code']})"
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        first = content.decode(errors="replace").strip().splitlines()[:1]
        return f"HTTP {status}" + (f": {first[0][:200]}" if first else "")


class Session:
    def __init__(self, target: Target) -> None:
        try:
            import httpx
            from vmpool_client import AuthenticatedClient
        except ModuleNotFoundError:
            raise CliError(
                "the API client (vmpool_client) is not installed: "
                "pip install -e clients/python (scripts/install.sh does)",
                EXIT_CONFIG,
            ) from None
        self.target = target
        # what each call answered, as it came: `--json` prints that (json_of)
        self._answers: dict[int, tuple[object, bytes | object]] = {}
        self.client: AuthenticatedClient = AuthenticatedClient(
            base_url=target.url,
            token=target.token,
            timeout=httpx.Timeout(target.timeout_s, connect=10.0),
            verify_ssl=target.verify,
        )

    def close(self) -> None:
        self.client.get_httpx_client().close()

    def call(self, op: Callable[..., Response[ErrorBody | T]], *args: Any, **kwargs: Any) -> T:
        """`op` (a generated `sync_detailed`) on this session's client: its parsed answer, or
        a CliError saying in one line what went wrong."""
        response = self._send(op, *args, **kwargs)
        if response.parsed is None:
            raise CliError(f"unexpected answer from {self.target.url}: HTTP {response.status_code}")
        self._keep(response.parsed, response.content)
        return cast("T", response.parsed)  # not an ErrorBody: the status was below 400

    def _keep(self, parsed: object, content: bytes | object) -> None:
        self._answers[id(parsed)] = (parsed, content)

    def json_of(self, value: object) -> Any:
        """The API's own JSON of what a call answered (a list: of each item), as it came: the
        generated models would write it back in their own way (a time's `+00:00` for `Z`)."""
        if isinstance(value, list):
            return [self.json_of(v) for v in value]
        kept, content = self._answers.get(id(value), (None, None))
        if kept is not value:
            raise AssertionError("json_of: not an answer of this session")
        return json.loads(content) if isinstance(content, bytes) else content

    def call_no_content(self, op: Callable[..., Response[Any]], *args: Any, **kwargs: Any) -> None:
        """`op` for a route that answers 204 without a body (a delete)."""
        self._send(op, *args, **kwargs)

    def _send(self, op: Callable[..., Response[Any]], *args: Any, **kwargs: Any) -> Response[Any]:
        with self._transport():
            response = op(*args, client=self.client, **kwargs)
        status = int(response.status_code)
        if status >= 400:
            line = error_line(status, response.content)
            if status == 401:
                line += f"; the token comes from {self.target.source}"
            raise CliError(line)
        return response

    def request(self, method: str, path: str, content: bytes | None = None) -> httpx.Response:
        """A raw call on the client's connection (`vmpool api`); the caller reads the status."""
        headers = {"content-type": "application/json"} if content is not None else {}
        with self._transport():
            return self.client.get_httpx_client().request(
                method, path, content=content, headers=headers
            )

    @contextlib.contextmanager
    def _transport(self) -> Iterator[None]:
        """A call that finds no daemon, or no answer in time, becomes one line (exit 3)."""
        import httpx

        try:
            yield
        except httpx.ConnectError as exc:
            raise CliError(
                f"cannot reach the vmpool API at {self.target.url} ({_reason(exc)}): is the "
                f"daemon running there? (the URL comes from {self.target.source})",
                EXIT_UNREACHABLE,
            ) from None
        except httpx.TimeoutException:
            raise CliError(
                f"the vmpool API at {self.target.url} did not answer within "
                f"{self.target.timeout_s:g} s",
                EXIT_UNREACHABLE,
            ) from None
        except httpx.TransportError as exc:
            raise CliError(
                f"talking to the vmpool API at {self.target.url} failed: {_reason(exc)}",
                EXIT_UNREACHABLE,
            ) from None

    def pages(self, op: Callable[..., Response[ErrorBody | P]], **filters: Any) -> Iterator[Any]:
        """Every item of an id-ordered list, page after page."""
        after = 0
        while True:
            page = self.call(op, after=after, limit=1000, **filters)
            raw_items = self.json_of(page)["items"]
            for item, raw in zip(page.items, raw_items, strict=True):
                self._keep(item, raw)
                yield item
            if not isinstance(page.next_after, int):
                return
            after = page.next_after

    # -- names an operator types, to ids ------------------------------------------------
    # An argument of digits only is an id; anything else is a name (names are unique).

    def vm_id(self, ref: str) -> int:
        from vmpool_client.api.vms import list_vms

        return self._lookup(ref, "VM", lambda name: self.call(list_vms.sync_detailed, name=name))

    def host_id(self, ref: str) -> int:
        from vmpool_client.api.hosts import list_hosts

        return self._lookup(
            ref, "host", lambda name: self.call(list_hosts.sync_detailed, name=name)
        )

    def pool_id(self, ref: str) -> int:
        from vmpool_client.api.pools import list_pools

        return self._lookup(
            ref, "pool", lambda name: self.call(list_pools.sync_detailed, name=name)
        )

    @staticmethod
    def _lookup(ref: str, kind: str, find: Callable[[str], Items]) -> int:
        if ref.isdigit():
            return int(ref)
        items = find(ref).items
        if not items:
            raise CliError(f"no {kind} named {ref!r}")
        return int(items[0].id)


def _reason(exc: httpx.TransportError) -> str:
    """What happened, as the OS said it ("Connection refused")."""
    return re.sub(r"^\[Errno -?\d+\] ", "", str(exc)) or type(exc).__name__
