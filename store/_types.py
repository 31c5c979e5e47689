"""Values the vector store speaks in: points, hits and the access filter.

The payload of a point holds only ids, labels and ciphertext (see
``docs/FORMAT.md``)::

    tenant    str          tenant of the document
    doc_id    str          keyed hash of (tenant, source path)
    chunk_id  str          UUID string; equal to the point id
    level     int          rank of the chunk's level in the policy's levels
    groups    list[str]    ACL groups that may read the chunk
    users     list[str]    ACL users (token ``sub``) that may read the chunk
    sealed    str          base64 of the sealed chunk (store/_sealing.py)
    quarantined int        1: held for a steward (never visible through the
                           access filter); 0 or absent: not quarantined
    injection_score float  the chunk's injection score at ingest (0..1)
    injection_signals list[str]  names of the signals behind that score
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["QUARANTINED", "AccessFilter", "Hit", "Point", "is_quarantined", "matches"]

# The payload value of ``quarantined`` that hides a point from every search.
QUARANTINED = 1


@dataclass(frozen=True, slots=True)
class AccessFilter:
    """Who is asking, reduced to what the engine must filter on.

    Built only from an authenticated principal (``retrieval.access_filter``);
    a point is visible iff ``tenant`` equals, ``level <= max_level``,
    (``groups`` intersects the point's groups or ``user`` is in its users)
    and the point is not quarantined.
    """

    tenant: str
    max_level: int
    groups: tuple[str, ...]
    user: str


@dataclass(frozen=True, slots=True)
class Point:
    id: str
    vector: Sequence[float]
    payload: Mapping[str, Any]

    def __repr__(self) -> str:  # vectors and ciphertext are noise in logs
        return f"Point(id={self.id!r}, doc_id={self.payload.get('doc_id')!r})"


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float
    payload: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Hit(id={self.id!r}, score={self.score:.4f})"


def matches(payload: Mapping[str, Any], access: AccessFilter) -> bool:
    """Pure-Python reference of the access rule (CONTRACT.md, Authorization).

    The engines evaluate the same rule as a Qdrant filter; the congruence
    tests hold the two together.
    """
    if payload.get("tenant") != access.tenant:
        return False
    if is_quarantined(payload):
        return False
    level = payload.get("level")
    if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= access.max_level:
        return False
    groups = payload.get("groups") or []
    users = payload.get("users") or []
    return bool(set(groups) & set(access.groups)) or access.user in users


def is_quarantined(payload: Mapping[str, Any]) -> bool:
    """Whether a payload is held in quarantine (``quarantined == 1``; a bool is
    refused at upsert, so ``True`` never stands in for it)."""
    q = payload.get("quarantined")
    return isinstance(q, int) and not isinstance(q, bool) and q == QUARANTINED
