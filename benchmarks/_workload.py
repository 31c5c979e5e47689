"""What the HTTP benchmarks share: the query and principal mix (retrieve, serve), a
percentile, a free loopback port and an app served on it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

QUERIES = [
    "What is the payroll schedule?", "Who is the HR partner for engineering?",
    "How do I rotate the database password?", "What did the board decide about Nightjar?",
    "What is the travel expense limit?", "When was the ARM-X2 launched?",
    "Which customer reported a billing problem?", "What is Maria Gonzalez's phone number?",
    "How do I restart the ingestion service?", "What are the terms of the supplier contract?",
]
PRINCIPALS = [
    dict(sub="emp@acme.example", tenant="acme", groups=["all-staff"], roles=["employee"]),
    dict(sub="hrp@acme.example", tenant="acme", groups=["hr", "all-staff"], roles=["hr"]),
    dict(sub="counsel@acme.example", tenant="acme", groups=["legal", "all-staff"],
         roles=["legal"]),
    dict(sub="fin@acme.example", tenant="acme", groups=["finance", "all-staff"],
         roles=["finance"]),
]


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
