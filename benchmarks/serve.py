"""Sustained load on a real server: /v1/retrieve and /v1/inspect, N clients, T seconds.

Ingests the sample corpus into a temporary data folder (``ragseal ingest``),
starts ``ragseal serve`` on a free loopback port as its own process (rate
limiting off), then runs N client threads (httpx, one connection each) for
T seconds; each client retrieves as one of four principals and inspects an
answer quoting what it got. Prints, per endpoint: requests, errors, req/s,
p50/p95/p99; and the server's RSS at start, middle and end (psutil).

    .venv/bin/python benchmarks/serve.py [--seconds 60] [--clients 8]
"""

# ruff: noqa: T201, S311, S603  (a benchmark prints; runs our own CLI; seeded choices)
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _workload import PRINCIPALS, QUERIES, pct, serving_process  # noqa: E402  (benchmarks/ is on sys.path)
from ragseal.api._auth import mint_token  # noqa: E402

SECRET = "bench-serve-secret-" + "x" * 40  # noqa: S105 - a throwaway benchmark secret




class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {"retrieve": [], "inspect": []}
        self.errors: dict[str, int] = {"retrieve": 0, "inspect": 0}
        self.error_kinds: dict[str, int] = {}

    def add(self, endpoint: str, ms: float, error: str | None) -> None:
        with self.lock:
            if error is None:
                self.latency[endpoint].append(ms)
            else:
                self.errors[endpoint] += 1
                self.error_kinds[error] = self.error_kinds.get(error, 0) + 1


def _client(base: str, token: str, seed: int, until: float, stats: Stats) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=60, headers=headers) as c:
        while time.monotonic() < until:
            for endpoint in ("retrieve", "inspect"):
                t = time.perf_counter()
                error = None
                try:
                    if endpoint == "retrieve":
                        r = c.post("/v1/retrieve",
                                   json={"query": rng.choice(QUERIES), "top_k": 5})
                        if r.status_code == 200:
                            body = r.json()
                            rid = body["retrieval_id"]
                            text = " ".join(ch["text"] for ch in body["chunks"][:2])[:1500]
                    else:
                        r = c.post("/v1/inspect", json={
                            "answer": f"According to the documents: {text}",
                            "retrieval_id": rid})
                    if r.status_code != 200:
                        error = f"{endpoint}:{r.status_code}"
                except httpx.HTTPError as exc:
                    error = f"{endpoint}:{type(exc).__name__}"
                stats.add(endpoint, (time.perf_counter() - t) * 1000, error)
                if error and endpoint == "retrieve":
                    break  # no retrieval id to inspect with


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="ragseal-serve-bench-"))
    env = {**os.environ, "RAGSEAL_DATA_DIR": str(data_dir), "RAGSEAL_JWT_SECRET": SECRET,
           "RAGSEAL_RATE_LIMIT_PER_MINUTE": "0"}
    ragseal = [sys.executable, "-m", "ragseal.api.cli"]
    corpus = ROOT / "samples" / "corpus"
    t0 = time.perf_counter()
    subprocess.run([*ragseal, "ingest", str(corpus), "--manifest", str(corpus / "acl.yaml"),
                    "--json"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print(f"ingest sample corpus: {time.perf_counter() - t0:.1f}s")

    with serving_process(env, ROOT) as (base, server):
        proc = psutil.Process(server.pid)
        tokens = [mint_token(SECRET, **p) for p in PRINCIPALS]  # type: ignore[arg-type]
        # Warm-up: a few requests per principal, not counted.
        warm = Stats()
        _client(base, tokens[0], 0, time.monotonic() + 2, warm)

        rss: list[tuple[float, float]] = []
        stats = Stats()
        start = time.monotonic()
        until = start + args.seconds
        threads = [threading.Thread(target=_client, args=(base, tokens[i % len(tokens)], i,
                                                          until, stats))
                   for i in range(args.clients)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            rss.append((time.monotonic() - start, proc.memory_info().rss / 2**20))
            time.sleep(1)
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        rss.append((elapsed, proc.memory_info().rss / 2**20))

    print(f"load: {args.clients} clients, {elapsed:.1f}s, loopback, rate limiting off")
    for endpoint in ("retrieve", "inspect"):
        ok = stats.latency[endpoint]
        if not ok:
            print(f"/v1/{endpoint}: no successful request")
            continue
        print(f"/v1/{endpoint}: {len(ok)} ok, {stats.errors[endpoint]} errors, "
              f"{len(ok) / elapsed:.1f} req/s, p50 {pct(ok, 0.5):.1f} ms, "
              f"p95 {pct(ok, 0.95):.1f} ms, p99 {pct(ok, 0.99):.1f} ms")
    if stats.error_kinds:
        print(f"errors: {stats.error_kinds}")
    middle = min(rss, key=lambda s: abs(s[0] - elapsed / 2))
    print(f"server RSS: start {rss[0][1]:.0f} MiB, middle {middle[1]:.0f} MiB "
          f"(t={middle[0]:.0f}s), end {rss[-1][1]:.0f} MiB, max {max(r for _, r in rss):.0f} MiB")


if __name__ == "__main__":
    main()
