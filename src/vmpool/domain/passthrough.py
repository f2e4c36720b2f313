"""PCI passthrough and SGX (docs/hardware.md): assignable devices by alias, and SGX EPC, as
resources placement filters on and claims. Pure rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vmpool.domain.model import PlacementHost, PlacementRequirements


def sgx_reason(host: PlacementHost, req: PlacementRequirements) -> str | None:
    """Why `host` cannot give the VM the SGX EPC it asks (None: it can, or none is asked)."""
    return None  # TODO(issue 16): SGX


def devices_reason(host: PlacementHost, req: PlacementRequirements) -> str | None:
    """Why `host` has not the free assignable devices the VM asks (None: it has)."""
    return None  # TODO(issue 16): PCI passthrough
