"""What a relabel run reports: counts, level transitions, refused chunks.

Ids, counts and level names only, never text (``ragseal relabel --json``
and ``POST /v1/policy`` print :meth:`RelabelReport.as_dict`). Filled by
``ingest/_relabel.py``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["RelabelProblem", "RelabelReport"]


@dataclass(frozen=True)
class RelabelProblem:
    """A chunk that could not be relabelled (ids and a fixed reason only)."""

    tenant: str
    doc_id: str
    chunk_id: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"tenant": self.tenant, "doc_id": self.doc_id, "chunk_id": self.chunk_id,
                "reason": self.reason}


@dataclass
class RelabelReport:
    """What a relabel run found and did (counts, ids, level names)."""

    dry_run: bool = False
    documents: int = 0
    scanned: int = 0
    relabeled: int = 0
    unchanged: int = 0
    skipped: int = 0  # points of no current version: never served, left to ingest/--sync
    legacy: int = 0  # chunks sealed without acl_level (floor from the stored levels)
    # Chunks whose payload level did not name the level their seal is bound to:
    # the policy's levels were inserted, moved or renamed, or the payload was edited.
    mismatched: int = 0
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[RelabelProblem] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: RelabelReport) -> None:
        """Fold another run's counts into this one (a run per tenant policy)."""
        for name in ("documents", "scanned", "relabeled", "unchanged", "skipped", "legacy",
                     "mismatched"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.transitions.update(other.transitions)
        self.errors.extend(other.errors)
        self.seconds += other.seconds

    def as_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "documents": self.documents,
            "scanned": self.scanned,
            "relabeled": self.relabeled,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "legacy": self.legacy,
            "mismatched": self.mismatched,
            "levels": [
                {"before": b, "after": a, "chunks": n}
                for (b, a), n in sorted(self.transitions.items())
            ],
            "errors": [e.as_dict() for e in self.errors],
            "seconds": round(self.seconds, 3),
        }
