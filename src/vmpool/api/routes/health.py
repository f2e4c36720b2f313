from __future__ import annotations

from fastapi import APIRouter, Request

from vmpool import __version__
from vmpool.api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="get_health", response_model=Health)
def health() -> Health:
    """Liveness: answers without a token."""
    return Health(status="ok", version=__version__)


@router.get("/readyz", operation_id="get_readiness", response_model=Readiness)
def readiness(request: Request) -> Readiness:
    """Whether this replica runs the jobs (the leader) or only serves the API; answers
    without a token. Every replica serves the whole API either way."""
    leadership = getattr(request.app.state, "leadership", None)
    if leadership is None:
        return Readiness(role="single", generation=None)
    generation = leadership.generation
    return Readiness(role="leader" if generation is not None else "follower", generation=generation)
