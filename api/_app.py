"""The HTTP API (CONTRACT.md). Built by :func:`create_app` from Settings.

The lifespan builds the composition root once (store, keys, models, the
service layer) and a token verifier; the routers (``api/_routes``) receive
each collaborator through its own dependency. Routers never parse tokens:
:func:`api._auth.current_principal` does, and role checks are the reusable
:func:`~._routes._deps.require_role` dependency.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ._auth import TokenVerifier
from ._beside import StoreChannel, store_channel
from ._container import Services
from ._control_plane import install_control_plane
from ._edge import EdgeMiddleware
from ._errors import install_error_handlers
from ._incident import install as install_incident
from ._limits import TimeoutMiddleware
from ._metrics import Metrics
from ._routes import routers
from ._routes._deps import audit
from ._routes._models import ERROR_RESPONSES
from ._service import build_operations
from ._settings import Settings
from ._uploads import UploadRunner, build_upload_router

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """Build the app. ``services`` may be injected (tests); else built from settings."""
    settings.require_jwt()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services if services is not None else Services(settings)
        # The store first, served to CLI commands beside us (docs/ARCHITECTURE.md).
        channel = (store_channel(app.state.services)
                   if isinstance(app.state.services, Services) else StoreChannel(None))
        try:
            app.state.services.warm_up()
            # Retrieve and inspect run in the serving workers when `serve` set a pool
            # (app.state.cores, api/_cores.py), else in this process.
            app.state.ops = build_operations(app.state.services, settings,
                                             pool=lambda: getattr(app.state, "cores", None))
            app.state.verifier = TokenVerifier(settings)
            app.state.uploads = UploadRunner(settings, app.state.services, app.state.metrics)
            if isinstance(app.state.services, Services):  # a real root: parse child now
                app.state.uploads.warm_up()
            yield
        finally:
            channel.close()
            if getattr(app.state, "uploads", None) is not None:
                app.state.uploads.close()
            if owned:
                app.state.services.close()

    app = FastAPI(
        title="ragseal",
        version="0.1.0",
        summary="Secure retrieval for RAG: the user's rights inside the vector search.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.metrics = Metrics()
    install_error_handlers(app)
    install_control_plane(app, settings)  # rate limits: memory or the shared database
    app.state.request_timeout = settings.request_timeout_seconds or None
    app.add_middleware(TimeoutMiddleware)  # inside EdgeMiddleware: its 503s are counted
    max_body = settings.max_body_bytes

    app.add_middleware(EdgeMiddleware, max_body=max_body, audit=audit)
    install_incident(app, settings, audit=audit)

    for router in routers(settings):
        app.include_router(router)
    app.include_router(build_upload_router(settings))

    from ._gateway import include_gateway  # imports this module: bound after it loaded
    include_gateway(app, settings)
    return app
