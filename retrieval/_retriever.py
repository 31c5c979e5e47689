"""Retrieve context for a principal: filter inside the search, open, reveal."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ragseal.classification import Policy, Pseudonymizer, TextClassifier
from ragseal.store import (
    AccessFilter,
    Hit,
    KeyProvider,
    StoredChunk,
    TextEmbedder,
    VectorStore,
    matches,
)

from ._access import access_filter
from ._context import FencedChunk, fence
from ._principal import Principal
from ._query import mask_query
from ._retrieval_id import RetrievalIds
from ._views import RequestKeys, open_hit, render

__all__ = ["InjectionView", "RetrievedChunk", "Retrieval", "Retriever"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InjectionView:
    """A chunk's injection score from ingest, flagged against the current policy."""

    flagged: bool = False
    score: float = 0.0
    signals: tuple[str, ...] = ()

    @classmethod
    def of(cls, chunk: StoredChunk, flag_at: float) -> InjectionView:
        """The stored score and signals; a point stored before injection
        scoring reads as unscored (0.0, not flagged)."""
        return cls(flagged=chunk.score >= flag_at, score=chunk.score, signals=chunk.signals)

    def as_dict(self) -> dict[str, object]:
        return {"flagged": self.flagged, "score": self.score, "signals": list(self.signals)}


@dataclass(frozen=True)
class RetrievedChunk:
    """A chunk as this principal may see it."""

    chunk_id: str
    doc_id: str
    text: str
    score: float
    level: str
    masked: tuple[str, ...]
    injection: InjectionView = InjectionView()

    def __repr__(self) -> str:
        return f"RetrievedChunk(chunk_id={self.chunk_id!r}, score={self.score:.4f})"

    def as_dict(self) -> dict[str, object]:
        return {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "text": self.text,
            "score": round(self.score, 6),
            "level": self.level,
            "masked": list(self.masked),
            "injection": self.injection.as_dict(),
        }


@dataclass(frozen=True)
class Retrieval:
    retrieval_id: str
    chunks: tuple[RetrievedChunk, ...]
    dropped: int = 0
    # The chunks fenced for a prompt (retrieval/_context.py); holds chunk text.
    context: str = field(default="", repr=False)

    def __repr__(self) -> str:
        return f"Retrieval(chunks={len(self.chunks)}, dropped={self.dropped})"


# Score bonus for a chunk that names an entity of the query (by search tag).
# Cosine scores of related MiniLM passages sit around 0.3-0.7: the bonus
# lifts chunks about the person asked for above merely topical ones.
TAG_BONUS = 0.25

# The deepest search a retrieval makes when chunks are dropped at open.
MAX_SEARCH_LIMIT = 200


def _fuse(hits: list[Hit], tagged: list[Hit]) -> list[Hit]:
    """Merge plain and tag-filtered results; tagged chunks get :data:`TAG_BONUS`."""
    scores = {h.id: h for h in hits}
    for h in tagged:
        scores[h.id] = Hit(h.id, h.score + TAG_BONUS, h.payload)
    return sorted(scores.values(), key=lambda h: h.score, reverse=True)


class Retriever:
    """The read path. ``policy`` is a callable so a policy change applies to
    every later reveal decision without rebuilding anything."""

    def __init__(
        self,
        *,
        policy: Callable[[], Policy],
        classifier: TextClassifier,
        embedder: TextEmbedder,
        store: VectorStore,
        keys: KeyProvider,
        pseudonyms: Pseudonymizer,
        retrieval_ids: RetrievalIds,
    ) -> None:
        self._policy = policy
        self._classifier = classifier
        self._embedder = embedder
        self._store = store
        self._keys = keys
        self._pseudonyms = pseudonyms
        self._ids = retrieval_ids

    def retrieve(
        self, principal: Principal, query: str, top_k: int = 5, *, pseudonymize: bool = False
    ) -> Retrieval:
        """The best ``top_k`` chunks ``principal`` may see, as it may see them.

        With ``pseudonymize`` even the values the principal may read are
        shown as keyed pseudonyms (the LLM never sees them); the retrieval
        id carries the map, so ``inspect`` puts them back in the answer.
        """
        started = time.perf_counter()
        policy = self._policy()
        access = access_filter(principal, policy)
        masked = mask_query(query, principal, policy, self._classifier, self._pseudonyms)
        vector = self._embedder.embed([masked.text])[0]
        # A little headroom, so a chunk dropped at open does not shorten the answer.
        limit = min(top_k + 5, 100)
        # While a document is replaced, its new points are in the store but do
        # not open yet: when too many are dropped, search again deeper (bounded).
        ceiling = min(max(4 * limit, top_k), MAX_SEARCH_LIMIT)
        chunks: list[RetrievedChunk] = []
        dropped = 0
        seen: set[str] = set()
        mapping: dict[str, str] = {}
        keys = RequestKeys(self._keys)  # each data key read once per request
        while True:
            hits = self._store.search(vector, access, limit)
            exhausted = len(hits) < limit  # nothing deeper to find
            if masked.tags:
                hits = _fuse(hits, self._store.search(vector, access, limit, tags=masked.tags))
            dropped += self._take(hits, seen, chunks, top_k, access, policy, principal,
                                  mapping if pseudonymize else None, keys)
            if len(chunks) >= top_k or exhausted or limit >= ceiling:
                break
            limit = min(limit * 2, ceiling)
        retrieval_id = self._ids.issue(principal, [c.chunk_id for c in chunks], mapping)
        log.info(
            "retrieval",
            extra={"sub_tenant": principal.tenant, "returned": len(chunks), "dropped": dropped,
                   "ms": round((time.perf_counter() - started) * 1000, 2)},
        )
        context = fence([
            FencedChunk(c.doc_id, c.chunk_id, c.level, c.text, c.injection.flagged) for c in chunks
        ])
        return Retrieval(retrieval_id, tuple(chunks), dropped, context)

    def _take(
        self,
        hits: list[Hit],
        seen: set[str],
        chunks: list[RetrievedChunk],
        top_k: int,
        access: AccessFilter,
        policy: Policy,
        principal: Principal,
        mapping: dict[str, str] | None,
        keys: RequestKeys,
    ) -> int:
        """Open hits not seen before, best first, into ``chunks`` (up to
        ``top_k``); returns how many were dropped."""
        dropped = 0
        for hit in hits:
            if len(chunks) == top_k:
                break
            if hit.id in seen:
                continue
            seen.add(hit.id)
            if not matches(hit.payload, access):  # defence in depth: never serve outside the filter
                dropped += 1
                log.error("engine returned a point outside the access filter chunk_id=%s",
                          hit.id, extra={"chunk_id": hit.id})
                continue
            opened = open_hit(hit, policy, keys)
            if opened is None:
                dropped += 1
                continue
            stored, sealed = opened
            shown = render(sealed, principal, policy, self._pseudonyms,
                           pseudonymize=mapping is not None)
            if mapping is not None:
                mapping.update(shown.pseudonyms)
            view = shown.masked
            chunks.append(
                RetrievedChunk(
                    chunk_id=hit.id,
                    doc_id=stored.doc_id,
                    text=view.text,
                    score=hit.score,
                    level=policy.level_name(stored.level),
                    masked=view.masked_types,
                    injection=InjectionView.of(stored, policy.injection.flag_at),
                )
            )
        return dropped
