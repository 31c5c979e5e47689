"""Serve an ASGI app through a real uvicorn on 127.0.0.1 (an ephemeral port), in a thread.

The client, the adapters and the OpenAI SDK talk real HTTP to it: the same
sockets, headers and streaming a deployment has.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT``) while ``app`` is served."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def ragseal_app(world: Any, **settings: Any) -> Any:
    """The real app over the session's ingested corpus, with extra settings."""
    from ragseal.api._app import create_app
    from ragseal.api._settings import Settings

    from .conftest import JWT_SECRET

    return create_app(Settings(data_dir=world.data_dir, jwt_secret=JWT_SECRET, **settings),
                      world.services)


def token(**claims: Any) -> str:
    from ragseal.api._auth import mint_token

    from .conftest import JWT_SECRET

    return mint_token(JWT_SECRET, **claims)


EMPLOYEE = dict(sub="emp@acme.example", tenant="acme", groups=["all-staff"], roles=["employee"])
HR = dict(sub="hrp@acme.example", tenant="acme", groups=["hr", "all-staff"], roles=["hr"])
ALL_HANDS = "all-hands meeting announcement agenda"
NAME = "Maria Gonzalez"  # in handbook/all-hands-2026-11.eml: PERSON, masked below hr
