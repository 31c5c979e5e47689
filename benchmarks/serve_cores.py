"""Every core serves (issue 19): ``ragseal serve`` on one core, with 1 worker, with N.

Ingests the sample corpus once and copies the data dir, then starts three
``ragseal serve`` processes at once (models loading side by side):

- ``1core``: ``RAGSEAL_WORKERS=1`` pinned to ``--baseline-cores`` CPUs (1 by
  default): the process sets its CPU affinity before it imports anything, so
  every thread (ONNX Runtime's included) and child inherits it; the run
  checks every thread of the pinned server and stops if one may run
  elsewhere. This is the issue's baseline: "every core of the host vs one".
- ``1worker``: ``RAGSEAL_WORKERS=1`` unpinned (everything in the server
  process, as before the core pool; its ONNX Runtime threads use every core):
  the stricter baseline, kept beside the other.
- ``Nworkers``: ``RAGSEAL_WORKERS=N`` (N worker processes beside the store owner).

All stay up while short load phases alternate between them (each side first
in turn, one round after another), so every side meets the same drifting
load of a shared machine. Each phase is closed-loop load from C client
threads of this process, unpinned, on every core (``http.client``, one
keep-alive connection each, 4 principals; httpx cost 3-4x the CPU per
request, taken from the same cores as the servers') on one endpoint:
``/v1/retrieve``, or ``/v1/inspect`` with answers of ~1,500 characters
quoting a retrieval and its id. Prints per phase: req/s, p50/p95, errors,
the load average, and the CPU time per request of the server (its workers
included) and of the client threads.

Closed loop: with the same C clients, a server twice as fast answers twice
the requests at half the latency. The issue's target is req/s *at equal
p95*, so ``/v1/retrieve`` is also run at the ``--sweep`` client counts on the
two unpinned sides: the bound is a baseline's p95 at ``--clients`` in that
round, and the N-worker side's req/s at that p95 is read off its curve
(linear between the two counts whose p95 bracket the bound; ">=" when even
the largest count stays under it). The summary is printed twice, once per
baseline (the pinned one first): the fixed-client table (median of the
per-round ratios) and, for retrieve, the ratio at equal p95 per round and
its median.

    nice -n 5 .venv/bin/python benchmarks/serve_cores.py [--rounds 3] [--seconds 8]
        [--clients 6] [--sweep 12] [--workers 2] [--baseline-cores 1]

(defaults: 3 rounds of 8 phases of 1 + 8 s, ~4 minutes after the start of
the three servers, ~1-2 minutes on a quiet 2-core machine;
``--baseline-cores 0`` leaves the pinned side out.)
"""

# ruff: noqa: T201, S311, S603  (a benchmark prints; runs our own CLI; seeded choices)
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

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
        if endpoint == "retrieve":
            bodies = [json.dumps({"query": q, "top_k": 5}).encode() for q in QUERIES]
        else:
            bodies = [json.dumps({"answer": answer, "retrieval_id": rid}).encode()
                      for t, rid, answer in answers if t == token]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        url = urlsplit(base)
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=120)
        try:
            while time.monotonic() < until:
                body = rng.choice(bodies)
                t = time.perf_counter()
                try:
                    conn.request("POST", f"/v1/{endpoint}", body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    ok = response.status == 200
                except (OSError, http.client.HTTPException):
                    conn.close()  # reconnects on the next request
                    ok = False
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    if ok:
                        latencies.append(ms)
                    else:
                        errors[0] += 1
        finally:
            conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], time.monotonic() - started


def _tree(pid: int) -> list[psutil.Process]:
    proc = psutil.Process(pid)
    return [proc, *proc.children(recursive=True)]


def _rss_mib(pid: int) -> float:
    return float(sum(p.memory_info().rss for p in _tree(pid) if p.is_running())) / 2**20


def _cpu_s(procs: list[psutil.Process]) -> float:
    """User + system CPU seconds of ``procs`` so far (a process gone counts 0)."""
    total: float = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += float(t.user) + float(t.system)
    return total


class Figures(NamedTuple):
    """One phase: throughput, latency, and where the CPU went."""

    clients: int
    rate: float  # req/s
    p50: float  # ms
    p95: float  # ms
    errors: int
    server_cpu: float  # CPU ms per request: the server and its workers
    client_cpu: float  # CPU ms per request: this process (the client threads)


def _phase(base: str, pid: int, endpoint: str, tokens: list[str],
           answers: list[tuple[str, str, str]], clients: int, seconds: float,
           label: str) -> Figures:
    _load(base, endpoint, tokens, answers, clients, 1)  # warm-up, not counted
    load = os.getloadavg()[0]
    procs, me = _tree(pid), psutil.Process()
    server0, client0 = _cpu_s(procs), _cpu_s([me])
    ok, errors, elapsed = _load(base, endpoint, tokens, answers, clients, seconds)
    n = max(1, len(ok))
    server_cpu = (_cpu_s(procs) - server0) * 1000 / n
    client_cpu = (_cpu_s([me]) - client0) * 1000 / n
    figures = Figures(clients, len(ok) / elapsed, pct(ok, 0.5), pct(ok, 0.95), errors,
                      server_cpu, client_cpu)
    print(f"  {label:<10} /v1/{endpoint:<8} {clients:2d} clients: {figures.rate:6.1f} req/s, "
          f"p50 {figures.p50:6.1f} ms, p95 {figures.p95:6.1f} ms, {errors} errors; "
          f"CPU/req server {server_cpu:5.1f} ms, clients {client_cpu:4.1f} ms "
          f"(load avg {load:.2f} -> {os.getloadavg()[0]:.2f})", flush=True)
    return figures


def at_p95(curve: list[Figures], bound: float) -> tuple[float, str] | None:
    """req/s at p95 == ``bound`` on one side's curve (sorted by clients).

    Linear between the two neighbouring counts whose p95 bracket the bound;
    ``(rate, ">=")`` when every count stays under it (the largest count's
    rate is then a lower bound); ``None`` when every count is above it.
    """
    points = sorted(curve, key=lambda f: f.clients)
    if not points or points[0].p95 > bound:
        return None
    for low, high in zip(points, points[1:], strict=False):
        if low.p95 <= bound <= high.p95:
            if high.p95 == low.p95:
                return max(low.rate, high.rate), "="
            share = (bound - low.p95) / (high.p95 - low.p95)
            return low.rate + share * (high.rate - low.rate), "="
    under = [f for f in points if f.p95 <= bound]
    return max(f.rate for f in under), ">="


def _pinned_threads(pid: int, cpus: set[int]) -> tuple[int, int]:
    """(threads of ``pid``'s tree, how many may run outside ``cpus``)."""
    threads = outside = 0
    for proc in _tree(pid):
        try:
            tids = [t.id for t in proc.threads()]
        except psutil.NoSuchProcess:
            continue
        for tid in tids:
            try:
                allowed = os.sched_getaffinity(tid)
            except OSError:  # the thread ended
                continue
            threads += 1
            outside += not allowed <= cpus
    return threads, outside


def _start_all(stack: contextlib.ExitStack,
               sides: dict[str, tuple[dict[str, str], set[int] | None]],
               ) -> dict[str, tuple[str, subprocess.Popen[bytes]]]:
    """Start every side's server at once (each loads its models while the others do)."""
    managers = {side: serving_process(side_env, ROOT, startup_s=900, cpus=cpus)
                for side, (side_env, cpus) in sides.items()}
    with ThreadPoolExecutor(len(managers)) as pool:
        started = {side: pool.submit(m.__enter__) for side, m in managers.items()}
    up = {}
    for side, future in started.items():  # every server that started is stopped on exit
        if future.exception() is None:
            stack.push(managers[side].__exit__)
            up[side] = future.result()
    if len(up) < len(managers):
        stack.close()
        raise SystemExit("a server did not start")
    return up


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=6,
                        help="client threads of the fixed-client table (and the p95 bound)")
    parser.add_argument("--sweep", default="12",
                        help="more client counts for /v1/retrieve on the unpinned sides, comma "
                             "separated ('' for none): the curves read at equal p95")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--baseline-cores", type=int, default=1,
                        help="also serve with 1 worker pinned to this many cores (the issue's "
                             "baseline: the host's cores vs one); 0: no pinned side")
    args = parser.parse_args()
    sweep = sorted({int(c) for c in args.sweep.split(",") if c.strip()} - {args.clients})
    allowed = sorted(os.sched_getaffinity(0))
    if args.workers < 2 or args.rounds < 1 or args.clients < 1 or any(c < 1 for c in sweep):
        parser.error("--workers must be >= 2; --rounds, --clients and --sweep >= 1")
    if not 0 <= args.baseline_cores < len(allowed):
        parser.error(f"--baseline-cores must be 0 to {len(allowed) - 1} (fewer than the "
                     f"{len(allowed)} cores this process may use)")

    root = Path(tempfile.mkdtemp(prefix="ragseal-cores-bench-"))
    try:
        env = {**os.environ, "RAGSEAL_DATA_DIR": str(root / "one"), "RAGSEAL_JWT_SECRET": SECRET,
               "RAGSEAL_RATE_LIMIT_PER_MINUTE": "0", "RAGSEAL_PROBE_THRESHOLD": "0"}
        corpus = ROOT / "samples" / "corpus"
        subprocess.run([sys.executable, "-m", "ragseal.api.cli", "ingest", str(corpus),
                        "--manifest", str(corpus / "acl.yaml"), "--json"], env=env, cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)
        n = args.workers
        pinned = set(allowed[:args.baseline_cores])
        # The sides, by label: the baselines first. Each serves its own copy of one
        # data dir (same store, keys and master key).
        core = f"{args.baseline_cores}core" if pinned else ""
        many = f"{n}workers"
        sides: dict[str, tuple[dict[str, str], set[int] | None]] = {}
        if pinned:
            sides[core] = ({**env, "RAGSEAL_WORKERS": "1",
                            "RAGSEAL_DATA_DIR": str(root / "core")}, pinned)
        sides["1worker"] = ({**env, "RAGSEAL_WORKERS": "1"}, None)
        sides[many] = ({**env, "RAGSEAL_WORKERS": str(n), "RAGSEAL_DATA_DIR": str(root / "many")},
                       None)
        for side_env, _ in sides.values():
            if not Path(side_env["RAGSEAL_DATA_DIR"]).exists():
                shutil.copytree(root / "one", side_env["RAGSEAL_DATA_DIR"])
        print(f"cores: {len(allowed)}, workers 1 vs {n}"
              + (f", and 1 worker pinned to CPU {sorted(pinned)} (threads and children included; "
                 "the client threads run unpinned, on every core)" if pinned else "")
              + f"; {args.seconds:.0f}s per phase, {args.rounds} rounds alternated; clients "
              f"{args.clients} (retrieve also at {', '.join(map(str, sweep)) or 'no other count'} "
              f"on the unpinned sides); load avg {os.getloadavg()[0]:.2f}", flush=True)
        # runs[side][endpoint][round] -> the phases of that round (retrieve: one per count)
        runs: dict[str, dict[str, list[list[Figures]]]] = {
            side: {"retrieve": [], "inspect": []} for side in sides}
        t0 = time.perf_counter()
        with contextlib.ExitStack() as stack:
            up = _start_all(stack, sides)
            print(f"servers up in {time.perf_counter() - t0:.0f}s", flush=True)
            if pinned:
                threads, outside = _pinned_threads(up[core][1].pid, pinned)
                print(f"{core}: {threads} threads, {outside} allowed outside CPU "
                      f"{sorted(pinned)}", flush=True)
                if outside:
                    raise SystemExit("the pinned server runs threads outside its core")
            bases = {side: base for side, (base, _) in up.items()}
            pids = {side: server.pid for side, (_, server) in up.items()}
            tokens = [mint_token(SECRET, **p) for p in PRINCIPALS]  # type: ignore[arg-type]
            answers = {side: _answers(b, tokens) for side, b in bases.items()}
            labels = list(sides)
            for round_ in range(args.rounds):
                shift = round_ % len(labels)
                order = labels[shift:] + labels[:shift]  # each side first in turn
                print(f"round {round_ + 1}: order {', '.join(order)}", flush=True)
                for side in sides:
                    for endpoint in ("retrieve", "inspect"):
                        runs[side][endpoint].append([])
                counts = {"retrieve": [args.clients, *sweep], "inspect": [args.clients]}
                for endpoint in ("retrieve", "inspect"):
                    for clients in counts[endpoint]:
                        for side in order:
                            if side == core and clients != args.clients:
                                continue  # the pinned side is read at its own p95 only
                            runs[side][endpoint][-1].append(_phase(
                                bases[side], pids[side], endpoint, tokens, answers[side],
                                clients, args.seconds, side))
            print("RSS: " + "; ".join(f"{side} {_rss_mib(pid):.0f} MiB"
                                      for side, pid in pids.items()) + " (server + workers)")
        for base in ([core] if pinned else []) + ["1worker"]:
            _summary(runs, base, many, args.clients)
    finally:  # the copies of the data dir (store, keys, audit) go with the run
        shutil.rmtree(root, ignore_errors=True)


def _summary(runs: dict[str, dict[str, list[list[Figures]]]], base: str, many: str,
             clients: int) -> None:
    med = statistics.median
    name = {"1worker": "one unpinned worker (the stricter baseline: its ONNX threads use "
                       "every core)"}.get(base, f"{base} (1 worker pinned: the issue's baseline)")
    print(f"summary: {many} vs {name}, {clients} clients (median over rounds):")
    for endpoint in ("retrieve", "inspect"):
        one = [next(f for f in r if f.clients == clients) for r in runs[base][endpoint]]
        more = [next(f for f in r if f.clients == clients) for r in runs[many][endpoint]]
        ratios = [m.rate / o.rate for o, m in zip(one, more, strict=True)]
        errors = sum(f.errors for side in (base, many) for r in runs[side][endpoint] for f in r)
        print(f"  /v1/{endpoint}: {base} {med(f.rate for f in one):.1f} req/s "
              f"p95 {med(f.p95 for f in one):.1f} ms, CPU/req {med(f.server_cpu for f in one):.1f}"
              f" ms; {many} {med(f.rate for f in more):.1f} req/s p95 "
              f"{med(f.p95 for f in more):.1f} ms, CPU/req {med(f.server_cpu for f in more):.1f} "
              f"ms; ratio per round {', '.join(f'{x:.2f}' for x in ratios)} -> median "
              f"{med(ratios):.2f}x; errors {errors}")
    print(f"  /v1/retrieve at equal p95 (bound: the {base} p95 at {clients} clients of the "
          "same round):")
    equal: list[float] = []
    kinds: set[str] = set()
    for round_, (one_curve, many_curve) in enumerate(
            zip(runs[base]["retrieve"], runs[many]["retrieve"], strict=True), start=1):
        bound = next(f for f in one_curve if f.clients == clients).p95
        one_at, many_at = at_p95(one_curve, bound), at_p95(many_curve, bound)
        curve = ", ".join(f"{f.clients}c {f.rate:.1f}/s p95 {f.p95:.0f}"
                          for f in sorted(many_curve, key=lambda f: f.clients))
        if one_at is None or many_at is None:
            print(f"    round {round_}: bound {bound:.1f} ms; {many} [{curve}]: "
                  "no count reaches the bound, no ratio")
            continue
        equal.append(many_at[0] / one_at[0])
        kinds.add(many_at[1])
        print(f"    round {round_}: bound {bound:.1f} ms; {base} {one_at[0]:.1f} req/s; "
              f"{many} {many_at[1]} {many_at[0]:.1f} req/s [{curve}] -> "
              f"{many_at[1]} {equal[-1]:.2f}x")
    if equal:
        sign = ">= " if ">=" in kinds else ""
        print(f"    median ratio at equal p95 vs {base}: {sign}{med(equal):.2f}x "
              f"({len(equal)} rounds{'; >=: a lower bound' if sign else ''})")


if __name__ == "__main__":
    main()
