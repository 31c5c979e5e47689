"""uvicorn's server, saying in one line when it actually serves.

``ragseal serve`` used to print nothing once ready, and quickstart said
"serving" while the models were still loading (issue 20, item 1). The line
is printed after the lifespan warmed every model up and the socket is
listening, so a client that reads it can call the API at once.
"""

from __future__ import annotations

import socket

import click
import uvicorn
from fastapi import FastAPI

from ._cli_support import serving_line

__all__ = ["AnnouncingServer"]


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
