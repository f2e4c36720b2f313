"""What each host's hypervisor can do (docs/hardware.md): its libvirt driver, its machine
types, and the features vmpool uses (live migration, snapshots, hot-plug, TPM), read from
its capabilities and enforced by placement and the API. Pure rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vmpool.domain.model import PlacementHost, PlacementRequirements


def placement_reason(host: PlacementHost, req: PlacementRequirements) -> str | None:
    """Why `host`'s hypervisor cannot give the VM a feature it asks (e.g. a TPM)."""
    return None  # TODO(issue 16): TPM and hypervisor features
