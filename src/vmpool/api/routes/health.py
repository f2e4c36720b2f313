from __future__ import annotations

from fastapi import APIRouter

from vmpool import __version__
from vmpool.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="get_health", response_model=Health)
def health() -> Health:
    """Liveness: answers without a token."""
    return Health(status="ok", version=__version__)
