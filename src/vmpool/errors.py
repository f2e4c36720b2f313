"""The one error type of vmpool.

Every failure a client can see is a `VmpoolError` subclass carrying a stable
code and an HTTP status; the API turns them into one error body. Temporary
failures (`temporary = True`: a host that cannot be reached right now) are kept
apart from final ones (no capacity, bad input) so callers know what to retry.
"""

from __future__ import annotations

from typing import Any, ClassVar


class VmpoolError(Exception):
    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    temporary: ClassVar[bool] = False
    # A temporary failure may say when to try again (the API's Retry-After header).
    retry_after_s: ClassVar[int | None] = None

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details


class InvalidInput(VmpoolError):
    code = "invalid_input"
    status = 422


class NotFound(VmpoolError):
    code = "not_found"
    status = 404


class Conflict(VmpoolError):
    code = "conflict"
    status = 409


class AlreadyExists(Conflict):
    code = "already_exists"


class InvalidState(Conflict):
    code = "invalid_state"


class InvalidTransition(InvalidState):
    """An entity was asked for a change its state does not allow (its transition table)."""


class Exhausted(Conflict):
    """A finite supply is used up (MAC addresses of a prefix, a subnet's addresses)."""

    code = "exhausted"


class QuotaExceeded(Conflict):
    code = "quota_exceeded"


class NoCapacity(Conflict):
    code = "no_capacity"


class InvalidHeader(VmpoolError):
    """A request header that does not parse (e.g. an If-Match that is not a list of
    quoted entity tags)."""

    code = "invalid_header"
    status = 400


class PreconditionFailed(VmpoolError):
    """A conditional request's precondition (If-Match) is false: the resource changed since
    the client read it. Nothing was done."""

    code = "precondition_failed"
    status = 412


class PayloadTooLarge(VmpoolError):
    code = "too_large"
    status = 413


class Unauthorized(VmpoolError):
    code = "unauthorized"
    status = 401


class Forbidden(VmpoolError):
    code = "forbidden"
    status = 403


class Fenced(VmpoolError):
    """This daemon is no longer the leader (another was elected): it must not act."""

    code = "not_leader"
    status = 503


class HostUnreachable(VmpoolError):
    code = "host_unreachable"
    status = 503
    temporary = True


class DatabaseUnavailable(VmpoolError):
    """The database cannot be reached right now (a server restarting, a connection lost, no
    connection free in time); the request did not happen, or was rolled back."""

    code = "database_unavailable"
    status = 503
    temporary = True
    retry_after_s = 2


class DomainMissing(VmpoolError):
    """The hypervisor has no such domain (any more)."""

    code = "domain_missing"
    status = 404


class HypervisorOperationInvalid(VmpoolError):
    """The hypervisor refused the operation in the domain's current state."""

    code = "operation_invalid"
    status = 409


class HypervisorFailure(VmpoolError):
    """The hypervisor answered but the operation failed for a reason of its own."""

    code = "hypervisor_error"
    status = 502


class SchemaMismatch(VmpoolError):
    code = "schema_mismatch"
    status = 500
