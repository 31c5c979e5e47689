"""Filtered search on the embedded store (Qdrant Edge) vs qdrant-client local mode.

Synthetic but shaped like ragseal's data: clustered, normalised 384-d vectors;
payloads with 20 tenants, 40 groups, 4 levels, a few users and a 1 KB
"sealed" string. Every query carries the full access filter (tenant, level,
groups or user) and goes through ``VectorStore.search``, i.e. the real path
including EdgeStore's exact/HNSW choice. Prints upsert rate, search p50/p95
and recall@10 against a numpy brute force over the visible points, for both
engines, and the ratio. With ``--optimize`` the Edge figures are taken again
after building the HNSW graph.

qdrant-client local mode is pure-Python brute force (~2 s a query at 100k),
so it gets fewer queries (``--client-queries``, default 30).

    .venv/bin/python benchmarks/store.py [--points 100000] [--queries 200] [--optimize]
"""

# ruff: noqa: T201, S311  (a benchmark prints; seeded data is not a secret)

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragseal.store import AccessFilter, EdgeStore, Point, VectorStore, matches  # noqa: E402

DIM = 384
TENANTS, GROUPS, LEVELS, USERS = 20, 40, 4, 500
K = 10


@dataclass
class Corpus:
    ids: list[str]
    vectors: np.ndarray  # (n, DIM) float32, unit rows
    tenant: np.ndarray
    level: np.ndarray
    group_bits: np.ndarray  # uint64 bit set of the point's groups
    users: np.ndarray  # (n, 2) user numbers, -1 for none
    payloads: list[dict[str, object]]

    def visible(self, access: AccessFilter) -> np.ndarray:
        """Indices of the points ``access`` may see (vectorised ``store.matches``)."""
        bits = np.uint64(sum(1 << int(g[1:]) for g in access.groups))
        user = int(access.user[1:])
        mask = (self.tenant == int(access.tenant[1:])) & (self.level <= access.max_level)
        mask &= ((self.group_bits & bits) != 0) | (self.users == user).any(axis=1)
        return np.flatnonzero(mask)


def make_corpus(n: int, seed: int) -> Corpus:
    gen = np.random.default_rng(seed)
    clusters = max(50, n // 400)
    centres = gen.normal(size=(clusters, DIM)).astype(np.float32)
    members = gen.choice(clusters, size=n, p=gen.dirichlet(np.full(clusters, 0.7)))
    spread = gen.uniform(0.2, 0.9, size=clusters).astype(np.float32)[members, None]
    vectors = centres[members] + spread * gen.normal(size=(n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    tenant = gen.integers(0, TENANTS, n)
    level = gen.integers(0, LEVELS, n)
    n_groups = gen.integers(1, 4, n)
    group_sets = [gen.choice(GROUPS, size=k, replace=False) for k in n_groups]
    group_bits = np.array([sum(1 << int(g) for g in gs) for gs in group_sets], dtype=np.uint64)
    users = np.where(gen.random((n, 2)) < [0.3, 0.05], gen.integers(0, USERS, (n, 2)), -1)
    rng = random.Random(seed)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n)]
    sealed = "A" * 1024
    payloads: list[dict[str, object]] = [
        {
            "tenant": f"t{tenant[i]}",
            "doc_id": f"doc{i // 8}",
            "chunk_id": ids[i],
            "level": int(level[i]),
            "groups": [f"g{g}" for g in sorted(group_sets[i])],
            "users": [f"u{u}" for u in users[i] if u >= 0],
            "sealed": sealed,
        }
        for i in range(n)
    ]
    return Corpus(ids, vectors, tenant, level, group_bits, users, payloads)


def make_queries(corpus: Corpus, count: int, seed: int) -> list[tuple[np.ndarray, AccessFilter]]:
    gen = np.random.default_rng(seed)
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        near = corpus.vectors[gen.integers(0, len(corpus.ids))]
        q = near + 0.5 * gen.normal(size=DIM).astype(np.float32) / np.sqrt(DIM)
        access = AccessFilter(
            tenant=f"t{rng.randrange(TENANTS)}",
            max_level=rng.randrange(LEVELS),
            groups=tuple(f"g{g}" for g in rng.sample(range(GROUPS), rng.randint(1, 3))),
            user=f"u{rng.randrange(USERS)}",
        )
        out.append((q / np.linalg.norm(q), access))
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def load(store: VectorStore, corpus: Corpus, batch: int = 500) -> float:
    """Upsert the corpus; returns points per second."""
    start = time.perf_counter()
    for i in range(0, len(corpus.ids), batch):
        store.upsert(
            [
                Point(corpus.ids[j], corpus.vectors[j].tolist(), corpus.payloads[j])
                for j in range(i, min(i + batch, len(corpus.ids)))
            ]
        )
    return len(corpus.ids) / (time.perf_counter() - start)


@dataclass
class Run:
    latencies: list[float]  # ms, per query in order
    recalls: list[float]
    visible: list[int]

    def summary(self, first: int | None = None) -> str:
        lat, rec = self.latencies[:first], self.recalls[:first]
        return (
            f"p50 {_pct(lat, 0.50):8.1f} ms  p95 {_pct(lat, 0.95):8.1f} ms  "
            f"recall@{K} {statistics.fmean(rec):.3f}  ({len(lat)} queries, median visible "
            f"{int(statistics.median(self.visible[:first]))})"
        )


def measure(
    store: VectorStore, corpus: Corpus, queries: list[tuple[np.ndarray, AccessFilter]]
) -> Run:
    """Search latency and recall@K against a brute force over the visible points."""
    run = Run([], [], [])
    for q, access in queries:
        started = time.perf_counter()
        hits = store.search(q.tolist(), access, K)
        run.latencies.append((time.perf_counter() - started) * 1000)
        seen = corpus.visible(access)
        run.visible.append(len(seen))
        truth = {corpus.ids[i] for i in seen[np.argsort(-(corpus.vectors[seen] @ q))[:K]]}
        got = {h.id for h in hits}
        assert all(matches(h.payload, access) for h in hits), "a hit the principal may not see"
        run.recalls.append(len(got & truth) / len(truth) if truth else float(not got))
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--client-queries", type=int, default=30)
    parser.add_argument("--optimize", action="store_true", help="also measure Edge with HNSW")
    parser.add_argument("--no-client", action="store_true", help="skip qdrant-client local")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    corpus = make_corpus(args.points, args.seed)
    queries = make_queries(corpus, args.queries, args.seed + 1)
    print(
        f"data: {args.points} points x {DIM} dims, {TENANTS} tenants, {GROUPS} groups, "
        f"{LEVELS} levels (generated in {time.perf_counter() - started:.1f}s)"
    )
    with tempfile.TemporaryDirectory(prefix="ragseal-bench-") as tmp:
        edge = EdgeStore(Path(tmp) / "edge", DIM, background_index=False)  # optimize() below
        rate = load(edge, corpus)
        print(f"EdgeStore upsert: {rate:,.0f} points/s")
        edge_run = measure(edge, corpus, queries)
        print(f"{'EdgeStore search (no HNSW built)':<36}{edge_run.summary()}")
        if args.optimize:
            started = time.perf_counter()
            edge.optimize()
            print(f"EdgeStore optimize (HNSW build): {time.perf_counter() - started:.0f}s")
            hnsw_run = measure(edge, corpus, queries)
            print(f"{'EdgeStore search (HNSW built)':<36}{hnsw_run.summary()}")
        edge.close()
    if args.no_client:
        return
    from qdrant_client import QdrantClient
    from ragseal.store import ClientStore

    client = ClientStore(QdrantClient(":memory:"), "bench", DIM)
    rate = load(client, corpus)
    print(f"qdrant-client local upsert: {rate:,.0f} points/s")
    few = min(args.client_queries, len(queries))
    client_run = measure(client, corpus, queries[:few])
    client.close()
    print(f"{'qdrant-client local search':<36}{client_run.summary()}")
    print(f"  (only the first {few} of the {len(queries)} queries: local mode is brute force)")
    print(f"{'EdgeStore on those same queries':<36}{edge_run.summary(few)}")
    for q, name in ((0.50, "p50"), (0.95, "p95")):
        ratio = _pct(client_run.latencies, q) / _pct(edge_run.latencies[:few], q)
        print(f"ratio qdrant-client local / EdgeStore, {name}: {ratio:,.0f}x")


if __name__ == "__main__":
    main()
