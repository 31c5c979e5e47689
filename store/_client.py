"""qdrant-client backend: a Qdrant server or cluster (``":memory:"`` in tests).

qdrant-client's *local* mode (``":memory:"`` or ``path=``) is pure-Python
brute force: exact by construction, payload indexes ignored, slow above a
few tens of thousands of points. It is supported for tests, not as a store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

from qdrant_client import QdrantClient, models

from . import _edge
from ._errors import StoreError
from ._fingerprints import FINGERPRINT_FIELD
from ._types import QUARANTINED, AccessFilter, Hit, Point
from ._validate import canonical_id, check_labels, check_vector

__all__ = ["ClientStore", "client_access_filter"]

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

# Same plan and the same engine settings as store/_edge.py (see the comments
# there, docs/ARCHITECTURE.md and docs/TRAPS.md). A Qdrant server builds the
# HNSW graph by itself in the background above its indexing threshold; the
# collection is created with the per-value links, int8 quantization and
# tenant-aware index that the embedded store uses. An existing collection
# keeps its own configuration.
EXACT_MAX_VISIBLE = _edge.EXACT_MAX_VISIBLE

_SCROLL_PAGE = 256
_UPSERT_BATCH = 256
_KEYWORD = models.KeywordIndexType.KEYWORD
_INTEGER = models.IntegerIndexType.INTEGER
_INDEXES: tuple[tuple[str, models.PayloadSchemaParams], ...] = (
    ("tenant", models.KeywordIndexParams(type=_KEYWORD, is_tenant=True)),
    ("doc_id", models.KeywordIndexParams(type=_KEYWORD, enable_hnsw=False)),
    ("groups", models.KeywordIndexParams(type=_KEYWORD)),
    ("users", models.KeywordIndexParams(type=_KEYWORD)),
    ("level", models.IntegerIndexParams(type=_INTEGER, lookup=True, range=True)),
    ("tags", models.KeywordIndexParams(type=_KEYWORD, enable_hnsw=False)),
    ("quarantined", models.IntegerIndexParams(
        type=_INTEGER, lookup=True, range=False, enable_hnsw=False)),
    (FINGERPRINT_FIELD, models.KeywordIndexParams(type=_KEYWORD, enable_hnsw=False)),
)


def approximate_params(limit: int, share: float = 1.0) -> models.SearchParams:
    """The server-side twin of ``store._edge.approximate_params``."""
    return models.SearchParams(
        hnsw_ef=_edge.hnsw_ef(limit, share),
        quantization=models.QuantizationSearchParams(
            rescore=True, oversampling=_edge.OVERSAMPLING),
        acorn=models.AcornSearchParams(
            enable=True, max_selectivity=_edge.ACORN_MAX_SELECTIVITY),
    )
# What match_fingerprints returns of a payload: labels and fingerprints, never ``sealed``.
_FINGERPRINT_PAYLOAD = ["tenant", "doc_id", "chunk_id", "level", "groups", "users",
                        FINGERPRINT_FIELD]


def client_access_filter(access: AccessFilter) -> models.Filter:
    """The one qdrant-client filter that decides what a principal may see.

    ``tenant == t AND level <= max_level AND (groups any-of principal
    groups OR users any-of [user]) AND NOT quarantined == 1``; with no
    groups, only the users condition.
    """
    readers: list[models.Condition] = [
        models.FieldCondition(key="users", match=models.MatchAny(any=[access.user]))
    ]
    if access.groups:
        readers.insert(
            0, models.FieldCondition(key="groups", match=models.MatchAny(any=list(access.groups)))
        )
    return models.Filter(
        must=[
            models.FieldCondition(key="tenant", match=models.MatchValue(value=access.tenant)),
            models.FieldCondition(key="level", range=models.Range(gte=0, lte=access.max_level)),
            models.Filter(should=readers),
        ],
        must_not=[
            models.FieldCondition(key="quarantined", match=models.MatchValue(value=QUARANTINED)),
        ],
    )


class ClientStore:
    """:class:`store.VectorStore` on a Qdrant collection through qdrant-client.

    Args:
        client: A connected client (``QdrantClient(url=..., api_key=...)``).
        collection: Collection name; created (cosine, ``dim``) if missing.
        dim: Vector size.

    Raises:
        StoreError: The collection exists with another vector configuration,
            or the server cannot be reached.
    """

    def __init__(self, client: QdrantClient, collection: str, dim: int = 384) -> None:
        self._client = client
        self._collection = collection
        self._dim = dim
        self._closed = False
        options = client.init_options
        self._local = options.get("location") == ":memory:" or options.get("path") is not None
        self._ensure_collection()

    def __repr__(self) -> str:
        return f"ClientStore(collection={self._collection!r}, dim={self._dim}, local={self._local})"

    def upsert(self, points: Sequence[Point]) -> None:
        """Insert or replace points; returns once the server applied them."""
        for start in range(0, len(points), _UPSERT_BATCH):
            batch = [self._to_struct(p) for p in points[start : start + _UPSERT_BATCH]]
            upsert = partial(self._live().upsert, self._collection, batch, wait=True)
            self._call("upsert", upsert)
        logger.debug("upserted points", extra={"count": len(points)})

    def search(
        self, vector: Sequence[float], access: AccessFilter, limit: int,
        *, tags: Sequence[str] = (),
    ) -> list[Hit]:
        """The top-``limit`` visible points, best first: exact or approximate
        as in :meth:`EdgeStore.search`; always exact in local mode."""
        query = check_vector(vector, self._dim, "query")
        if limit <= 0:
            return []
        flt = client_access_filter(access)
        if tags:  # nested beside the access filter: it can only narrow it
            flt = models.Filter(must=[
                flt, models.FieldCondition(key="tags", match=models.MatchAny(any=list(tags)))])
        if self._local:
            # Local mode is brute force already; search_params would only warn.
            return self._query(query, flt, limit, None)
        share = self._approximate_share(flt)
        if share is None:
            return self._query(query, flt, limit, models.SearchParams(exact=True))
        hits = self._query(query, flt, limit, approximate_params(limit, share))
        if len(hits) < limit:
            # As in EdgeStore: a short answer is checked against an exact count.
            visible = self._call(
                "count", lambda: self._live().count(self._collection, flt, exact=True).count)
            if visible > len(hits):
                logger.warning(
                    "hnsw search came back short; redoing exact",
                    extra={"returned": len(hits), "limit": limit, "tenant": access.tenant},
                )
                hits = self._query(query, flt, limit, models.SearchParams(exact=True))
        return hits

    def retrieve(self, ids: Iterable[str]) -> list[Hit]:
        """Points by id with payloads (score 0), in request order; unknown ids skipped."""
        wanted = list(dict.fromkeys(canonical_id(i) for i in ids))
        if not wanted:
            return []
        records = self._call(
            "retrieve",
            lambda: self._live().retrieve(self._collection, wanted, with_payload=True),
        )
        found = {str(r.id): Hit(id=str(r.id), score=0.0, payload=r.payload or {}) for r in records}
        return [found[i] for i in wanted if i in found]

    def document_point_ids(self, tenant: str, doc_id: str) -> list[str]:
        """Ids of every point of one document of one tenant."""
        flt = models.Filter(
            must=[
                models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant)),
                models.FieldCondition(key="doc_id", match=models.MatchValue(value=doc_id)),
            ]
        )
        return [hit.id for hit in self._scroll(flt, with_payload=False)]

    def match_fingerprints(self, tenant: str, fingerprints: Sequence[str]) -> Iterator[Hit]:
        """Points of ``tenant`` holding any of ``fingerprints`` (labels and ``fp`` only)."""
        wanted = sorted({str(f) for f in fingerprints})
        if not wanted:
            return iter(())
        flt = models.Filter(
            must=[
                models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant)),
                models.FieldCondition(key=FINGERPRINT_FIELD, match=models.MatchAny(any=wanted)),
            ]
        )
        return self._scroll(flt, with_payload=_FINGERPRINT_PAYLOAD)

    def known_tags(self, tenant: str, tags: Sequence[str]) -> set[str]:
        """Which of ``tags`` any point of ``tenant`` carries."""
        wanted = sorted(set(tags))
        if not wanted:
            return set()
        flt = models.Filter(
            must=[
                models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant)),
                models.FieldCondition(key="tags", match=models.MatchAny(any=wanted)),
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
        wanted: list[models.ExtendedPointId] = [canonical_id(i) for i in ids]
        if wanted:
            selector = models.PointIdsList(points=wanted)
            self._call("delete", lambda: self._live().delete(self._collection, selector, wait=True))
        logger.debug("deleted points", extra={"count": len(wanted)})

    def set_payload(self, point_id: str, payload: Mapping[str, Any]) -> None:
        """Overwrite fields of a point's payload.

        Raises:
            StoreError: No point has that id, or a label field has a wrong type.
        """
        pid = canonical_id(point_id)
        fields = check_labels(pid, payload)
        if not self.retrieve([pid]):
            raise StoreError(f"no point {pid} in collection {self._collection!r}")
        self._call(
            "set_payload",
            lambda: self._live().set_payload(self._collection, fields, points=[pid], wait=True),
        )

    def scroll(self, tenant: str | None = None) -> Iterator[Hit]:
        """Every point (optionally of one tenant) with payload, in id order."""
        flt = None
        if tenant is not None:
            flt = models.Filter(
                must=[models.FieldCondition(key="tenant", match=models.MatchValue(value=tenant))]
            )
        return self._scroll(flt, with_payload=True)

    def count(self) -> int:
        """Number of points stored."""
        return self._call("count", lambda: self._live().count(self._collection, exact=True).count)

    def close(self) -> None:
        """Close the client's connections (idempotent)."""
        if not self._closed:
            self._closed = True
            self._call("close", self._client.close)

    # -- internals -----------------------------------------------------------

    def _live(self) -> QdrantClient:
        if self._closed:
            raise StoreError(f"the store for collection {self._collection!r} is closed")
        return self._client

    def _call(self, what: str, fn: Callable[[], _T]) -> _T:
        try:
            return fn()
        except StoreError:
            raise
        except Exception as exc:  # transport, server and local-mode errors alike
            text = str(exc)
            text = text if len(text) <= 200 else text[:200] + "..."
            raise StoreError(
                f"Qdrant {what} failed on collection {self._collection!r}: {text}"
            ) from exc

    def _ensure_collection(self) -> None:
        client, name = self._client, self._collection
        try:
            exists = client.collection_exists(name)
        except Exception as exc:  # connection refused, TLS, auth
            raise StoreError(
                f"cannot reach Qdrant for collection {name!r} ({type(exc).__name__}); "
                "check RAGSEAL_QDRANT_URL and RAGSEAL_QDRANT_API_KEY"
            ) from exc
        if not exists:
            vectors = models.VectorParams(size=self._dim, distance=models.Distance.COSINE)
            extra: dict[str, Any] = {}
            if not self._local:  # local mode ignores (and warns about) all three
                extra = {
                    "hnsw_config": models.HnswConfigDiff(
                        m=_edge.HNSW_M, ef_construct=_edge.HNSW_EF_CONSTRUCT,
                        full_scan_threshold=_edge.FULL_SCAN_THRESHOLD_KB,
                        payload_m=_edge.PAYLOAD_M),
                    "quantization_config": models.ScalarQuantization(
                        scalar=models.ScalarQuantizationConfig(
                            type=models.ScalarType.INT8, quantile=0.99, always_ram=True)),
                    "optimizers_config": models.OptimizersConfigDiff(
                        indexing_threshold=_edge.INDEXING_THRESHOLD_KB),
                }
            self._call("create", lambda: client.create_collection(
                name, vectors_config=vectors, **extra))
            logger.info("collection created", extra={"collection": name, "dim": self._dim})
        info = self._call("open", lambda: client.get_collection(name))
        params = info.config.params.vectors
        if not isinstance(params, models.VectorParams):
            raise StoreError(
                f"collection {name!r} uses named vectors; ragseal needs one unnamed "
                f"{self._dim}-dim cosine vector (use another RAGSEAL_COLLECTION)"
            )
        if params.size != self._dim or params.distance != models.Distance.COSINE:
            raise StoreError(
                f"collection {name!r} holds {params.size}-dim {params.distance.value} vectors; "
                f"ragseal needs {self._dim}-dim Cosine (use another RAGSEAL_COLLECTION)"
            )
        if self._local:
            return  # local mode ignores payload indexes (and warns on creation)
        present = set(info.payload_schema or {})
        for field, schema in _INDEXES:
            if field not in present:
                self._call("index", partial(client.create_payload_index, name, field, schema))

    def _approximate_share(self, flt: models.Filter) -> float | None:
        # The server's estimates from its payload indexes; see EdgeStore._approximate_share.
        client, name = self._live(), self._collection
        estimate = self._call("count", lambda: client.count(name, flt, exact=False).count)
        if estimate <= EXACT_MAX_VISIBLE:
            return None
        total = self._call("count", lambda: client.count(name, exact=False).count)
        return estimate / max(1, total)

    def _query(
        self,
        vector: list[float],
        flt: models.Filter,
        limit: int,
        params: models.SearchParams | None,
    ) -> list[Hit]:
        response = self._call(
            "search",
            lambda: self._live().query_points(
                self._collection,
                query=vector,
                query_filter=flt,
                search_params=params,
                limit=limit,
                with_payload=True,
            ),
        )
        return [
            Hit(id=str(p.id), score=float(p.score), payload=p.payload or {})
            for p in response.points
        ]

    def _scroll(
        self, flt: models.Filter | None, *, with_payload: bool | list[str]
    ) -> Iterator[Hit]:
        offset: Any = None
        while True:
            page = partial(
                self._live().scroll,
                self._collection,
                scroll_filter=flt,
                limit=_SCROLL_PAGE,
                offset=offset,
                with_payload=with_payload,
            )
            records, offset = self._call("scroll", page)
            for rec in records:
                yield Hit(id=str(rec.id), score=0.0, payload=rec.payload or {})
            if offset is None:
                return

    def _to_struct(self, point: Point) -> models.PointStruct:
        pid = canonical_id(point.id)
        vector = check_vector(point.vector, self._dim, pid)
        try:
            return models.PointStruct(
                id=pid, vector=vector, payload=check_labels(pid, point.payload)
            )
        except ValueError:  # pydantic quotes the offending value
            raise StoreError(f"point {pid}: payload is not JSON-compatible") from None
