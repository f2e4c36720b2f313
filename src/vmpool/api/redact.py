"""What a project's caller does not see: where things run (hosts, their paths), which only
admins do (the policy in docs/security.md)."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from vmpool.services.tokens import Principal

M = TypeVar("M", bound=BaseModel)

# Fields of the answers that say where a VM, its disks or its migration are.
HOST_DETAILS = frozenset({
    "host_id", "host_name", "disk_path", "seed_path", "path", "source_host_id", "source_host",
    "target_host_id", "target_host",
})  # fmt: skip


def for_caller(model: M, principal: Principal) -> M:
    """`model` as `principal` may see it: whole for an admin, without host details for a
    member or reader (a group's members by host and the hosts that hold an image or offer
    a network become empty)."""
    if principal.is_admin:
        return model
    hidden: dict[str, object] = {k: None for k in HOST_DETAILS if k in type(model).model_fields}
    if "members" in type(model).model_fields:
        hidden["members"] = {}
    if "hosts" in type(model).model_fields:
        hidden["hosts"] = []
    return model.model_copy(update=hidden)
