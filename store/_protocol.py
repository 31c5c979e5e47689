"""The one interface ingestion and retrieval need of a vector engine.

Two implementations: :class:`store.EdgeStore` (Qdrant Edge, in-process,
the embedded default) and :class:`store.ClientStore` (qdrant-client, for a
Qdrant server or cluster; ``":memory:"`` in tests). One contract test suite
(``tests/store/test_contract.py``) runs on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from ._types import AccessFilter, Hit, Point

__all__ = ["TextEmbedder", "VectorStore"]


@runtime_checkable
class VectorStore(Protocol):
    """A collection of sealed chunks with their embeddings and labels."""

    def upsert(self, points: Sequence[Point]) -> None:
        """Insert or replace points (by id). Durable when it returns."""

    def search(
        self, vector: Sequence[float], access: AccessFilter, limit: int,
        *, tags: Sequence[str] = (),
    ) -> list[Hit]:
        """The top-``limit`` points by cosine similarity among those
        ``access`` lets through, best first, with payloads.

        ``tags`` (entity search tags, keyed hashes) narrow the search to
        points carrying any of them: the condition is nested beside the
        access filter (``must=[access, tags]``), so it can only narrow it.

        The access filter is applied inside the engine's search, never after
        it: no point outside it is ever returned. The result is the true
        top-k (exact search) while the visible set is small (the engines:
        estimated at most ``EXACT_MAX_VISIBLE`` points, or no HNSW graph
        yet); above that it may be approximate (HNSW with quantization and
        rescoring, recall@10 measured by ``benchmarks/scale.py``), but it is
        never short: fewer than ``limit`` hits while more points are visible
        is redone exactly (docs/ARCHITECTURE.md).
        """

    def retrieve(self, ids: Iterable[str]) -> list[Hit]:
        """Points by id with payloads (score 0); unknown ids are skipped."""

    def document_point_ids(self, tenant: str, doc_id: str) -> list[str]:
        """Ids of every point of one document of one tenant."""

    def match_fingerprints(self, tenant: str, fingerprints: Sequence[str]) -> Iterable[Hit]:
        """Points of ``tenant`` whose ``fp`` payload holds any of ``fingerprints``
        (keyed shingles, store/_fingerprints.py), whoever may read them.

        Payloads carry the access labels and ``fp`` only, never ``sealed``:
        the caller (retrieval's inspector) decides with :func:`store.matches`
        which of them the principal may not read. Points without
        fingerprints (ingested before them) never match.
        """

    def known_tags(self, tenant: str, tags: Sequence[str]) -> set[str]:
        """Which of ``tags`` (entity search tags, keyed hashes) any point of
        ``tenant`` carries, whoever may read it: the tenant's own sensitive
        values, which ``inspect`` recognises even where a detector misses them."""

    def delete_points(self, ids: Sequence[str]) -> None:
        """Delete points by id (missing ids are ignored)."""

    def set_payload(self, point_id: str, payload: Mapping[str, Any]) -> None:
        """Overwrite fields of a point's payload (relabel; tamper tests)."""

    def scroll(self, tenant: str | None = None) -> Iterable[Hit]:
        """Every point (optionally of one tenant) with payload, in id order."""

    def count(self) -> int:
        """Number of points stored."""

    def close(self) -> None:
        """Flush and release the engine (files, locks, connections)."""


class TextEmbedder(Protocol):
    """What turns (masked) texts into the vectors a :class:`VectorStore` holds.

    Declared here, beside the store, because both ingestion (chunks) and
    retrieval (queries) need one, and neither may import the other.
    """

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
