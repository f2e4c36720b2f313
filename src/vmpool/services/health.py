"""Whether this daemon can serve: its database answers."""

from __future__ import annotations

from vmpool.services.leadership import LEASE_ID
from vmpool.services.unit_of_work import ServiceContext


def check_database(ctx: ServiceContext) -> None:
    """Return if the database answers a query; `DatabaseUnavailable` if it cannot be reached."""
    with ctx.uow() as uow:
        uow.leases.get(LEASE_ID)
