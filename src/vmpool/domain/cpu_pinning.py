"""Dedicated CPUs, huge pages and NUMA (docs/hardware.md): which host CPUs a dedicated VM
gets, which huge pages back its memory, and on which NUMA cells. Pure rules; the services
record the allocation under the same lock as placement's claims."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vmpool.domain.model import PlacementHost, PlacementRequirements


def dedicated_reason(host: PlacementHost, req: PlacementRequirements) -> str | None:
    """Why `host` cannot give the VM its dedicated CPUs (None: it can, or none are asked)."""
    return None  # TODO(issue 16): dedicated CPUs and NUMA


def hugepages_reason(host: PlacementHost, req: PlacementRequirements) -> str | None:
    """Why `host` cannot back the VM's memory with the huge pages it asks (None: it can)."""
    return None  # TODO(issue 16): huge pages
