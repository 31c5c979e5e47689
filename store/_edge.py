"""Qdrant Edge backend: the embedded default vector store (in-process shard).

The shard lives in one directory (created on first use, loaded afterwards)
and is locked by one process at a time. See ``docs/TRAPS.md`` ("Qdrant
Edge") for the measured behaviour behind the choices made here, and
``docs/ARCHITECTURE.md`` ("The embedded store at a million chunks") for the
plan: payload indexes that know the tenant field, HNSW with per-value links
for the filtered fields, int8 scalar quantization with rescoring, and an
index built in a background thread after writes settle, while searches go on.

Why one module past 400 lines: opening and locking the shard, the search
plan (exact or approximate, with its completeness check) and the swap of a
background-built generation all work on the same shard handle and its lock;
apart, each would reach into the others' private state.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from qdrant_edge import (
    AcornSearchParams,
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeOptimizersConfig,
    EdgeShard,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    HnswIndexConfig,
    IntegerIndexParams,
    KeywordIndexParams,
    MatchAny,
    MatchValue,
    QuantizationSearchParams,
    Query,
    QueryRequest,
    RangeFloat,
    ScalarQuantizationConfig,
    ScalarType,
    ScoredPoint,
    ScrollRequest,
    SearchParams,
    UpdateOperation,
)
from qdrant_edge import Point as EdgePoint

from ._errors import StoreError, StoreLocked
from ._fingerprints import FINGERPRINT_FIELD
from ._private import private_dir
from ._types import QUARANTINED, AccessFilter, Hit, Point
from ._validate import canonical_id, check_labels, check_vector

__all__ = ["EdgeStore", "edge_access_filter", "store_in_use"]

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

# -- search plan (measured: benchmarks/scale.py, docs/ARCHITECTURE.md) ---------
# A principal whose visible set is estimated at no more than
# EXACT_MAX_VISIBLE points gets an exact float32 scan of exactly those
# points through the payload indexes: the true top-k, at a cost that grows
# with the visible set (not the store). Above it the engine searches its
# HNSW graph (per segment: Qdrant still scans a segment whose share of the
# filter is small) with int8 quantized vectors and the best OVERSAMPLING x
# limit candidates rescored with the float32 vectors: approximate. Where the
# filter keeps under ACORN_MAX_SELECTIVITY of a segment the walk uses ACORN
# (neighbours of neighbours: the filter cuts a plain walk short); above it a
# plain walk at HNSW_EF (the selectivity is Qdrant's estimate, per segment:
# it reads a compound filter low, so ACORN also serves principals who see
# half the shard). Measured at 1M points (benchmarks/README.md, "A million
# chunks"): an exact scan of 51k visible points beat ACORN at ef 64-256 (92
# vs 125-234 ms, same load) with the true top-k; ef 256 lifted the widest
# principal's recall@10 from 0.979-0.987 (ef 128) to 0.997-0.999, while a
# narrower one (a quarter of the shard, estimated at 0.12) paid 1.5-1.7x its
# time at 256 (51-61 ms p50 quiet) for no recall: below WIDE_SHARE of the
# shard (the engine's estimate, which reads a compound filter at about half
# its true size) the walk is at HNSW_EF_NARROW. Fifth round
# (benchmarks/README.md): with the same 100 queries for every class at 1M,
# ACORN at ef 128 / 160 / 192 / 256 gave 0.999 / 1.000 / 1.000 / 1.000
# (10 %), 0.998 / 0.998 / 0.998 / 0.999 (50 %), 0.987 / 0.994 / 0.997 / 0.999
# (100 %): only the widest filter needs the wider walk. On the 50k CI store
# (9 seeds, 11 builds at ef 128, 14 at 160) both gave the same worst build
# as 256 for the 10 % and 50 % classes (1.000; 0.995 vs 0.996 at 256), and
# at 1M ef 160 cost the 50 % class 0.69x the time of 256 (38.2 vs 55.2 ms
# p50, load 2-4) and ~1.05x that of 128 (alternated, loaded): the narrow
# walk is 160, a quarter above the smallest ef that held everywhere, as
# margin for documents unlike these. A plain walk is 5-7x faster than ACORN
# where the filter keeps a quarter of the shard or more, with the same
# recall at 1M, but it fell to 0.945 for the widest principal on the
# 50k-point CI store (tests/store/test_scale.py): ACORN stays on up to 0.4,
# its default. The estimate is the engine's own (payload index
# cardinalities, sub-millisecond); an exact count costs about as much as an
# exact search (docs/TRAPS.md).
EXACT_MAX_VISIBLE = 60_000
HNSW_EF = 256
HNSW_EF_NARROW = 160
WIDE_SHARE = 0.2
OVERSAMPLING = 2.0
ACORN_MAX_SELECTIVITY = 0.4

# -- engine configuration (create; passed again at load, so an older shard
# converges to it at its next optimization) --------------------------------------
HNSW_M = 16
HNSW_EF_CONSTRUCT = 100
PAYLOAD_M = 16  # extra links per value of the filtered keyword fields
FULL_SCAN_THRESHOLD_KB = 10_000  # ~6.7k vectors of 384 floats: below, a segment is scanned
INDEXING_THRESHOLD_KB = 10_000  # a segment above this gets an HNSW graph
# -- background index build ----------------------------------------------------
# EdgeShard.optimize() holds the GIL for the whole build (qdrant-edge-py 0.9:
# 28 s of a 9k-point build stopped every other Python thread; queries do
# release it). So the graph is built by a child process on a copy of the
# shard, at lower CPU priority, while this process goes on serving from the
# original; writes meanwhile are applied to both (replayed on the copy), and
# the copy is swapped in when it is ready (docs/ARCHITECTURE.md).
INDEX_QUIET_SECONDS = 2.0  # a build starts this long after the last write
INDEX_MIN_UNINDEXED = 20_000  # points outside any graph that make a build worth it
INDEX_JOURNAL_MAX = 200_000  # writes kept for the copy; beyond, the build is redone later
INDEX_NICE = 10  # the builder's niceness: serving keeps the cores it needs

_LOCK_FILE = ".ragseal.lock"
_CONFIG_FILE = "edge_config.json"  # written by EdgeShard.create
# Names the live shard directory (``gen-<n>``) once a background build has
# been swapped in; absent, the shard is the store directory itself.
_CURRENT_FILE = "CURRENT"
_GENERATION = re.compile(r"gen-([0-9]{1,9})")
_SHARD_ENTRIES = (_CONFIG_FILE, "segments", "temp_segments", "wal")
_SCROLL_PAGE = 256
_UPSERT_BATCH = 512
# Fields the access filter uses get HNSW links per value (enable_hnsw); the
# others are looked up by value only and would only lengthen the build.
_INDEXES: tuple[tuple[str, KeywordIndexParams | IntegerIndexParams], ...] = (
    ("tenant", KeywordIndexParams(is_tenant=True)),
    ("doc_id", KeywordIndexParams(enable_hnsw=False)),
    ("groups", KeywordIndexParams()),
    ("users", KeywordIndexParams()),
    ("level", IntegerIndexParams(lookup=True, range=True)),
    ("tags", KeywordIndexParams(enable_hnsw=False)),
    ("quarantined", IntegerIndexParams(lookup=True, range=False, enable_hnsw=False)),
    (FINGERPRINT_FIELD, KeywordIndexParams(enable_hnsw=False)),
)
# What match_fingerprints returns of a payload: labels and fingerprints, never ``sealed``.
_FINGERPRINT_PAYLOAD = ["tenant", "doc_id", "chunk_id", "level", "groups", "users",
                        FINGERPRINT_FIELD]


def edge_access_filter(access: AccessFilter) -> Filter:
    """The one Qdrant Edge filter that decides what a principal may see.

    ``tenant == t AND level <= max_level AND (groups any-of principal
    groups OR users any-of [user]) AND NOT quarantined == 1``; with no
    groups, only the users condition (an empty any-of is not a valid Qdrant
    match). A point without ``quarantined`` (older stores) is not quarantined.
    """
    readers: list[FieldCondition] = [FieldCondition("users", match=MatchAny([access.user]))]
    if access.groups:
        readers.insert(0, FieldCondition("groups", match=MatchAny(list(access.groups))))
    return Filter(
        must=[
            FieldCondition("tenant", match=MatchValue(access.tenant)),
            FieldCondition("level", range=RangeFloat(gte=0.0, lte=float(access.max_level))),
            Filter(should=list(readers)),
        ],
        # An integer, not a bool: Edge 0.9 turns MatchValue(True) into 1 and
        # then never matches a stored JSON true (docs/TRAPS.md).
        must_not=[FieldCondition("quarantined", match=MatchValue(QUARANTINED))],
    )


class EdgeStore:
    """:class:`store.VectorStore` on an embedded Qdrant Edge shard.

    Args:
        path: Directory of the shard; created on first use.
        dim: Vector size (cosine distance).
        background_index: Once writes have been quiet for
            :data:`INDEX_QUIET_SECONDS` and at least
            :data:`INDEX_MIN_UNINDEXED` points are outside any HNSW graph
            (also right after open), build the graph in a child process on a
            copy of the shard and swap it in; searches and writes go on
            meanwhile. ``False`` leaves it to :meth:`optimize`.

    Raises:
        StoreError: The directory is in use by another process, or holds a
            shard of another vector size, or cannot be opened.
    """

    def __init__(self, path: Path, dim: int = 384, *, background_index: bool = True) -> None:
        self._path = Path(path)
        self._dim = dim
        self._closed = False
        self._lock_fd = _lock(self._path)
        try:
            self._shard_dir = _live_shard_dir(self._path)
            self._shard = _open_shard(self._shard_dir, dim)
            self._ensure_indexes()
        except BaseException:
            os.close(self._lock_fd)
            raise
        # Writes, the journal kept for a copy being indexed, and the swap.
        self._write_lock = threading.RLock()
        self._builder = _Builder(self) if background_index else None
        if self._builder is not None:
            self._builder.start()
            self._builder.wrote()  # a shard left unindexed (older store, crash) catches up
        logger.info(
            "edge store opened", extra={"path": str(self._path), "points": self.count()}
        )

    def __repr__(self) -> str:
        return f"EdgeStore(path={str(self._path)!r}, dim={self._dim})"

    @property
    def path(self) -> Path:
        """Directory of the shard."""
        return self._path

    @property
    def dim(self) -> int:
        """Vector size."""
        return self._dim

    def upsert(self, points: Sequence[Point]) -> None:
        """Insert or replace points (WAL: durable against a process crash)."""
        self._live()
        for start in range(0, len(points), _UPSERT_BATCH):
            batch = [self._to_edge(p) for p in points[start : start + _UPSERT_BATCH]]
            self._write("upsert", UpdateOperation.upsert_points(batch), len(batch))
        logger.debug("upserted points", extra={"count": len(points)})

    def search(
        self, vector: Sequence[float], access: AccessFilter, limit: int,
        *, tags: Sequence[str] = (),
    ) -> list[Hit]:
        """The top-``limit`` visible points, best first.

        Exact (the true top-k) when the visible set is estimated at no more
        than :data:`EXACT_MAX_VISIBLE` points or no HNSW graph exists yet;
        otherwise approximate (HNSW, int8 with float32 rescoring), never
        with a point outside the filter and never short while enough points
        are visible (a short answer is checked against an exact count and
        redone exactly).
        """
        self._live()
        query = check_vector(vector, self._dim, "query")
        if limit <= 0:
            return []
        flt = edge_access_filter(access)
        if tags:  # nested beside the access filter: it can only narrow it
            flt = Filter(must=[flt, FieldCondition("tags", match=MatchAny(list(tags)))])
        share = self._approximate_share(flt)
        if share is None:
            return self._query(query, flt, limit, SearchParams(exact=True))
        hits = self._query(query, flt, limit, approximate_params(limit, share))
        if len(hits) < limit:
            # A graph walk under a filter can stop short. Only an exact count
            # tells a small visible set from a missed one (it costs about an
            # exact search, and only short answers pay it).
            visible = self._call(
                "count", partial(self._shard.count, CountRequest(exact=True, filter=flt))
            )
            if visible > len(hits):
                logger.warning(
                    "hnsw search came back short; redoing exact",
                    extra={"returned": len(hits), "limit": limit, "tenant": access.tenant},
                )
                hits = self._query(query, flt, limit, SearchParams(exact=True))
        return hits

    def retrieve(self, ids: Iterable[str]) -> list[Hit]:
        """Points by id with payloads (score 0), in request order; unknown ids skipped."""
        shard = self._live()
        wanted = list(dict.fromkeys(canonical_id(i) for i in ids))
        if not wanted:
            return []
        records = self._call("retrieve", lambda: shard.retrieve(list(wanted), True, False))
        found = {str(r.id): Hit(id=str(r.id), score=0.0, payload=r.payload or {}) for r in records}
        return [found[i] for i in wanted if i in found]

    def document_point_ids(self, tenant: str, doc_id: str) -> list[str]:
        """Ids of every point of one document of one tenant."""
        flt = Filter(
            must=[
                FieldCondition("tenant", match=MatchValue(tenant)),
                FieldCondition("doc_id", match=MatchValue(doc_id)),
            ]
        )
        return [hit.id for hit in self._scroll(flt, with_payload=False)]

    def match_fingerprints(self, tenant: str, fingerprints: Sequence[str]) -> Iterator[Hit]:
        """Points of ``tenant`` holding any of ``fingerprints`` (labels and ``fp`` only)."""
        wanted = sorted({str(f) for f in fingerprints})
        if not wanted:
            return iter(())
        flt = Filter(
            must=[
                FieldCondition("tenant", match=MatchValue(tenant)),
                FieldCondition(FINGERPRINT_FIELD, match=MatchAny(wanted)),
            ]
        )
        return self._scroll(flt, with_payload=_FINGERPRINT_PAYLOAD)

    def known_tags(self, tenant: str, tags: Sequence[str]) -> set[str]:
        """Which of ``tags`` any point of ``tenant`` carries."""
        wanted = sorted(set(tags))
        if not wanted:
            return set()
        flt = Filter(
            must=[
                FieldCondition("tenant", match=MatchValue(tenant)),
                FieldCondition("tags", match=MatchAny(wanted)),
            ]
        )
        found: set[str] = set()
        for hit in self._scroll(flt, with_payload=["tags"]):
            found.update(set(hit.payload.get("tags") or ()) & set(wanted))
            if len(found) == len(wanted):
                break
        return found

    def delete_points(self, ids: Sequence[str]) -> None:
        """Delete points by id (missing ids are ignored)."""
        self._live()
        wanted = [canonical_id(i) for i in ids]
        if wanted:
            self._write("delete", UpdateOperation.delete_points(list(wanted)), len(wanted))
        logger.debug("deleted points", extra={"count": len(wanted)})

    def set_payload(self, point_id: str, payload: Mapping[str, Any]) -> None:
        """Overwrite fields of a point's payload.

        Raises:
            StoreError: No point has that id, or a label field has a wrong type.
        """
        self._live()
        pid = canonical_id(point_id)
        fields = check_labels(pid, payload)
        if not self.retrieve([pid]):
            raise StoreError(f"no point {pid} in the store at {self._path}")
        try:
            operation = UpdateOperation.set_payload([pid], fields)
        except (TypeError, ValueError):
            raise StoreError(f"point {pid}: payload is not JSON-compatible") from None
        self._write("set_payload", operation, 1)

    def scroll(self, tenant: str | None = None) -> Iterator[Hit]:
        """Every point (optionally of one tenant) with payload, in id order."""
        flt = None
        if tenant is not None:
            flt = Filter(must=[FieldCondition("tenant", match=MatchValue(tenant))])
        return self._scroll(flt, with_payload=True)

    def count(self) -> int:
        """Number of points stored."""
        shard = self._live()
        return int(self._call("count", lambda: shard.count(CountRequest(exact=True))))

    def optimize(self) -> bool:
        """Build the HNSW index and merge segments now, in this process.

        Blocks every Python thread of the process until done (the bindings
        hold the GIL): for batch jobs and tests. A background build under
        way is dropped first.

        Returns:
            True if anything was optimized.
        """
        shard = self._live()
        if self._builder is not None:
            self._builder.cancel()
        with self._write_lock:
            return bool(self._call("optimize", shard.optimize))

    def wait_indexed(self, timeout: float | None = None) -> bool:
        """Block until no background build is due or under way.

        Returns:
            False if ``timeout`` seconds passed first. True at once without
            a background indexer.
        """
        if self._builder is None:
            return True
        return self._builder.wait_idle(timeout)

    def close(self) -> None:
        """Flush the shard and release it and the directory lock (idempotent).

        A background build under way is stopped and its copy removed (it
        starts again after the next open).
        """
        if self._closed:
            return
        self._closed = True
        if self._builder is not None:
            self._builder.stop()
        try:
            self._call("flush", self._shard.flush)
            self._call("close", self._shard.close)
        finally:
            os.close(self._lock_fd)
        logger.info("edge store closed", extra={"path": str(self._path)})

    # -- internals -----------------------------------------------------------

    def _live(self) -> EdgeShard:
        if self._closed:
            raise StoreError(f"the store at {self._path} is closed")
        return self._shard

    def _write(self, what: str, operation: UpdateOperation, size: int) -> None:
        with self._write_lock:
            self._call(what, partial(self._live().update, operation))
            if self._builder is not None:
                self._builder.journal(operation, size)
        if self._builder is not None:
            self._builder.wrote()

    def _unindexed(self) -> int:
        info = self._call("info", self._shard.info)
        return int(info.points_count - info.indexed_vectors_count)

    def _needs_index(self, floor: int = 0) -> bool:
        """Enough points outside any graph (at least ``floor``), and enough
        for the engine to build one."""
        engine_floor = INDEXING_THRESHOLD_KB * 1024 // (4 * self._dim)
        return self._unindexed() >= max(INDEX_MIN_UNINDEXED, engine_floor, floor)

    def _swap_in(self, built: Path, journal: list[UpdateOperation]) -> None:
        """Replace the live shard by ``built`` after replaying ``journal`` on it.

        Called with the write lock held. ``CURRENT`` names the new directory
        only once it holds every write; the old files go after that (a crash
        in between leaves them to the next open's clean-up).
        """
        new = _open_shard(built, self._dim)
        try:
            for operation in journal:
                new.update(operation)
            new.flush()
        except Exception:
            new.close()
            raise
        _write_current(self._path, built.name)
        old, old_dir = self._shard, self._shard_dir
        self._shard, self._shard_dir = new, built
        try:
            old.close()
        except Exception:  # a search still in it (the bindings refuse): dropped when it ends
            logger.debug("old shard still in use; left to garbage collection")
        _remove_shard(self._path, old_dir)

    def _call(self, what: str, fn: Callable[[], _T]) -> _T:
        try:
            return fn()
        except StoreError:
            raise
        except Exception as exc:  # the bindings raise bare Exception
            raise StoreError(f"Qdrant Edge {what} failed on {self._path}: {_short(exc)}") from exc

    def _ensure_indexes(self) -> None:
        # Created before the first upsert, so that every segment and every
        # graph optimize() builds knows them (Qdrant adds per-value graph
        # links for the indexed fields with enable_hnsw when it builds HNSW).
        # A field indexed by an older version keeps its index as it is.
        present = set(self._call("info", self._shard.info).payload_schema)
        for name, schema in _INDEXES:
            if name not in present:
                operation = UpdateOperation.create_field_index(name, schema)
                self._call("index", partial(self._shard.update, operation))

    def _approximate_share(self, flt: Filter) -> float | None:
        """The filter's estimated share of the shard, or None: search exactly."""
        shard = self._shard
        info = self._call("info", shard.info)
        if info.indexed_vectors_count == 0:
            return None  # no HNSW graph yet: every segment is a plain scan anyway
        # The engine's estimate from its payload indexes (sub-ms). Too low an
        # estimate costs time (an exact scan), never recall; too high a one
        # sends a small set to the engine, whose planner still scans a
        # segment where the filter's true share is small.
        estimate = self._call("count", partial(shard.count, CountRequest(exact=False, filter=flt)))
        if estimate <= EXACT_MAX_VISIBLE:
            return None
        return estimate / max(1, info.points_count)

    def _query(
        self, vector: list[float], flt: Filter, limit: int, params: SearchParams
    ) -> list[Hit]:
        request = QueryRequest(
            limit=limit, query=Query.Nearest(vector), filter=flt, params=params, with_payload=True
        )
        points: list[ScoredPoint] = self._call("search", partial(self._shard.query, request))
        return [Hit(id=str(p.id), score=float(p.score), payload=p.payload or {}) for p in points]

    def _scroll(self, flt: Filter | None, *, with_payload: bool | list[str]) -> Iterator[Hit]:
        offset: Any = None
        while True:
            shard = self._live()
            request = ScrollRequest(
                offset=offset, limit=_SCROLL_PAGE, filter=flt, with_payload=with_payload,
                with_vector=False,
            )
            records, offset = self._call("scroll", partial(shard.scroll, request))
            for rec in records:
                yield Hit(id=str(rec.id), score=0.0, payload=rec.payload or {})
            if offset is None:
                return

    def _to_edge(self, point: Point) -> EdgePoint:
        pid = canonical_id(point.id)
        vector = check_vector(point.vector, self._dim, pid)
        try:
            return EdgePoint(pid, vector, check_labels(pid, point.payload))
        except (TypeError, ValueError):  # the message may quote the value
            raise StoreError(f"point {pid}: payload is not JSON-compatible") from None


def store_in_use(path: Path) -> bool:
    """Whether another process holds the store at ``path`` (creates nothing)."""
    try:
        fd = os.open(path / _LOCK_FILE, os.O_RDWR)
    except OSError:
        return False  # no store there yet, or not ours to open: the real open says why
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing the descriptor releases a lock we took
    return False


def _lock(path: Path) -> int:
    """Take the directory lock before Edge touches any file."""
    private_dir(path)  # 0700 whoever creates it; Edge's files inherit the umask
    try:
        fd = os.open(path / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot open the store directory {path}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise StoreLocked(
            f"store at {path} is in use by another ragseal process "
            "(Qdrant Edge allows one process per store; stop it or use RAGSEAL_QDRANT_URL)"
        ) from None
    return fd


def hnsw_ef(limit: int, share: float) -> int:
    """The walk's ``hnsw_ef`` for a filter estimated at ``share`` of the shard."""
    return max(HNSW_EF if share >= WIDE_SHARE else HNSW_EF_NARROW, 4 * limit)


def approximate_params(limit: int, share: float = 1.0) -> SearchParams:
    """Search parameters above :data:`EXACT_MAX_VISIBLE` (see the module constants)."""
    return SearchParams(
        hnsw_ef=hnsw_ef(limit, share),
        quantization=QuantizationSearchParams(rescore=True, oversampling=OVERSAMPLING),
        acorn=AcornSearchParams(enable=True, max_selectivity=ACORN_MAX_SELECTIVITY),
    )


def edge_config(dim: int) -> EdgeConfig:
    """The shard configuration ragseal creates and loads stores with."""
    return EdgeConfig(
        vectors=EdgeVectorParams(size=dim, distance=Distance.Cosine),
        hnsw_config=HnswIndexConfig(
            m=HNSW_M,
            ef_construct=HNSW_EF_CONSTRUCT,
            full_scan_threshold=FULL_SCAN_THRESHOLD_KB,
            payload_m=PAYLOAD_M,
        ),
        quantization_config=ScalarQuantizationConfig(
            type=ScalarType.Int8, quantile=0.99, always_ram=True
        ),
        optimizers=EdgeOptimizersConfig(indexing_threshold=INDEXING_THRESHOLD_KB),
    )


class _Builder(threading.Thread):
    """Builds the HNSW graph of a copy of the shard in a child process.

    One build at a time: after :data:`INDEX_QUIET_SECONDS` without writes,
    if :meth:`EdgeStore._needs_index`, the shard is flushed and copied to
    ``gen-<n+1>`` (writes wait for the copy, searches do not), a child
    process (``python -m ragseal.store._build``, niceness
    :data:`INDEX_NICE`) optimizes the copy, and the store replays the writes
    it journaled meanwhile onto it and swaps it in. A failed or cancelled
    build leaves the live shard untouched and removes the copy.
    """

    def __init__(self, store: EdgeStore) -> None:
        super().__init__(name=f"ragseal-index-{store.path.name}", daemon=True)
        self._store = store
        self._cond = threading.Condition()
        self._last_write = 0.0
        self._pending = False
        self._busy = False
        self._stopping = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._journal: list[UpdateOperation] | None = None  # guarded by the store's write lock
        self._journaled = 0
        # After a failed build, the next waits for INDEX_MIN_UNINDEXED more
        # unindexed points (each try copies the whole shard).
        self._retry_above = 0

    # -- called by the store -------------------------------------------------------
    def wrote(self) -> None:
        with self._cond:
            self._last_write = time.monotonic()
            self._pending = True
            self._cond.notify_all()

    def journal(self, operation: UpdateOperation, size: int) -> None:
        """Keep a write for the copy being built (caller holds the write lock)."""
        if self._journal is None:
            return
        self._journal.append(operation)
        self._journaled += size
        if self._journaled > INDEX_JOURNAL_MAX:
            logger.info("index build dropped: too many writes meanwhile; redone later")
            self._journal = None
            self.cancel()

    def cancel(self) -> None:
        """Stop the build under way, if any (its copy is removed)."""
        with self._cond:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self.cancel()
        self.join()

    def wait_idle(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            # A write waiting for its quiet period is taken up now.
            self._last_write = min(self._last_write, time.monotonic() - INDEX_QUIET_SECONDS)
            self._cond.notify_all()
            while (self._pending or self._busy) and not self._stopping:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
            return True

    # -- the thread --------------------------------------------------------------------
    def run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    quiet = time.monotonic() - self._last_write
                    if self._pending and quiet >= INDEX_QUIET_SECONDS:
                        break
                    self._cond.wait(INDEX_QUIET_SECONDS - quiet if self._pending else None)
                if self._stopping:
                    return
                self._pending = False
                self._busy = True
            try:
                if self._store._needs_index(self._retry_above) and not self._build():
                    self._retry_above = self._store._unindexed() + INDEX_MIN_UNINDEXED
            except Exception as exc:  # logged; the live shard is untouched
                logger.error("background index build failed", extra={"error": _short(exc)})
                self._retry_above = self._store._unindexed() + INDEX_MIN_UNINDEXED
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _build(self) -> bool:
        """One build; False if it failed (a cancelled or stopped one is not a failure)."""
        store = self._store
        target = store.path / f"gen-{_generation(store._shard_dir) + 1}"
        started = time.monotonic()
        swapped = False
        try:
            with store._write_lock:
                if self._stopping:
                    return True
                store._call("flush", store._shard.flush)
                _remove_tree(target)
                _copy_shard(store._shard_dir, target)
                self._journal, self._journaled = [], 0
            copied = time.monotonic() - started
            command = [sys.executable, "-m", "ragseal.store._build", str(target),
                       str(store.dim), str(os.getpid())]
            with self._cond:
                if self._stopping:
                    return True
                proc = self._proc = subprocess.Popen(  # noqa: S603 (our module, our paths)
                    command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE, start_new_session=True,
                )
            _, err = proc.communicate()
            with self._cond:
                self._proc = None
            with store._write_lock:
                journal, self._journal = self._journal, None
                if proc.returncode != 0 or journal is None or self._stopping:
                    failed = proc.returncode != 0 and journal is not None and not self._stopping
                    if failed:
                        logger.error("background index build failed", extra={
                            "code": proc.returncode,
                            "error": err.decode(errors="replace")[-200:]})
                    return not failed
                store._swap_in(target, journal)
                swapped = True
                info = store._call("info", store._shard.info)
            logger.info("background index build swapped in", extra={
                "seconds": round(time.monotonic() - started, 1), "copy_seconds": round(copied, 1),
                "replayed": len(journal), "points": info.points_count,
                "indexed": info.indexed_vectors_count, "segments": info.segments_count,
            })
            self._retry_above = 0
            return True
        finally:
            if not swapped:
                with store._write_lock:
                    self._journal = None
                _remove_tree(target)


def _generation(shard_dir: Path) -> int:
    match = _GENERATION.fullmatch(shard_dir.name)
    return int(match.group(1)) if match else 0


def _live_shard_dir(path: Path) -> Path:
    """The live shard's directory, after removing what a crash left behind."""
    live = path
    current = path / _CURRENT_FILE
    if current.exists():
        name = current.read_text(encoding="ascii").strip()
        if not _GENERATION.fullmatch(name) or not (path / name).is_dir():
            raise StoreError(f"store at {path}: {_CURRENT_FILE} names no shard directory")
        live = path / name
        _remove_shard(path, path)  # files of the shard it replaced, if a crash kept them
    for entry in path.iterdir():
        if _GENERATION.fullmatch(entry.name) and entry != live:
            _remove_tree(entry)  # a build that never got swapped in
    return live


def _copy_shard(source: Path, target: Path) -> None:
    target.mkdir(mode=0o700)
    for name in _SHARD_ENTRIES:
        if name == "temp_segments":
            continue
        entry = source / name
        if entry.is_dir():
            shutil.copytree(entry, target / name)
        elif entry.exists():
            shutil.copy2(entry, target / name)


def _write_current(path: Path, name: str) -> None:
    tmp = path / f"{_CURRENT_FILE}.tmp"
    with tmp.open("w", encoding="ascii") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path / _CURRENT_FILE)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_shard(path: Path, shard_dir: Path) -> None:
    """Remove a retired shard: a ``gen-<n>`` directory, or the files of one at ``path``."""
    if shard_dir != path:
        _remove_tree(shard_dir)
        return
    for name in _SHARD_ENTRIES:
        entry = path / name
        if entry.is_dir():
            _remove_tree(entry)
        elif entry.exists():
            entry.unlink()


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _open_shard(path: Path, dim: int) -> EdgeShard:
    config = edge_config(dim)
    try:
        if (path / _CONFIG_FILE).exists():
            return EdgeShard.load(str(path), config)
        return EdgeShard.create(str(path), config)
    except Exception as exc:
        message = str(exc)
        if "WouldBlock" in message:  # Edge's own flock on wal/ (a non-ragseal process)
            raise StoreError(f"store at {path} is in use by another process") from exc
        if "ncompatible" in message:
            raise StoreError(
                f"store at {path} was created with another vector configuration "
                f"(this build expects {dim} dims, cosine): {_short(exc)}"
            ) from exc
        raise StoreError(f"cannot open the Qdrant Edge store at {path}: {_short(exc)}") from exc


def _short(exc: BaseException, limit: int = 200) -> str:
    """The engine's message, bounded (it names ids and sizes, never payloads)."""
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."
