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
        """Parse an opened plaintext, strictly (docs/FORMAT.md).

        The seal authenticates these bytes, so a malformed body means a bug
        or a format this version does not know: it is refused whole, never
        coerced or half read.

        Raises:
            ValueError: not UTF-8 JSON, a field missing, of the wrong type
                or unknown, or a span outside the text (no content in the
                message).
        """
        body = json.loads(raw)
        if not isinstance(body, dict):
            raise ValueError("sealed chunk: not a JSON object")
        unknown = body.keys() - _FIELDS
        if unknown or not {"text", "spans", "source"} <= body.keys():
            raise ValueError("sealed chunk: missing or unknown fields")
        text, source = body["text"], body["source"]
        start, acl_level, floor = body.get("start"), body.get("acl_level"), body.get("floor")
        if not isinstance(text, str) or not isinstance(source, str):
            raise ValueError("sealed chunk: text and source must be strings")
        if start is not None and (not isinstance(start, int) or isinstance(start, bool)
                                  or start < 0):
            raise ValueError("sealed chunk: start must be a non-negative integer")
        if not all(v is None or isinstance(v, str) for v in (acl_level, floor)):
            raise ValueError("sealed chunk: acl_level and floor must be strings or null")
        return cls(
            text=text,
            spans=_spans(body["spans"], len(text)),
            source=source,
            start=start,
            acl_level=acl_level,
            has_floor="acl_level" in body,
            floor=floor,
        )


_FIELDS = frozenset({"text", "spans", "source", "start", "acl_level", "floor"})


def _spans(value: object, text_len: int) -> tuple[Span, ...]:
    """``[[type, start, end, score], ...]`` as spans inside ``[0, text_len]``."""
    if not isinstance(value, list):
        raise ValueError("sealed chunk: spans must be a list")
    out: list[Span] = []
    for item in value:
        if not isinstance(item, list) or len(item) != 4:
            raise ValueError("sealed chunk: a span must be [type, start, end, score]")
        entity, start, end, score = item
        if (not isinstance(entity, str)
                or not all(isinstance(n, int) and not isinstance(n, bool) for n in (start, end))
                or not isinstance(score, int | float) or isinstance(score, bool)):
            raise ValueError("sealed chunk: a span must be [type, start, end, score]")
        if not 0 <= start <= end <= text_len:
            raise ValueError("sealed chunk: a span lies outside the text")
        out.append((entity, start, end, float(score)))
    return tuple(out)
