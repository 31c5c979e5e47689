"""What the HTTP benchmarks share: the query and principal mix (retrieve, serve), a
percentile, a free loopback port, an app served on it in a thread, and
``ragseal serve`` run as its own process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
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


@contextmanager
def serving_process(env: Mapping[str, str], cwd: str | os.PathLike[str],
                    startup_s: float = 180, cpus: set[int] | None = None,
                    ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``ragseal serve`` as its own process (as deployed) on a free loopback port.

    Yields the base URL and the process once ``/healthz`` answers 200; the
    server is terminated on exit. A client in the benchmark's own process
    then shares no interpreter (no GIL) with the server. With ``cpus`` the
    server runs on those CPUs only: the child sets its affinity before it
    imports anything, so every thread it starts and every process it spawns
    inherits it.
    """
    import httpx

    port = free_port()
    # Pinned: the child sets its own affinity first thing, before it starts
    # any thread (no preexec_fn: servers may be started from several threads).
    launch = (["-m", "ragseal.api.cli"] if cpus is None else
              ["-c", f"import os, runpy; os.sched_setaffinity(0, {sorted(cpus)!r}); "
                     "runpy.run_module('ragseal.api.cli', run_name='__main__', alter_sys=True)"])
    server = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, *launch, "serve", "--port", str(port)], env=dict(env), cwd=cwd)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_s
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("server did not start")
            time.sleep(0.2)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=30)
