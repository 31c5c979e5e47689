"""A million chunks in the embedded store: filtered search per visibility class.

Vectors with the structure of real MiniLM embeddings: sentences of the SciFact
abstracts (``/work/shared/data/beir-scifact``, or ``--scifact``) embedded with
the project's own :class:`ragseal.ingest.Embedder`, then widened to
``--points`` by perturbing each real embedding along the difference of two
other real embeddings (a direction the model's own output spans, never a
uniform random one) plus a little Gaussian noise, and renormalising. The
queries are SciFact's claims, embedded the same way. Vectors are cached
under ``~/.cache/ragseal/scale``.

Labels: 2 tenants, 30 groups (15 a tenant, Zipf-sized, a quarter of the
chunks carry a second group), 4 levels (40/30/20/10 %), 300 users a tenant
(30 % of the chunks name one). Principals of tenant ``t0`` are picked so
that they see about 0.1 %, 1 %, 10 %, 50 % and 100 % of their tenant.

Every search goes through ``EdgeStore.search`` (the production access
filter inside the engine's search, and the store's own exact / approximate
plan). Printed per class: p50/p95, recall@10 against a numpy brute force
over the same visible set, with the load average beside it; the bulk load
(upsert, then the background index build, during which searches keep being
answered and checked); peak RSS and RSS while serving. ``--sweep`` adds the
raw engine modes (exact, HNSW at several ``hnsw_ef``, with and without
ACORN) that the store's thresholds were chosen from.

    nice -n 5 .venv/bin/python benchmarks/scale.py --points 1000000 --sweep 50
    .venv/bin/python benchmarks/scale.py --points 1000000 --keep /var/tmp/ragseal-scale
    .venv/bin/python benchmarks/scale.py --points 100000 --sweep 50

The walk's width (fifth round): the production path against other
store/_edge.py constants, alternated; the raw ACORN modes on the same
queries for every class; the 50k CI store of tests/store/test_scale.py
rebuilt once per seed (recall only; the worst build per mode at the end):

    .venv/bin/python benchmarks/scale.py --points 1000000 --keep /var/tmp/ragseal-scale \
        --ab HNSW_EF_NARROW=256 --rounds 4
    SCALE_MODES=acorn .venv/bin/python benchmarks/scale.py --points 1000000 \
        --keep /var/tmp/ragseal-scale --same-queries --no-production --sweep 100 \
        --efs 128,160,192,256 --sweep-classes 0.1,0.5,1.0
    SCALE_MODES=acorn .venv/bin/python benchmarks/scale.py --points 50000 \
        --ci-seeds 5,6,7,8,9 --sweep 200 --efs 128,160,256 --sweep-classes 0.1,0.5,1.0
"""

# ruff: noqa: T201  (a benchmark prints)

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragseal.store import AccessFilter, EdgeStore, Point, matches  # noqa: E402

DIM = 384
K = 10
TENANTS = 2
GROUPS_PER_TENANT = 15
LEVELS = 4
LEVEL_WEIGHTS = (0.4, 0.3, 0.2, 0.1)
USERS_PER_TENANT = 300
TARGETS = (0.001, 0.01, 0.10, 0.50, 1.0)
SCIFACT = ROOT.parent / "shared" / "data" / "beir-scifact"
CACHE = Path.home() / ".cache" / "ragseal" / "scale"
SEALED = "S" * 512  # stands in for the ciphertext: payload bytes the engine carries


# -- vectors -----------------------------------------------------------------------


def _sentences(scifact: Path) -> list[str]:
    out: list[str] = []
    with (scifact / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            out.append(doc["title"])
            out.extend(s for s in re.split(r"(?<=[.!?])\s+", doc["text"]) if len(s) > 20)
    return out


def _claims(scifact: Path) -> list[str]:
    with (scifact / "queries.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


def _embed_cached(name: str, texts: list[str]) -> np.ndarray:
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"{name}-{digest}.npy"
    if path.exists():
        return np.load(path)
    from ragseal.ingest import Embedder

    started = time.perf_counter()
    embedder = Embedder(batch_size=64)
    rows = np.empty((len(texts), DIM), dtype=np.float32)
    for i in range(0, len(texts), 2048):
        rows[i : i + 2048] = np.asarray(embedder.embed(texts[i : i + 2048]), dtype=np.float32)
    print(f"embedded {len(texts):,} {name} in {time.perf_counter() - started:.0f}s "
          f"(load {_load()})", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, rows)
    return rows


def scifact_vectors(
    n: int, seed: int, scifact: Path, real: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` unit vectors grown from ``real`` SciFact sentences, and its embedded claims."""
    sentences = _sentences(scifact)
    picked = np.random.default_rng(seed).permutation(len(sentences))[:real]
    base = _embed_cached("sentences", [sentences[i] for i in sorted(picked)])
    claims = _embed_cached("claims", _claims(scifact))
    return grow(base, n, seed), claims


def grow(base: np.ndarray, n: int, seed: int, cache: Path = CACHE) -> np.ndarray:
    """``n`` unit vectors from ``base`` real embeddings (memory-mapped cache file).

    The first ``len(base)`` are the real ones; each other is a real one moved
    by 0.15-0.45 x the difference of two more real ones (a direction in the
    span of the model's output), with a 0.02 Gaussian jitter, renormalised.
    """
    path = cache / f"vectors-{n}-{seed}-{hashlib.sha256(base.tobytes()).hexdigest()[:12]}.npy"
    if not path.exists():
        started = time.perf_counter()
        gen = np.random.default_rng(seed)
        cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, DIM))
        real = min(n, len(base))
        out[:real] = base[gen.permutation(len(base))[:real]]
        for start in range(real, n, 50_000):
            m = min(50_000, n - start)
            anchor = base[gen.integers(0, len(base), m)]
            direction = base[gen.integers(0, len(base), m)] - base[gen.integers(0, len(base), m)]
            scale = gen.uniform(0.15, 0.45, size=(m, 1)).astype(np.float32)
            noise = gen.normal(scale=0.02, size=(m, DIM)).astype(np.float32)
            rows = anchor + scale * direction + noise
            rows /= np.linalg.norm(rows, axis=1, keepdims=True)
            out[start : start + m] = rows
        out.flush()
        del out
        tmp.rename(path)
        print(f"generated {n:,} vectors from {len(base):,} real ones in "
              f"{time.perf_counter() - started:.0f}s", flush=True)
    return np.load(path, mmap_mode="r")


# -- labels and principals ------------------------------------------------------------


@dataclass
class Labels:
    tenant: np.ndarray  # int8
    level: np.ndarray  # int8
    groups: np.ndarray  # uint32 bit set over 30 groups
    user: np.ndarray  # int32, -1 for none

    @classmethod
    def make(cls, n: int, seed: int) -> Labels:
        gen = np.random.default_rng(seed + 1)
        tenant = gen.integers(0, TENANTS, n).astype(np.int8)
        level = gen.choice(LEVELS, size=n, p=LEVEL_WEIGHTS).astype(np.int8)
        zipf = 1.0 / np.arange(1, GROUPS_PER_TENANT + 1) ** 1.1
        first = gen.choice(GROUPS_PER_TENANT, size=n, p=zipf / zipf.sum())
        second = np.where(gen.random(n) < 0.25, gen.integers(0, GROUPS_PER_TENANT, n), first)
        offset = tenant.astype(np.int64) * GROUPS_PER_TENANT
        groups = ((1 << (first + offset)) | (1 << (second + offset))).astype(np.uint32)
        user = np.where(gen.random(n) < 0.3, gen.integers(0, USERS_PER_TENANT, n), -1)
        return cls(tenant, level, groups, user.astype(np.int32))

    def payload(self, i: int, pid: str) -> dict[str, object]:
        t = int(self.tenant[i])
        bits = int(self.groups[i])
        return {
            "tenant": f"t{t}",
            "doc_id": f"d{i // 12}",
            "chunk_id": pid,
            "level": int(self.level[i]),
            "groups": [f"g{g}" for g in range(TENANTS * GROUPS_PER_TENANT) if bits >> g & 1],
            "users": [f"u{t}-{self.user[i]}"] if self.user[i] >= 0 else [],
            "quarantined": 0,
            "sealed": SEALED,
        }

    def visible(self, access: AccessFilter) -> np.ndarray:
        """Indices ``access`` may see (vectorised ``store.matches``)."""
        t = int(access.tenant[1:])
        bits = np.uint32(sum(1 << int(g[1:]) for g in access.groups))
        user = int(access.user.split("-")[1])
        mask = (self.tenant == t) & (self.level <= access.max_level)
        mask &= ((self.groups & bits) != 0) | (self.user == user)
        return np.flatnonzero(mask)


def pick_principals(labels: Labels) -> list[tuple[float, AccessFilter, int]]:
    """One principal of tenant t0 per target share of the tenant, closest found."""
    tenant_size = int((labels.tenant == 0).sum())
    sizes = [int(((labels.groups >> g) & 1)[labels.tenant == 0].sum())
             for g in range(GROUPS_PER_TENANT)]
    order = sorted(range(GROUPS_PER_TENANT), key=lambda g: -sizes[g])
    group_sets: list[tuple[int, ...]] = [()]
    group_sets += [(g,) for g in order]
    group_sets += [tuple(order[: k + 1]) for k in range(1, GROUPS_PER_TENANT)]
    group_sets += [(order[a], order[b]) for a in range(6) for b in range(a + 1, 6)]
    candidates = []
    for level in range(LEVELS):
        for groups in group_sets:
            access = AccessFilter("t0", level, tuple(f"g{g}" for g in groups), "u0-7")
            candidates.append((access, len(labels.visible(access))))
    out = []
    for target in TARGETS:
        want = target * tenant_size
        access, seen = min(candidates, key=lambda c: abs(np.log(max(c[1], 1) / want)))
        out.append((target, access, seen))
    return out


def true_top_k(vectors: np.ndarray, visible: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Row numbers of the K best visible vectors per query (numpy, float32, chunked)."""
    best_s = np.full((len(queries), K), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), K), dtype=np.int64)
    for start in range(0, len(visible), 100_000):
        rows = visible[start : start + 100_000]
        scores = np.asarray(vectors[rows], dtype=np.float32) @ queries.T  # (m, q)
        all_s = np.concatenate([best_s, scores.T], axis=1)
        all_i = np.concatenate([best_i, np.broadcast_to(rows, (len(queries), len(rows)))], axis=1)
        keep = np.argsort(-all_s, axis=1)[:, :K]
        best_s = np.take_along_axis(all_s, keep, axis=1)
        best_i = np.take_along_axis(all_i, keep, axis=1)
    return best_i


# -- measuring --------------------------------------------------------------------------


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _rss() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) // 1024
    return out


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def point_id(i: int) -> str:
    return str(uuid.UUID(int=i + 1, version=4))


@dataclass
class Row:
    latencies: list[float] = field(default_factory=list)
    recalls: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # this process's CPU ms per query

    def add(self, ms: float, got: Sequence[str], truth: Sequence[str],
            cpu_ms: float | None = None) -> None:
        self.latencies.append(ms)
        if cpu_ms is not None:
            self.cpu.append(cpu_ms)
        self.recalls.append(len(set(got) & set(truth)) / max(1, len(truth)))

    def extend(self, other: Row) -> None:
        """Add ``other``'s queries (alternated rounds of one mode pool into one row)."""
        self.latencies += other.latencies
        self.recalls += other.recalls
        self.cpu += other.cpu

    def text(self) -> str:
        return (f"p50 {_pct(self.latencies, 0.5):7.1f} ms  p95 {_pct(self.latencies, 0.95):7.1f} ms"
                f"  recall@{K} {statistics.fmean(self.recalls):.3f}"
                f" (min {min(self.recalls):.1f}, {len(self.latencies)} q)"
                + (f"  CPU/wall {sum(self.cpu) / sum(self.latencies):.2f}" if self.cpu else ""))


@dataclass
class Klass:
    target: float
    access: AccessFilter
    visible: int
    queries: np.ndarray
    truth: list[list[str]]


def bulk_load(store: EdgeStore, labels: Labels, vectors: np.ndarray, batch: int = 2048) -> float:
    started = time.perf_counter()
    n = len(labels.tenant)
    for start in range(0, n, batch):
        rows = np.asarray(vectors[start : start + batch], dtype=np.float32).tolist()
        store.upsert([Point(point_id(i), rows[i - start], labels.payload(i, point_id(i)))
                      for i in range(start, min(n, start + batch))])
        if start and start % 200_000 < batch:
            print(f"  upserted {start:,} ({time.perf_counter() - started:.0f}s, load {_load()})",
                  flush=True)
    return time.perf_counter() - started


def search_row(store: EdgeStore, klass: Klass, count: int | None = None) -> Row:
    row = Row()
    for q, truth in list(zip(klass.queries, klass.truth, strict=True))[:count]:
        started, cpu = time.perf_counter(), time.process_time()
        hits = store.search(q.tolist(), klass.access, K)
        row.add((time.perf_counter() - started) * 1000, [h.id for h in hits], truth,
                (time.process_time() - cpu) * 1000)
        assert all(matches(h.payload, klass.access) for h in hits), "a hit it may not see"
    return row


def raw_row(store: EdgeStore, klass: Klass, params: object, count: int) -> Row:
    """One raw engine mode on the production filter (``--sweep``)."""
    from qdrant_edge import Query, QueryRequest
    from ragseal.store import edge_access_filter

    flt = edge_access_filter(klass.access)
    row = Row()
    for q, truth in list(zip(klass.queries, klass.truth, strict=True))[:count]:
        request = QueryRequest(limit=K, query=Query.Nearest(q.tolist()), filter=flt,
                               params=params, with_payload=False)  # type: ignore[arg-type]
        started, cpu = time.perf_counter(), time.process_time()
        points = store._shard.query(request)
        row.add((time.perf_counter() - started) * 1000, [str(p.id) for p in points], truth,
                (time.process_time() - cpu) * 1000)
    return row


def sweep_modes(efs: Sequence[int] = (64, 128, 256, 512, 1024),
                oversampling: Sequence[float] = (2.0,)) -> Iterator[tuple[str, object]]:
    modes = os.environ.get("SCALE_MODES", "")  # e.g. "exact,acorn" picks modes by substring
    for name, params in _all_modes(efs, oversampling):
        if not modes or any(m in name for m in modes.split(",")):
            yield name, params


def _all_modes(efs: Sequence[int], oversampling: Sequence[float]) -> Iterator[tuple[str, object]]:
    from qdrant_edge import AcornSearchParams, QuantizationSearchParams, SearchParams

    yield "exact (float32 scan)", SearchParams(exact=True)
    for over in (2.0, 4.0):
        yield (f"exact int8 scan, best {over:g}x rescored",
               SearchParams(exact=True, quantization=QuantizationSearchParams(
                   rescore=True, oversampling=over)))
    for ef in efs:
        for over in oversampling:
            if over == 0:  # the walk on the float32 vectors, int8 codes left aside
                rescore = QuantizationSearchParams(ignore=True)
                tag = f"ef={ef} float32"
            else:
                rescore = QuantizationSearchParams(rescore=True, oversampling=over)
                tag = f"ef={ef} int8+rescore" + ("" if over == 2.0 else f" {over:g}x")
            yield f"hnsw {tag}", SearchParams(hnsw_ef=ef, quantization=rescore)
            yield (f"hnsw {tag} acorn",
                   SearchParams(hnsw_ef=ef, quantization=rescore,
                                acorn=AcornSearchParams(enable=True)))


def during_build(store: EdgeStore, klasses: list[Klass], n: int) -> Callable[[], str]:
    """Search and count in a loop while the index builds; returns a summary callable."""
    row, counts, stop = Row(), [], threading.Event()

    def loop() -> None:
        i = 0
        while not stop.is_set():
            klass = klasses[i % len(klasses)]
            j = (i // len(klasses)) % len(klass.queries)
            started = time.perf_counter()
            hits = store.search(klass.queries[j].tolist(), klass.access, K)
            row.add((time.perf_counter() - started) * 1000, [h.id for h in hits], klass.truth[j])
            counts.append(store.count())
            i += 1
            stop.wait(0.5)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()

    def finish() -> str:
        stop.set()
        thread.join()
        if not row.latencies:
            return "no search ran during the build"
        missing = sum(c != n for c in counts)
        return (f"{len(row.latencies)} searches during the build: {row.text()}; "
                f"count() == {n:,} in {len(counts) - missing}/{len(counts)}")

    return finish


def run(
    vectors: np.ndarray, claims: np.ndarray, *, queries: int, seed: int,
    sweep: int = 0, workdir: Path | None = None, keep: Path | None = None,
    efs: Sequence[int] = (64, 128, 256, 512, 1024), oversampling: Sequence[float] = (2.0,),
    rounds: int = 1, sweep_classes: Sequence[float] = (), production: bool = True,
    sweep_out: dict[tuple[str, float], Row] | None = None, same_queries: bool = False,
    ab: dict[str, float] | None = None,
) -> dict[float, Row]:
    """Load, index and search one store; prints as it goes; returns a row per class.

    The raw modes of ``--sweep`` run ``rounds`` times, alternated (each round
    every mode on every class of ``sweep_classes``, all if empty), so that
    their latencies share the same load; their rows go to ``sweep_out``.
    """
    n = len(vectors)
    labels = Labels.make(n, seed)
    gen = np.random.default_rng(seed + 2)
    tenant_size = int((labels.tenant == 0).sum())
    klasses = []
    started = time.perf_counter()
    first = claims[gen.choice(len(claims), size=min(queries, len(claims)), replace=False)]
    for target, access, seen in pick_principals(labels):
        picked = first if same_queries or target == TARGETS[0] else claims[
            gen.choice(len(claims), size=min(queries, len(claims)), replace=False)]
        visible = labels.visible(access)
        rows = true_top_k(vectors, visible, picked)[:, : min(K, len(visible))]
        truth = [[point_id(int(i)) for i in r] for r in rows]
        klasses.append(Klass(target, access, seen, picked, truth))
        print(f"  class {target:>6.1%}: sees {seen:,} = {seen / tenant_size:.2%} of tenant t0 "
              f"(max_level {access.max_level}, {len(access.groups)} groups)", flush=True)
    print(f"ground truth (numpy) in {time.perf_counter() - started:.0f}s", flush=True)

    results: dict[float, Row] = {}
    with contextlib.ExitStack() as stack:
        if keep is None:
            place = Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix="ragseal-scale-", dir=workdir))) / "store"
        else:
            place = keep / f"store-{n}-{seed}"
        reused = place.exists()
        store = EdgeStore(place, DIM)  # background index build, as in production
        if reused:
            assert store.count() == n, f"{place} holds {store.count():,} points, not {n:,}"
            print(f"reusing the loaded store {place} ({n:,} points): no upsert", flush=True)
            upsert_s = 0.0
        else:
            upsert_s = bulk_load(store, labels, vectors)
            print(f"upsert {n:,}: {upsert_s:.0f}s ({n / upsert_s:,.0f}/s), "
                  f"load {_load()}, RSS {_rss()}", flush=True)
        started = time.perf_counter()
        finish = during_build(store, klasses, n)
        store.wait_indexed()
        build_s = time.perf_counter() - started
        print(f"index build (background, after the last write): {build_s:.0f}s, "
              f"load {_load()}; {finish()}", flush=True)
        info = store._shard.info()
        print(f"bulk load total {upsert_s + build_s:.0f}s; segments {info.segments_count}, "
              f"indexed vectors {info.indexed_vectors_count:,}; peak RSS: this process "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024:,} MiB, "
              f"the builder {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024:,}"
              " MiB", flush=True)
        for klass in klasses:
            search_row(store, klass, 5)  # warm the caches (the swapped-in shard is cold)
        if production:
            print(f"\nEdgeStore.search at {n:,} points (production path):")
            for klass in klasses:
                row = results[klass.target] = search_row(store, klass)
                print(f"  {klass.target:>6.1%} ({klass.visible:>7,} visible, estimated "
                      f"{_estimate(store, klass.access) / n:.3f} of the shard)  {row.text()}"
                      f"  load {_load()}", flush=True)
            print(f"RSS while serving: {_rss()} MiB (includes the benchmark's own arrays)")
        if ab:
            _ab(store, klasses, ab, rounds)
        if sweep:
            _sweep(store, [k for k in klasses if not sweep_classes or k.target in sweep_classes],
                   list(sweep_modes(efs, oversampling)), sweep, rounds,
                   {} if sweep_out is None else sweep_out)
        store.close()
    return results


def _estimate(store: EdgeStore, access: AccessFilter) -> int:
    """The engine's estimate of the visible set, which the store's plan reads."""
    from qdrant_edge import CountRequest
    from ragseal.store import edge_access_filter

    request = CountRequest(exact=False, filter=edge_access_filter(access))
    return int(store._shard.count(request))


def _plan_module() -> Any:
    """The module holding the store's search-plan constants, which the A/B and
    the CI builds change as tests/store/test_scale.py does (a benchmark measures
    the store's insides; it does not import another package's private module)."""
    return sys.modules[EdgeStore.__module__]


def _ab(store: EdgeStore, klasses: list[Klass], other: dict[str, float], rounds: int) -> None:
    """The production path against the same with ``other`` store/_edge.py constants,
    alternated ``rounds`` times (the plan as it stands first in odd rounds)."""
    edge_module = _plan_module()
    plan = {name: getattr(edge_module, name) for name in other}
    sides = {"plan": plan, "other": other}
    rows: dict[tuple[str, float], Row] = {}
    for r in range(rounds):
        for side in (("plan", "other") if r % 2 == 0 else ("other", "plan")):
            for name, value in sides[side].items():
                setattr(edge_module, name, type(plan[name])(value))
            for klass in klasses:
                rows.setdefault((side, klass.target), Row()).extend(search_row(store, klass))
            print(f"  a/b round {r + 1}/{rounds}, {side} done: load {_load()}", flush=True)
    for name, value in plan.items():
        setattr(edge_module, name, value)
    for side in ("plan", "other"):
        print(f"\nproduction path, {side} {sides[side]} ({rounds} alternated rounds):")
        for klass in klasses:
            print(f"  {klass.target:>6.1%} ({klass.visible:>7,} visible)  "
                  f"{rows[(side, klass.target)].text()}", flush=True)


def _sweep(store: EdgeStore, klasses: list[Klass], modes: list[tuple[str, object]],
           count: int, rounds: int, out: dict[tuple[str, float], Row]) -> None:
    for r in range(rounds):
        loads = []
        for name, params in modes:
            for klass in klasses:
                out.setdefault((name, klass.target), Row()).extend(
                    raw_row(store, klass, params, count))
            loads.append(_load())
        print(f"  sweep round {r + 1}/{rounds}: load {loads[0]} -> {loads[-1]}", flush=True)
    for name, _ in modes:
        print(f"\nraw mode: {name} ({rounds} alternated round(s))")
        for klass in klasses:
            row = out[(name, klass.target)]
            print(f"  {klass.target:>6.1%} ({klass.visible:>7,} visible)  {row.text()}",
                  flush=True)


def sample_sentences(root: Path = ROOT) -> list[str]:
    """The sentences of the project's sample corpus (the CI store's vectors grow from them)."""
    out: list[str] = []
    for path in sorted((root / "samples" / "corpus").rglob("*")):
        if path.suffix in {".md", ".txt", ".eml", ".html"}:
            text = re.sub(r"<[^>]+>|[#|*_-]{2,}", " ", path.read_text(encoding="utf-8"))
            out.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+|\n\s*\n", text)
                       if len(s.strip()) > 30)
    return sorted(set(out))


def ci_builds(seeds: Sequence[int], points: int, **sweep: object) -> None:
    """The CI store of tests/store/test_scale.py (sample-corpus vectors, tight
    clusters), built once per seed (vectors, labels and build differ), every
    class above 1,000 visible on the approximate path; the raw modes swept on
    each build, and the worst build per mode and class printed at the end."""
    from ragseal.ingest import Embedder

    edge_module = _plan_module()

    sentences = sample_sentences()
    embedded = np.asarray(Embedder().embed(sentences), dtype=np.float32)
    held_out = np.arange(len(sentences)) % 5 == 0
    edge_module.EXACT_MAX_VISIBLE = 1_000
    edge_module.INDEX_QUIET_SECONDS = 0.2
    worst: dict[tuple[str, float], list[float]] = {}
    production: dict[float, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="ragseal-scale-ci-") as tmp:
        for seed in seeds:
            print(f"\n== CI store build, seed {seed}, load {_load()}", flush=True)
            vectors = grow(embedded[~held_out], points, seed=seed, cache=Path(tmp))
            out: dict[tuple[str, float], Row] = {}
            rows = run(vectors, embedded[held_out], queries=200, seed=seed, sweep_out=out,
                       workdir=Path(tmp), **sweep)  # type: ignore[arg-type]
            for target, row in rows.items():
                production.setdefault(target, []).append(statistics.fmean(row.recalls))
            for key, row in out.items():
                worst.setdefault(key, []).append(statistics.fmean(row.recalls))
    print(f"\n== recall@{K} over {len(seeds)} builds (mean per build; min across builds)")
    for target, recalls in production.items():
        print(f"  production path  {target:>6.1%}: "
              f"{' '.join(f'{r:.3f}' for r in recalls)}  min {min(recalls):.3f}")
    for (name, target), recalls in worst.items():
        print(f"  {name:<34} {target:>6.1%}: "
              f"{' '.join(f'{r:.3f}' for r in recalls)}  min {min(recalls):.3f}")


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=100, help="per visibility class")
    parser.add_argument("--sweep", type=int, default=0, metavar="Q",
                        help="also the raw engine modes, Q queries a class")
    parser.add_argument("--efs", default="64,128,256,512,1024", help="hnsw_ef of the sweep")
    parser.add_argument("--oversampling", default="2",
                        help="rescoring oversampling of the sweep (0: the walk on float32)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="sweep rounds, the modes alternated (latency under a varying load)")
    parser.add_argument("--sweep-classes", default="", metavar="SHARES",
                        help="sweep only these classes, e.g. 0.5,1.0")
    parser.add_argument("--same-queries", action="store_true",
                        help="the same queries for every class (default: drawn per class)")
    parser.add_argument("--ab", default="", metavar="NAME=VALUE,...",
                        help="also the production path with these store/_edge.py constants, "
                             "alternated --rounds times with the plan as it stands "
                             "(e.g. HNSW_EF_NARROW=256)")
    parser.add_argument("--no-production", action="store_true",
                        help="skip the production-path rows (sweep only)")
    parser.add_argument("--ci-seeds", default="", metavar="SEEDS",
                        help="instead: build the 50k CI store of tests/store/test_scale.py "
                             "once per seed (e.g. 5,6,7,8,9) and sweep each build")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--scifact", type=Path, default=SCIFACT)
    parser.add_argument("--real", type=int, default=12_000,
                        help="SciFact sentences embedded (of ~50k; 2 cores embed ~40/s loaded)")
    parser.add_argument("--dir", type=Path, default=None, help="where the store goes (temp)")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="keep the loaded store under DIR and reuse it next time "
                             "(measure the searches again without the hour of upsert)")
    args = parser.parse_args()

    sweep = {"sweep": args.sweep, "efs": [int(x) for x in _floats(args.efs)],
             "oversampling": _floats(args.oversampling), "rounds": args.rounds,
             "sweep_classes": _floats(args.sweep_classes),
             "production": not args.no_production, "same_queries": args.same_queries,
             "ab": {k: float(v) for k, _, v in
                    (pair.partition("=") for pair in args.ab.split(",") if pair)}}
    if args.ci_seeds:
        print(f"scale benchmark, CI store: {args.points:,} points, {os.cpu_count()} CPUs, "
              f"load {_load()}", flush=True)
        ci_builds([int(x) for x in _floats(args.ci_seeds)], args.points, **sweep)
        return
    print(f"scale benchmark: {args.points:,} points, {os.cpu_count()} CPUs, load {_load()}",
          flush=True)
    vectors, claims = scifact_vectors(args.points, args.seed, args.scifact, args.real)
    run(vectors, claims, queries=args.queries, seed=args.seed, workdir=args.dir,
        keep=args.keep, **sweep)


if __name__ == "__main__":
    main()
