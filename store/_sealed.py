"""The plaintext inside a seal: a chunk's original text, entity spans, source."""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["SealedChunk", "Span"]

# (entity type, start, end, score), offsets relative to the chunk text.
Span = tuple[str, int, int, float]


@dataclass(frozen=True)
class SealedChunk:
    """What :func:`store.seal_chunk` protects for one chunk."""

    text: str
    spans: tuple[Span, ...]
    source: str

    def __repr__(self) -> str:  # never the text, never the source path
        return f"SealedChunk(len={len(self.text)}, spans={len(self.spans)})"

    def to_bytes(self) -> bytes:
        body = {
            "text": self.text,
            "spans": [[e, s, t, round(sc, 4)] for e, s, t, sc in self.spans],
            "source": self.source,
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> SealedChunk:
        body = json.loads(raw)
        spans = tuple((str(e), int(s), int(t), float(sc)) for e, s, t, sc in body["spans"])
        return cls(text=str(body["text"]), spans=spans, source=str(body["source"]))
