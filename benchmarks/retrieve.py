"""Ingest the sample corpus, then time POST /v1/retrieve over real HTTP.

Prints the ingest time of the sample corpus, p50/p95 of /v1/retrieve over
N queries (uvicorn on loopback, httpx client, one principal per query drawn
from four), and, in the same run, the insecure baseline: embed the raw query
and search the same engine with no filter, no masking, no opening. The ratio
is the price of the secure path.

    .venv/bin/python benchmarks/retrieve.py [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragseal.classification import ensure_offline  # noqa: E402

ensure_offline()

from _workload import PRINCIPALS, QUERIES, pct, serving  # noqa: E402  (benchmarks/ is on sys.path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="ragseal-bench-"))
    os.environ["RAGSEAL_DATA_DIR"] = str(data_dir)
    os.environ["RAGSEAL_JWT_SECRET"] = "bench-secret-" + "x" * 40

    import httpx
    from ragseal.api._app import create_app
    from ragseal.api._auth import mint_token
    from ragseal.api._container import Services
    from ragseal.api._settings import Settings
    from ragseal.ingest import ingest_paths, load_manifest
    from ragseal.store import AccessFilter

    settings = Settings()
    services = Services(settings)
    t0 = time.perf_counter()
    services.warm_up()
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    corpus = ROOT / "samples" / "corpus"
    report = ingest_paths(services.ingestor, [corpus], load_manifest(corpus / "acl.yaml"),
                          exclude=[corpus / "acl.yaml"])
    ingest_s = time.perf_counter() - t0
    print(f"models warm-up: {warm:.1f}s")
    print(f"ingest sample corpus: {len(report.ingested)} files, {report.chunks} chunks, "
          f"{len(report.refused)} refused, {ingest_s:.1f}s")


    secret = settings.jwt_secret.get_secret_value()  # type: ignore[union-attr]
    tokens = [mint_token(secret, **p) for p in PRINCIPALS]  # type: ignore[arg-type]
    rng = random.Random(7)
    secure: list[float] = []
    with serving(create_app(settings, services)) as base, \
            httpx.Client(base_url=base, timeout=30) as client:
        for i in range(args.queries + 10):
            token, query = rng.choice(tokens), rng.choice(QUERIES)
            t = time.perf_counter()
            r = client.post("/v1/retrieve", json={"query": query, "top_k": 5},
                            headers={"Authorization": f"Bearer {token}"})
            elapsed = (time.perf_counter() - t) * 1000
            r.raise_for_status()
            if i >= 10:  # warm-up requests not counted
                secure.append(elapsed)

    # Baseline: the insecure path on the same engine: embed the raw query, search
    # with a filter that admits everything, return payloads as they are.
    everyone = AccessFilter(tenant="acme", max_level=10, groups=("all-staff",), user="*")
    plain: list[float] = []
    for _ in range(args.queries):
        query = rng.choice(QUERIES)
        t = time.perf_counter()
        vector = services.embedder.embed([query])[0]
        services.store.search(vector, everyone, 5)
        plain.append((time.perf_counter() - t) * 1000)
    services.close()

    p50, p95 = statistics.median(secure), pct(secure, 0.95)
    b50, b95 = statistics.median(plain), pct(plain, 0.95)
    print(f"/v1/retrieve over HTTP ({args.queries} queries, 4 principals): "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print(f"baseline embed+search in-process, no security: p50 {b50:.1f} ms, p95 {b95:.1f} ms")
    print(f"ratio secure/baseline: p50 {p50 / b50:.2f}x, p95 {p95 / b95:.2f}x")


if __name__ == "__main__":
    main()
