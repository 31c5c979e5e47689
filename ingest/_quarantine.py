"""Quarantine: chunks held for a steward, listed and released.

Chunks are held at ingest (below), or at once by a steward during an
incident (:func:`quarantine_document`, ``POST /v1/quarantine/{doc_id}``,
``ragseal quarantine add``): every chunk of the document's stored points is
marked, so no principal retrieves it from the next search on, and
``/v1/inspect`` counts its passages as unreadable for everyone. Releasing
is the same call as for an ingest hold. A new version of the document is
scored again: quarantine it again if it must stay held.

A chunk whose injection score reaches the policy's ``injection.quarantine_at``
is stored with ``quarantined: 1``; every access filter excludes it inside the
search (``store.matches``), so no principal retrieves it. A steward lists the
held documents (ids, scores and signal names; never text) and releases a
document, which sets ``quarantined: 0`` on its held chunks: from then on they
are retrieved like any other, still flagged. A new version of the document is
scored again (a release covers the content the steward reviewed).

The marker is not part of the sealed labels (AAD): a release changes no
ciphertext and needs no key. Someone who can write the store could release
a chunk, as they could delete one; the audit trail records every release.
Nothing here loads a model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from ragseal.store import (
    QUARANTINED,
    Hit,
    PayloadError,
    StoredChunk,
    VectorStore,
    is_quarantined,
)

__all__ = ["HeldChunk", "HeldDocument", "list_quarantine", "quarantine_document",
           "release_document"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldChunk:
    chunk_id: str
    score: float
    signals: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {"chunk_id": self.chunk_id, "score": self.score, "signals": list(self.signals)}


@dataclass(frozen=True)
class HeldDocument:
    """One document with quarantined chunks: ids, scores and signal names only."""

    tenant: str
    doc_id: str
    chunks: tuple[HeldChunk, ...]

    @property
    def score(self) -> float:
        return max(c.score for c in self.chunks)

    @property
    def signals(self) -> tuple[str, ...]:
        return tuple(sorted({s for c in self.chunks for s in c.signals}))

    def as_dict(self) -> dict[str, object]:
        return {
            "tenant": self.tenant,
            "doc_id": self.doc_id,
            "score": self.score,
            "signals": list(self.signals),
            "chunks": [c.as_dict() for c in self.chunks],
        }


def _stored(hit: Hit) -> StoredChunk | None:
    try:
        return StoredChunk.from_hit(hit)
    except PayloadError:
        log.warning("quarantine: malformed payload ignored chunk_id=%s", hit.id,
                    extra={"chunk_id": hit.id, "event": "payload_malformed"})
        return None


def list_quarantine(store: VectorStore, tenant: str | None) -> list[HeldDocument]:
    """Documents with quarantined chunks (of ``tenant``, or of every tenant
    when ``None``), highest score first."""
    held: dict[tuple[str, str], list[HeldChunk]] = {}
    for hit in store.scroll(tenant):
        if not is_quarantined(hit.payload):
            continue
        chunk = _stored(hit)
        if chunk is None:
            continue  # stays held: nobody reads it, and only a well-formed chunk is released
        held.setdefault((chunk.tenant, chunk.doc_id), []).append(
            HeldChunk(chunk_id=chunk.chunk_id, score=chunk.score, signals=chunk.signals))
    docs = [HeldDocument(t, d, tuple(sorted(cs, key=lambda c: c.chunk_id)))
            for (t, d), cs in held.items()]
    return sorted(docs, key=lambda d: (-d.score, d.tenant, d.doc_id))


def release_document(store: VectorStore, tenant: str, doc_id: str) -> int:
    """Release every quarantined chunk of one document of ``tenant``; returns
    how many were released (0: nothing of that document was held)."""
    released = 0
    for hit in store.retrieve(store.document_point_ids(tenant, doc_id)):
        chunk = _stored(hit) if is_quarantined(hit.payload) else None
        if chunk is not None and chunk.tenant == tenant:
            store.set_payload(chunk.chunk_id, replace(chunk, quarantined=0).fields("quarantined"))
            released += 1
    log.info("quarantine released", extra={"doc_id": doc_id, "tenant": tenant, "chunks": released})
    return released


def quarantine_document(store: VectorStore, tenant: str, doc_id: str) -> int | None:
    """Hold every chunk of one document of ``tenant`` at once; returns how many
    were newly held, or None when ``tenant`` has no such document (a document
    of another tenant is absent: same answer)."""
    ids = store.document_point_ids(tenant, doc_id)
    if not ids:
        return None
    held = 0
    for hit in store.retrieve(ids):
        if hit.payload.get("tenant") != tenant:
            continue  # defence in depth: never touch another tenant's point
        if not is_quarantined(hit.payload):
            # Held whatever its payload: a malformed point is held too (fail closed).
            store.set_payload(hit.id, {"quarantined": QUARANTINED})
            held += 1
    log.info("quarantine added", extra={"doc_id": doc_id, "tenant": tenant, "chunks": held})
    return held
