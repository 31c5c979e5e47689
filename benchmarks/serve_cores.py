"""Every core serves (issue 19): ``ragseal serve`` with 1 worker vs N, side by side.

Ingests the sample corpus once and copies the data dir, then starts two
``ragseal serve`` processes at once: one with ``RAGSEAL_WORKERS=1``
(everything in the server process, as before the core pool) and one with
``RAGSEAL_WORKERS=N`` (N worker processes beside the store owner). Both stay
up while short load phases alternate between them (the order flips every
round), so both sides meet the same drifting load of a shared machine. Each
phase is closed-loop load from C client threads (httpx, one connection each,
4 principals) on one endpoint: ``/v1/retrieve``, or ``/v1/inspect`` with
answers of ~1,500 characters quoting a retrieval and its id. Prints per
phase: req/s, p50/p95, errors and the load average; then per endpoint the
median of the per-round req/s ratios (N vs 1) and the median p95 of each.

Closed loop: with the same C clients, a server twice as fast answers twice
the requests at half the latency, so "more req/s at equal or lower p95" is
read off one table.

    nice -n 5 .venv/bin/python benchmarks/serve_cores.py [--rounds 3] [--seconds 15]
        [--clients 6] [--workers 2]
"""

# ruff: noqa: T201, S311, S603  (a benchmark prints; runs our own CLI; seeded choices)
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
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

from _workload import PRINCIPALS, QUERIES, pct, serving_process  # noqa: E402
from ragseal.api._auth import mint_token  # noqa: E402

SECRET = "bench-cores-secret-" + "x" * 40  # noqa: S105 - a throwaway benchmark secret


def _answers(base: str, tokens: list[str]) -> list[tuple[str, str, str]]:
    """(token, retrieval id, answer quoting what it got) per principal and query."""
    found = []
    for token in tokens:
        headers = {"Authorization": f"Bearer {token}"}
        for query in QUERIES:
            r = httpx.post(f"{base}/v1/retrieve", json={"query": query, "top_k": 5},
                           headers=headers, timeout=120)
            r.raise_for_status()
            body = r.json()
            text = " ".join(ch["text"] for ch in body["chunks"][:2])[:1500]
            found.append((token, body["retrieval_id"], f"According to the documents: {text}"))
    return found


def _load(base: str, endpoint: str, tokens: list[str], answers: list[tuple[str, str, str]],
          clients: int, seconds: float) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    until = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        token = tokens[seed % len(tokens)]
        mine = [a for a in answers if a[0] == token]
        with httpx.Client(base_url=base, timeout=120,
                          headers={"Authorization": f"Bearer {token}"}) as c:
            while time.monotonic() < until:
                t = time.perf_counter()
                if endpoint == "retrieve":
                    r = c.post("/v1/retrieve", json={"query": rng.choice(QUERIES), "top_k": 5})
                else:
                    _, rid, answer = rng.choice(mine)
                    r = c.post("/v1/inspect", json={"answer": answer, "retrieval_id": rid})
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    if r.status_code == 200:
                        latencies.append(ms)
                    else:
                        errors[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], time.monotonic() - started


def _rss_mib(pid: int) -> float:
    proc = psutil.Process(pid)
    procs = [proc, *proc.children(recursive=True)]
    return sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20


Figures = tuple[float, float, float, int]  # req/s, p50, p95, errors


def _phase(base: str, endpoint: str, tokens: list[str], answers: list[tuple[str, str, str]],
           args: argparse.Namespace, label: str) -> Figures:
    _load(base, endpoint, tokens, answers, args.clients, 2)  # warm-up, not counted
    load = os.getloadavg()[0]
    ok, errors, elapsed = _load(base, endpoint, tokens, answers, args.clients, args.seconds)
    rate = len(ok) / elapsed
    print(f"  {label} /v1/{endpoint}: {rate:6.1f} req/s, p50 {pct(ok, 0.5):6.1f} ms, "
          f"p95 {pct(ok, 0.95):6.1f} ms, {errors} errors (load avg {load:.2f} -> "
          f"{os.getloadavg()[0]:.2f})", flush=True)
    return rate, pct(ok, 0.5), pct(ok, 0.95), errors


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="ragseal-cores-bench-"))
    env = {**os.environ, "RAGSEAL_DATA_DIR": str(root / "one"), "RAGSEAL_JWT_SECRET": SECRET,
           "RAGSEAL_RATE_LIMIT_PER_MINUTE": "0", "RAGSEAL_PROBE_THRESHOLD": "0"}
    corpus = ROOT / "samples" / "corpus"
    subprocess.run([sys.executable, "-m", "ragseal.api.cli", "ingest", str(corpus),
                    "--manifest", str(corpus / "acl.yaml"), "--json"], env=env, cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    shutil.copytree(root / "one", root / "many")  # same store, keys and master key
    print(f"cores: {os.cpu_count()}, clients {args.clients}, {args.seconds:.0f}s per phase, "
          f"workers 1 vs {args.workers}, {args.rounds} rounds alternated", flush=True)
    sides = {1: {**env, "RAGSEAL_WORKERS": "1"},
             args.workers: {**env, "RAGSEAL_WORKERS": str(args.workers),
                            "RAGSEAL_DATA_DIR": str(root / "many")}}
    runs: dict[int, dict[str, list[Figures]]] = {w: {"retrieve": [], "inspect": []}
                                                 for w in sides}
    t0 = time.perf_counter()
    with serving_process(sides[1], ROOT, startup_s=900) as (base_one, server_one), \
            serving_process(sides[args.workers], ROOT, startup_s=900) as (base_many,
                                                                        server_many):
        print(f"both servers up in {time.perf_counter() - t0:.0f}s", flush=True)
        bases = {1: base_one, args.workers: base_many}
        tokens = [mint_token(SECRET, **p) for p in PRINCIPALS]  # type: ignore[arg-type]
        answers = {w: _answers(b, tokens) for w, b in bases.items()}
        for round_ in range(args.rounds):
            order = (1, args.workers) if round_ % 2 == 0 else (args.workers, 1)
            print(f"round {round_ + 1}: order {order}", flush=True)
            for endpoint in ("retrieve", "inspect"):
                for w in order:
                    runs[w][endpoint].append(_phase(bases[w], endpoint, tokens, answers[w],
                                                    args, f"workers={w}"))
        print(f"RSS: workers=1 {_rss_mib(server_one.pid):.0f} MiB; workers={args.workers} "
              f"{_rss_mib(server_many.pid):.0f} MiB (server + workers)")

    print("summary (median over rounds):")
    for endpoint in ("retrieve", "inspect"):
        one, many = runs[1][endpoint], runs[args.workers][endpoint]
        ratios = [m[0] / o[0] for o, m in zip(one, many, strict=True)]
        print(f"/v1/{endpoint}: 1 worker {statistics.median(r[0] for r in one):.1f} req/s "
              f"p95 {statistics.median(r[2] for r in one):.1f} ms; {args.workers} workers "
              f"{statistics.median(r[0] for r in many):.1f} req/s p95 "
              f"{statistics.median(r[2] for r in many):.1f} ms; ratio per round "
              f"{', '.join(f'{x:.2f}' for x in ratios)} -> median "
              f"{statistics.median(ratios):.2f}x; errors {sum(r[3] for r in one + many)}")


if __name__ == "__main__":
    main()
