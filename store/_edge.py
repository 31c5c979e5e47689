"""Qdrant Edge backend: the embedded default vector store (in-process shard).

The shard lives in one directory (created on first use, loaded afterwards)
and is locked by one process at a time. See ``docs/TRAPS.md`` ("Qdrant
Edge") for the measured behaviour behind the choices made here.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from qdrant_edge import (
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    MatchAny,
    MatchValue,
    PayloadSchemaType,
    Query,
    QueryRequest,
    RangeFloat,
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

# Exact (brute-force) search over the visible set is the only thing that
# guarantees the true top-k: filtered HNSW on a compound filter returned
# 4 of 10 results in OFFLINE.md, and recall 0.29-0.93 at 14-42 % selectivity
# even with hnsw_ef up to 1024 in our runs (docs/TRAPS.md). Exact search
# costs ~3-8 ms for a few thousand visible points and ~60-100 ms at 100k on
# 2 cores, so it is the default; HNSW is used only when the visible set is
# both large and at least half of the store, where recall measured >= 0.99.
EXACT_MAX_VISIBLE = 20_000
HNSW_MIN_VISIBLE_FRACTION = 0.5
HNSW_EF_MIN = 512

_LOCK_FILE = ".ragseal.lock"
_CONFIG_FILE = "edge_config.json"  # written by EdgeShard.create
_SCROLL_PAGE = 256
_UPSERT_BATCH = 512
_INDEXES: tuple[tuple[str, PayloadSchemaType], ...] = (
    ("tenant", PayloadSchemaType.Keyword),
    ("doc_id", PayloadSchemaType.Keyword),
    ("groups", PayloadSchemaType.Keyword),
    ("users", PayloadSchemaType.Keyword),
    ("level", PayloadSchemaType.Integer),
    ("tags", PayloadSchemaType.Keyword),
    ("quarantined", PayloadSchemaType.Integer),
    (FINGERPRINT_FIELD, PayloadSchemaType.Keyword),
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

    Raises:
        StoreError: The directory is in use by another process, or holds a
            shard of another vector size, or cannot be opened.
    """

    def __init__(self, path: Path, dim: int = 384) -> None:
        self._path = Path(path)
        self._dim = dim
        self._closed = False
        self._lock_fd = _lock(self._path)
        try:
            self._shard = _open_shard(self._path, dim)
            self._ensure_indexes()
        except BaseException:
            os.close(self._lock_fd)
            raise
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
        shard = self._live()
        for start in range(0, len(points), _UPSERT_BATCH):
            batch = [self._to_edge(p) for p in points[start : start + _UPSERT_BATCH]]
            operation = UpdateOperation.upsert_points(batch)
            self._call("upsert", partial(shard.update, operation))
        logger.debug("upserted points", extra={"count": len(points)})

    def search(
        self, vector: Sequence[float], access: AccessFilter, limit: int,
        *, tags: Sequence[str] = (),
    ) -> list[Hit]:
        """The true top-``limit`` visible points, best first (see module constants)."""
        self._live()
        query = check_vector(vector, self._dim, "query")
        if limit <= 0:
            return []
        flt = edge_access_filter(access)
        if tags:  # nested beside the access filter: it can only narrow it
            flt = Filter(must=[flt, FieldCondition("tags", match=MatchAny(list(tags)))])
        if not self._may_use_hnsw(access, flt):
            return self._query(query, flt, limit, SearchParams(exact=True))
        hits = self._query(query, flt, limit, SearchParams(hnsw_ef=max(HNSW_EF_MIN, 4 * limit)))
        if len(hits) < limit:
            # HNSW under a filter can stop short; we only got here with more
            # than EXACT_MAX_VISIBLE visible points, so a short answer is wrong.
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
        shard = self._live()
        wanted = [canonical_id(i) for i in ids]
        if wanted:
            self._call("delete", lambda: shard.update(UpdateOperation.delete_points(list(wanted))))
        logger.debug("deleted points", extra={"count": len(wanted)})

    def set_payload(self, point_id: str, payload: Mapping[str, Any]) -> None:
        """Overwrite fields of a point's payload.

        Raises:
            StoreError: No point has that id, or a label field has a wrong type.
        """
        shard = self._live()
        pid = canonical_id(point_id)
        fields = check_labels(pid, payload)
        if not self.retrieve([pid]):
            raise StoreError(f"no point {pid} in the store at {self._path}")
        try:
            operation = UpdateOperation.set_payload([pid], fields)
        except (TypeError, ValueError):
            raise StoreError(f"point {pid}: payload is not JSON-compatible") from None
        self._call("set_payload", partial(shard.update, operation))

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
        """Build the HNSW index and merge segments (slow: run after bulk loads).

        Returns:
            True if anything was optimized.
        """
        shard = self._live()
        return bool(self._call("optimize", shard.optimize))

    def close(self) -> None:
        """Flush the shard and release it and the directory lock (idempotent)."""
        if self._closed:
            return
        self._closed = True
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
        # links for the keyword fields indexed when it builds HNSW).
        present = set(self._call("info", self._shard.info).payload_schema)
        for name, schema in _INDEXES:
            if name not in present:
                operation = UpdateOperation.create_field_index(name, schema)
                self._call("index", partial(self._shard.update, operation))

    def _may_use_hnsw(self, access: AccessFilter, flt: Filter) -> bool:
        shard = self._shard
        info = self._call("info", shard.info)
        if info.indexed_vectors_count == 0:
            return False  # no HNSW graph yet (optimize() never ran): all plain segments
        floor = max(EXACT_MAX_VISIBLE, HNSW_MIN_VISIBLE_FRACTION * info.points_count)
        # Cheap upper bound first: the tenant's posting list (sub-ms).
        tenant_only = Filter(must=[FieldCondition("tenant", match=MatchValue(access.tenant))])
        tenant_count = CountRequest(exact=True, filter=tenant_only)
        upper = self._call("count", partial(shard.count, tenant_count))
        if upper < floor:
            return False
        # The exact count with the full filter; never the planner's estimate,
        # which can be far above the true match set.
        visible = self._call("count", partial(shard.count, CountRequest(exact=True, filter=flt)))
        return bool(visible >= floor)

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


def _open_shard(path: Path, dim: int) -> EdgeShard:
    config = EdgeConfig(vectors=EdgeVectorParams(size=dim, distance=Distance.Cosine))
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
