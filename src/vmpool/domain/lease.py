"""A VM's lease and what happens when it ends (docs/lifecycle.md, "Leases and reclaim" and
"Idle VMs"): the rules only, no I/O.

A lease is an expiry time (`lease_expires_at`); the reclaim job applies the VM's
`reclaim_policy` once it has passed, after warning at configured thresholds before it. A
pool sets the default lease and policy of its new VMs, and the longest a lease may reach.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from vmpool.domain.limits import Bound
from vmpool.errors import InvalidInput, InvalidState

MAX_LEASE_S = 10 * 366 * 86_400  # no lease is given or renewed for more than ten years


class ReclaimPolicy(enum.StrEnum):
    STOP = "stop"  # power off; the VM, its disks and its claim stay
    DELETE = "delete"  # the ordinary delete: no domain, no disks
    # Its disks are kept as catalog images of its project, then it is deleted.
    SNAPSHOT_THEN_DELETE = "snapshot_then_delete"


class IdleAction(enum.StrEnum):
    REPORT = "report"  # an event and the API's idle fields only
    RECLAIM = "reclaim"  # then a warning, then the VM's reclaim policy


def reclaim_policy(value: str, field: str = "reclaim_policy") -> ReclaimPolicy:
    try:
        return ReclaimPolicy(value)
    except ValueError:
        raise InvalidInput(
            f"unknown reclaim policy {value!r}",
            field=field,
            known=sorted(p.value for p in ReclaimPolicy),
        ) from None


def idle_action(value: str) -> IdleAction:
    try:
        return IdleAction(value)
    except ValueError:
        raise InvalidInput(
            f"unknown idle action {value!r}",
            field="idle_action",
            known=sorted(a.value for a in IdleAction),
        ) from None


def lease_end(
    now: datetime,
    *,
    expires_at: datetime | None,
    lease_s: int | None,
    max_lease_s: int | None,
    field: str,
) -> datetime:
    """The expiry a request asks for (an instant or a duration from now, exactly one),
    checked: in the future, and no further than the pool's maximum from now."""
    if (expires_at is None) == (lease_s is None):
        raise InvalidInput(
            "give either a lease duration (seconds) or an expiry time, not both", field=field
        )
    if lease_s is not None:
        if lease_s < 1 or lease_s > MAX_LEASE_S:
            raise InvalidInput(
                f"a lease lasts 1 to {MAX_LEASE_S} seconds, not {lease_s}", field=field
            )
        end = now + timedelta(seconds=lease_s)
    else:
        assert expires_at is not None
        if expires_at.tzinfo is None:
            raise InvalidInput("the expiry time needs a time zone (e.g. Z)", field=field)
        if expires_at <= now:
            raise InvalidInput(
                f"the lease would end in the past ({expires_at.isoformat()})",
                field=field,
                now=now.isoformat(),
            )
        if expires_at - now > timedelta(seconds=MAX_LEASE_S):
            raise InvalidInput(f"a lease lasts at most {MAX_LEASE_S} seconds", field=field)
        end = expires_at
    if max_lease_s is not None and end > now + timedelta(seconds=max_lease_s):
        latest = now + timedelta(seconds=max_lease_s)
        raise InvalidInput(
            f"the lease would end {end.isoformat()}, beyond the pool's maximum of "
            f"{max_lease_s} s from now ({latest.isoformat()})",
            field=field,
            max_lease_s=max_lease_s,
            latest=latest.isoformat(),
        )
    return end


def check_policy_fits(policy: ReclaimPolicy, has_disk: bool) -> None:
    """snapshot_then_delete keeps the VM's disks: a VM without one cannot ask for it."""
    if policy is ReclaimPolicy.SNAPSHOT_THEN_DELETE and not has_disk:
        raise InvalidInput(
            "reclaim policy snapshot_then_delete keeps the VM's disks, and this VM has none "
            "(a kernel boot without disk_gib): choose stop or delete",
            field="reclaim_policy",
        )


def policy_for_new_vm(
    asked: ReclaimPolicy | None, pool_default: str, has_disk: bool
) -> ReclaimPolicy:
    """The policy a new VM gets: its own (checked), else its pool's; a pool default of
    snapshot_then_delete on a VM without a disk is delete (there is nothing to keep)."""
    if asked is not None:
        check_policy_fits(asked, has_disk)
        return asked
    default = reclaim_policy(pool_default)
    if default is ReclaimPolicy.SNAPSHOT_THEN_DELETE and not has_disk:
        return ReclaimPolicy.DELETE
    return default


def warning_due(remaining_s: float, thresholds: list[int], warned_s: int | None) -> int | None:
    """The threshold to warn at now, if any: the smallest one the remaining time has
    reached that is below the last warning given (so each is given once, and a VM that
    starts inside several thresholds gets the nearest one only)."""
    reached = [t for t in thresholds if remaining_s <= t and (warned_s is None or t < warned_s)]
    return min(reached) if reached else None


def check_renewable(has_lease: bool, name: str) -> None:
    if not has_lease:
        raise InvalidState(
            f"VM {name} has no lease to renew (an admin may give it one)", field="lease"
        )


# Catalog image names are at most 63 characters (names.NAME_PATTERN).
_MAX_NAME = 63


def reclaimed_image_name(vm_name: str, target: str, now: datetime) -> str:
    """`<vm>-<disk>-reclaimed-<yyyymmddhhmm>`, the VM's name cut to fit 63 characters."""
    suffix = f"-{target}-reclaimed-{now.strftime('%Y%m%d%H%M')}"
    stem = vm_name[: _MAX_NAME - len(suffix)].rstrip("-._")
    return f"{stem or 'vm'}{suffix}"


# Bounds of the pool's lease and idle settings (checked by the API and the service).
LEASE_S = Bound(1, MAX_LEASE_S)
IDLE_CPU_PERCENT = Bound(0.0, 100.0)
IDLE_PERIOD_S = Bound(60, 30 * 86_400)
IDLE_WARNING_S = Bound(0, 30 * 86_400)
