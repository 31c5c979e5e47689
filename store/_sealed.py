"""The plaintext inside a seal: a chunk's original text, entity spans, source.

Two optional fields let ``ragseal relabel`` recompute a chunk's level under
a new policy without the source file (docs/RELABEL.md): ``start``, the
chunk's offset in the document text (the document's markers are searched
again over its chunks put back in place), and ``acl_level``, the level the
ACL manifest gave the document (``None``: none given, which means the
policy's highest). Chunks sealed before these fields existed lack them
(``has_floor`` is False) and still open; when relabel re-seals one it adds
``floor``, the lowest level it inferred for the document, so that later
runs infer the same.
"""

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
    start: int | None = None
    acl_level: str | None = None
    has_floor: bool = False
    floor: str | None = None

    def __repr__(self) -> str:  # never the text, never the source path
        return f"SealedChunk(len={len(self.text)}, spans={len(self.spans)})"

    def to_bytes(self) -> bytes:
        body: dict[str, object] = {
            "text": self.text,
            "spans": [[e, s, t, round(sc, 4)] for e, s, t, sc in self.spans],
            "source": self.source,
        }
        if self.start is not None:
            body["start"] = self.start
        if self.has_floor:
            body["acl_level"] = self.acl_level
        if self.floor is not None:
            body["floor"] = self.floor
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> SealedChunk:
        body = json.loads(raw)
        spans = tuple((str(e), int(s), int(t), float(sc)) for e, s, t, sc in body["spans"])
        start = body.get("start")
        acl_level = body.get("acl_level")
        floor = body.get("floor")
        return cls(
            text=str(body["text"]),
            spans=spans,
            source=str(body["source"]),
            start=None if start is None else int(start),
            acl_level=None if acl_level is None else str(acl_level),
            has_floor="acl_level" in body,
            floor=None if floor is None else str(floor),
        )
