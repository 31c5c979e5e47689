"""The control-plane latency a ``/v1/retrieve`` adds: PostgreSQL vs the embedded files.

What one retrieve asks of the control plane, in the order the app asks it
(``api/_app.py``, ``api/_incident.py``), with the real parts built by
``api/_control_plane.py``:

1. the rate limiter takes a token (memory / one upsert);
2. the tenant freeze check (cached 2 s on both: read when stale);
3. the probing guard's throttle check and the query's near-duplicate check;
4. the tenant policy's head (``TenantPolicies`` rechecks it at most once a
   second; read here on every request: an upper bound);
5. one data key per returned document (``--docs``, default 5; never cached);
6. one audit record.

The vector search, embedding and sealing are left out: they do not depend on
the control plane (``benchmarks/retrieve.py`` times them). Rounds alternate
which backend runs first; the load average is printed beside every figure.
PostgreSQL is the local test server (``scripts/postgres.sh``; over TCP on
127.0.0.1, ``fsync=off`` as the test server runs: a production server with
fsync pays more per audit commit).

    export RAGSEAL_TEST_DATABASE_URL=$(scripts/postgres.sh)
    nice -n 5 .venv/bin/python benchmarks/control_plane.py [--requests 500] [--rounds 3]
"""

# ruff: noqa: T201  (a benchmark prints)
from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path


def _settings(data_dir: Path, url: str | None) -> object:
    from ragseal.api._settings import Settings

    return Settings(data_dir=data_dir, database_url=url, rate_limit_per_minute=10**9,
                    master_key=base64.b64encode(bytes(range(32))).decode())


def run(kind: str, url: str | None, requests: int, docs: int) -> list[float]:  # noqa: PLR0915
    """Per-request control-plane seconds for ``requests`` retrieves on one backend."""
    from ragseal.api._control_plane import (
        open_audit,
        open_freezes,
        open_keyring,
        open_policy_store,
        open_rate_limiter,
        probe_counters,
    )
    from ragseal.api._probing import ProbeGuard
    from ragseal.retrieval import Principal

    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp), url)
        keys = open_keyring(settings)  # type: ignore[arg-type]
        for d in range(docs):
            keys.ensure_data_key(f"doc{d}", "acme")
        audit = open_audit(settings, keys.secret("audit-seal"))  # type: ignore[arg-type]
        limiter = open_rate_limiter(settings)  # type: ignore[arg-type]
        freezes = open_freezes(settings)  # type: ignore[arg-type]
        policies = open_policy_store(settings)  # type: ignore[arg-type]
        counters, clock = probe_counters(settings)  # type: ignore[arg-type]
        guard = ProbeGuard(threshold=20.0, half_life=300.0, penalty=30.0, max_penalty=3600.0,
                           forgive=86400.0, keyed_hash=lambda t: str(hash(t)),
                           on_alert=lambda p, a: None, counters=counters, clock=clock)
        principal = Principal(sub=f"bench-{uuid.uuid4().hex[:6]}", tenant="acme",
                              groups=("all-staff",), roles=("employee",))
        times: list[float] = []
        for _ in range(requests):
            start = time.perf_counter()
            marks = [start]
            assert limiter.acquire((principal.tenant, principal.sub)) is None
            marks.append(time.perf_counter())
            assert not freezes.is_frozen(principal.tenant)
            assert guard.retry_after(principal) is None
            guard.observe(principal, "/v1/retrieve", text=("query", "what is the leave policy"))
            marks.append(time.perf_counter())
            policies.head(principal.tenant)
            marks.append(time.perf_counter())
            for d in range(docs):
                keys.data_key(f"doc{d}", "acme")
            marks.append(time.perf_counter())
            audit.record("retrieve", principal=principal, top_k=5, returned=docs)
            marks.append(time.perf_counter())
            times.append(marks[-1] - start)
            for name, a, b in zip(STEPS, marks, marks[1:], strict=False):
                steps.setdefault(f"{kind}/{name}", []).append(b - a)
        audit.close()
        keys.close()
    return times


STEPS = ("rate limit", "freeze+probing", "policy head", "data keys", "audit record")
steps: dict[str, list[float]] = {}


def round_trip(url: str, count: int = 200) -> float:
    """p50 seconds of ``SELECT 1`` through the pool: the machine's floor per statement."""
    from ragseal.store.postgres import database

    db = database(url)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        with db.statement() as conn:
            conn.execute("SELECT 1").fetchone()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _fmt(times: list[float]) -> str:
    ordered = sorted(times)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[int(len(ordered) * 0.95) - 1] * 1000
    return f"p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  mean {statistics.fmean(ordered) * 1000:6.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--docs", type=int, default=5, help="data keys opened per retrieve")
    args = parser.parse_args(argv)
    base_url = os.environ.get("RAGSEAL_TEST_DATABASE_URL")
    if not base_url:
        print("set RAGSEAL_TEST_DATABASE_URL (scripts/postgres.sh prints one)", file=sys.stderr)
        return 2
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"
    print(f"control-plane work of one /v1/retrieve ({args.docs} data keys), "
          f"{args.requests} requests per run, {args.rounds} rounds, alternating")
    results: dict[str, list[float]] = {"files": [], "postgres": []}
    try:
        for rnd in range(args.rounds):
            order = ("files", "postgres") if rnd % 2 == 0 else ("postgres", "files")
            for kind in order:
                times = run(kind, url if kind == "postgres" else None, args.requests, args.docs)
                results[kind] += times
                load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
                print(f"round {rnd + 1} {kind:8s} {_fmt(times)}   load {load}")
            rtt = round_trip(url) * 1000
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"round {rnd + 1} one PostgreSQL round trip (SELECT 1) p50 {rtt:.2f} ms"
                  f"   load {load}")
    finally:
        from ragseal.store.postgres import close_all

        close_all()
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    for kind, times in results.items():
        print(f"all      {kind:8s} {_fmt(times)}")
    for name, times in steps.items():
        print(f"  {name:24s} p50 {statistics.median(times) * 1000:6.2f} ms")
    added = statistics.median(results["postgres"]) - statistics.median(results["files"])
    print(f"PostgreSQL adds {added * 1000:+.2f} ms (p50) per retrieve over the embedded files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
