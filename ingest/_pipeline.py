"""One document through the secure path: classify, mask, chunk, seal, embed, store.

The whole document is classified once, then fully masked (the strictest
view). The *masked* text is what gets chunked and embedded, so every chunk
the embedder sees fits its window exactly; each masked chunk is mapped back
to its original span, whose text and entity spans are sealed under the
document's data key with the chunk's labels as associated data.
"""

from __future__ import annotations

import base64
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from classification import Finding, Policy
from classification._masking import MaskedText, Pseudonymizer, mask
from store import IdHasher, KeyProvider, Labels, Point, SealedChunk, VectorStore, seal_chunk

from ._manifest import Acl

__all__ = ["IngestError", "IngestResult", "Ingestor", "erase_document"]

log = logging.getLogger(__name__)


class IngestError(Exception):
    """A document was refused; ``reason`` is safe to show (no content)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Classification(Protocol):
    @property
    def findings(self) -> tuple[Finding, ...]: ...
    @property
    def marker_level(self) -> int | None: ...


class _Classifier(Protocol):
    def classify(self, text: str) -> _Classification: ...


class _Chunker(Protocol):
    def split(self, text: str) -> list[tuple[int, int]]: ...


class _Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


@dataclass(frozen=True)
class IngestResult:
    """What one ingested document became (ids and counts only)."""

    doc_id: str
    tenant: str
    chunks: int
    level: str
    entities: dict[str, int] = field(default_factory=dict)
    removed_points: int = 0
    seconds: float = 0.0


def _chunk_findings(findings: Sequence[Finding], start: int, end: int) -> tuple[Finding, ...]:
    """Findings overlapping ``[start, end)``, clipped and made chunk-relative."""
    out = []
    for f in findings:
        if f.end <= start or f.start >= end:
            continue
        s, e = max(f.start, start), min(f.end, end)
        out.append(Finding(f.entity, s - start, e - start, f.score, f.detector))
    return tuple(out)


class Ingestor:
    """Runs documents through the secure path into a :class:`VectorStore`.

    All collaborators are passed in; none is created here.
    """

    def __init__(
        self,
        *,
        policy: Policy,
        classifier: _Classifier,
        chunker: _Chunker,
        embedder: _Embedder,
        store: VectorStore,
        keys: KeyProvider,
        ids: IdHasher,
        pseudonyms: Pseudonymizer,
    ) -> None:
        self.policy = policy
        self._classifier = classifier
        self._chunker = chunker
        self._embedder = embedder
        self._store = store
        self._keys = keys
        self._ids = ids
        self._pseudonyms = pseudonyms

    def doc_id(self, tenant: str, source: str) -> str:
        return self._ids.doc_id(tenant, source)

    def _base_rank(self, acl: Acl) -> int:
        if acl.level is None:
            # Fail closed: a document nobody labelled is treated as the most sensitive.
            return len(self.policy.levels) - 1
        try:
            return self.policy.rank(acl.level)
        except KeyError:
            raise IngestError(f"unknown level {acl.level!r} (not in the policy's levels)") from None

    def ingest_text(self, text: str, *, source: str, acl: Acl) -> IngestResult:
        """Ingest one document's text. ``source`` names it (sealed, and hashed
        into the doc id so re-ingesting the same source replaces it)."""
        started = time.perf_counter()
        if not text.strip():
            raise IngestError("no text to ingest")
        if not acl.groups and not acl.users:
            raise IngestError("no ACL group or user may read this document")
        policy = self.policy
        tenant = acl.tenant
        doc_id = self._ids.doc_id(tenant, source)
        base = self._base_rank(acl)

        result = self._classifier.classify(text)
        findings = result.findings
        doc_rank = max(base, result.marker_level if result.marker_level is not None else 0)
        masked: MaskedText = mask(text, findings, policy, self._pseudonyms, tenant)

        spans = [(s, e) for s, e in self._chunker.split(masked.text) if masked.text[s:e].strip()]
        if not spans:
            raise IngestError("no text to ingest")
        data_key = self._keys.ensure_data_key(doc_id, tenant)
        # Counted before sealing: the cap is enforced before the key is used.
        self._keys.record_encryptions(doc_id, tenant, len(spans))

        points: list[Point] = []
        embed_texts: list[str] = []
        top_rank = doc_rank
        for index, (m_start, m_end) in enumerate(spans):
            o_start = masked.to_original(m_start)
            o_end = masked.to_original(m_end, end=True)
            chunk_spans = _chunk_findings(findings, o_start, o_end)
            rank = doc_rank
            for f in chunk_spans:
                rule = policy.entity_rule(f.entity)
                if rule.gate:
                    rank = max(rank, policy.rank(rule.level))
            top_rank = max(top_rank, rank)
            chunk_id = self._ids.chunk_id(doc_id, index)
            labels = Labels(
                tenant=tenant,
                doc_id=doc_id,
                chunk_id=chunk_id,
                level=policy.level_name(rank),
                groups=acl.groups,
                users=acl.users,
            )
            original = text[o_start:o_end]
            tags = sorted({
                self._pseudonyms.search_tag(tenant, f.entity, original[f.start : f.end])
                for f in chunk_spans
            })
            sealed = SealedChunk(
                original,
                tuple((f.entity, f.start, f.end, f.score) for f in chunk_spans),
                source,
            )
            blob = seal_chunk(data_key, labels, sealed.to_bytes())
            payload = {
                "tenant": tenant,
                "doc_id": doc_id,
                "chunk_id": chunk_id,
                "level": rank,
                "groups": list(acl.groups),
                "users": list(acl.users),
                "tags": tags,
                "sealed": base64.b64encode(blob).decode("ascii"),
            }
            points.append(Point(id=chunk_id, vector=(), payload=payload))
            embed_texts.append(masked.text[m_start:m_end])

        vectors = self._embedder.embed(embed_texts)
        points = [Point(p.id, v, p.payload) for p, v in zip(points, vectors, strict=True)]

        old = set(self._store.document_point_ids(tenant, doc_id))
        self._store.upsert(points)
        stale = sorted(old - {p.id for p in points})
        if stale:
            self._store.delete_points(stale)

        counts = Counter(f.entity for f in findings)
        elapsed = time.perf_counter() - started
        log.info(
            "ingested document",
            extra={"doc_id": doc_id, "tenant": tenant, "chunks": len(points),
                   "level": policy.level_name(top_rank), "seconds": round(elapsed, 3)},
        )
        return IngestResult(
            doc_id=doc_id,
            tenant=tenant,
            chunks=len(points),
            level=policy.level_name(top_rank),
            entities=dict(sorted(counts.items())),
            removed_points=len(stale),
            seconds=elapsed,
        )

    def ingest_file(self, path: Path, *, source: str, acl: Acl) -> IngestResult:
        """Load a file (:mod:`ingest._loaders`) and ingest its text."""
        from ._loaders import LoadError, load_document

        try:
            loaded = load_document(path)
        except LoadError as exc:
            raise IngestError(str(exc)) from None
        return self.ingest_text(loaded.text, source=source, acl=acl)

    def delete(self, tenant: str, doc_id: str) -> bool:
        """Erase a document (see :func:`erase_document`)."""
        return erase_document(self._store, self._keys, tenant, doc_id)


def erase_document(store: VectorStore, keys: KeyProvider, tenant: str, doc_id: str) -> bool:
    """Erase a document: destroy its data key first, then its points.

    Key first: if the process dies in between, the points left behind can
    never be opened again (and a later delete removes them). Needs no model.
    Returns whether anything of the document existed.
    """
    had_key = keys.destroy_data_key(doc_id, tenant)
    ids = store.document_point_ids(tenant, doc_id)
    if ids:
        store.delete_points(ids)
    log.info("deleted document doc_id=%s", doc_id,
             extra={"doc_id": doc_id, "tenant": tenant, "points": len(ids)})
    return had_key or bool(ids)
