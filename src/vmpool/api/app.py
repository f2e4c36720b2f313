"""The FastAPI application, given an already wired ServiceContext."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI

from vmpool import __version__
from vmpool.api.errors import install_error_handlers
from vmpool.api.idempotency import IdempotencyKeys
from vmpool.api.limits import BodySizeLimit
from vmpool.api.request_audit import RequestAudit
from vmpool.api.routes import (
    disks,
    events,
    groups,
    health,
    hosts,
    images,
    metrics,
    migrations,
    networks,
    plans,
    pools,
    projects,
    snapshots,
    ui,
    vms,
)
from vmpool.services.unit_of_work import ServiceContext

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

# Every router of the app (the authorization matrix test reads their routes, those left out
# of the OpenAPI document too).
ROUTERS = tuple(
    module.router
    for module in (
        health, hosts, vms, disks, networks, images, migrations, pools, plans, groups, events,
        projects, metrics, ui, snapshots,
    )
)  # fmt: skip


def create_app(ctx: ServiceContext | None, lifespan: Lifespan | None = None) -> FastAPI:
    app = FastAPI(
        title="vmpool",
        version=__version__,
        description="A VM resource pool manager for KVM/QEMU hosts, driven through libvirt.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    app.add_middleware(IdempotencyKeys)  # inside the size limit: it reads the body
    app.add_middleware(BodySizeLimit)
    app.add_middleware(RequestAudit)  # outermost: the id is set before anything else runs
    for router in ROUTERS:
        app.include_router(router)
    return app
