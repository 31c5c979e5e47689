"""uvicorn's server, saying in one line when it actually serves.

``ragseal serve`` used to print nothing once ready, and quickstart said
"serving" while the models were still loading (issue 20, item 1). The line
is printed after the lifespan warmed every model up and the socket is
listening, so a client that reads it can call the API at once.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import click
import uvicorn
from fastapi import FastAPI

if TYPE_CHECKING:
    from .._container import Services

__all__ = ["AnnouncingServer", "serving_line", "store_tenants"]


def store_tenants(services: Services) -> dict[str, int]:
    """Documents per tenant, from the keyring's current versions (ids only)."""
    counts: dict[str, int] = {}
    for tenant, _doc, _version, state in services.keys.key_versions():
        if state == "current":
            counts[tenant] = counts.get(tenant, 0) + 1
    return dict(sorted(counts.items()))


def serving_line(services: Services, host: str, port: int) -> str:
    """``ragseal: serving on http://H:P (store ..., tenants ..., policy ...)``."""
    settings = services.settings
    store = (f"Qdrant at {settings.qdrant_url}" if settings.qdrant_url
             else f"embedded store {settings.data_dir}")
    tenants = store_tenants(services)
    listed = ", ".join(f"{t} ({n} documents)" for t, n in tenants.items()) or "none: ingest first"
    shown = f"[{host}]" if ":" in host else host
    return (f"ragseal: serving on http://{shown}:{port} ({store}; tenants: {listed}; "
            f"policy {services.policy.fingerprint})")


class AnnouncingServer(uvicorn.Server):
    """Prints :func:`serving_line` on stderr once startup has succeeded."""

    def __init__(self, config: uvicorn.Config, app: FastAPI, host: str, port: int) -> None:
        super().__init__(config)
        self._app = app  # the same app config holds; typed, for its state
        self._where = (host, port)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            services = self._app.state.services
            click.echo(serving_line(services, *self._where), err=True)
