from __future__ import annotations

from fastapi import APIRouter, Request

from vmpool import __version__
from vmpool.api.schemas import ErrorBody, Health, Readiness
from vmpool.services.health import check_database
from vmpool.services.unit_of_work import ServiceContext

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="get_health", response_model=Health)
def health() -> Health:
    """Liveness: answers without a token."""
    return Health(status="ok", version=__version__)


@router.get(
    "/readyz",
    operation_id="get_readiness",
    response_model=Readiness,
    responses={
        503: {
            "model": ErrorBody,
            "description": "not ready: the database cannot be reached (database_unavailable)",
        }
    },
)
def readiness(request: Request) -> Readiness:
    """Whether this replica can serve (its database answers: else 503) and whether it runs
    the jobs (the leader) or only serves the API; answers without a token. Every replica
    serves the whole API either way."""
    ctx: ServiceContext = request.app.state.ctx
    check_database(ctx)
    leadership = getattr(request.app.state, "leadership", None)
    if leadership is None:
        return Readiness(role="single", generation=None)
    generation = leadership.generation
    return Readiness(role="leader" if generation is not None else "follower", generation=generation)
