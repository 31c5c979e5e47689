"""What the framework adapters share: chunk metadata and the retrieval id of a result set."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._models import Retrieval, RetrievedChunk

__all__ = ["chunk_metadata", "retrieval_id_of"]


def chunk_metadata(chunk: RetrievedChunk, retrieval: Retrieval) -> dict[str, Any]:
    """The metadata every adapter attaches to a chunk (ids, score, level, masks)."""
    meta: dict[str, Any] = {
        "chunk_id": chunk.chunk_id,
        "doc_id": chunk.doc_id,
        "score": chunk.score,
        "level": chunk.level,
        "masked": list(chunk.masked),
        "retrieval_id": retrieval.retrieval_id,
    }
    if chunk.injection is not None:
        meta["injection"] = chunk.injection.model_dump()
    return meta


def retrieval_id_of(metadatas: Iterable[Mapping[str, Any]]) -> str | None:
    """The one retrieval id the chunks came from; None when none or mixed (fail closed:
    inspect then treats every entity above clearance as a finding)."""
    ids = {m.get("retrieval_id") for m in metadatas}
    ids.discard(None)
    if len(ids) == 1:
        (rid,) = ids
        return rid if isinstance(rid, str) else None
    return None
