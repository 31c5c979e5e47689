"""What a batch ingest reports: documents written, unchanged, refused, removed.

Paths, ids, counts, entity types and levels, never content
(``ragseal ingest --json`` prints :meth:`BatchReport.as_dict`). Filled by
``ingest/_runner.py``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ._pipeline import IngestResult

__all__ = ["BatchReport", "Refusal"]


@dataclass(frozen=True)
class Refusal:
    path: str
    reason: str


@dataclass
class BatchReport:
    """The run's outcome; :meth:`as_dict` is what ``--json`` prints."""

    ingested: list[IngestResult] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # parallel to ``ingested``
    skipped: int = 0
    seconds: float = 0.0
    unchanged: list[IngestResult] = field(default_factory=list)
    unchanged_paths: list[str] = field(default_factory=list)  # parallel to ``unchanged``
    removed: list[str] = field(default_factory=list)  # doc ids erased by sync
    recovered_points: int = 0  # points of interrupted runs removed
    removed_paths: list[str] = field(default_factory=list)  # parallel to ``removed``
    excluded: int = 0  # files an --exclude pattern left out
    unmatched_rules: list[str] = field(default_factory=list)  # "rules[i] (pattern)"

    @property
    def changed_paths(self) -> list[str]:
        """Written files that replaced a version already in the store."""
        return [p for p, r in zip(self.paths, self.ingested, strict=True) if r.removed_points]

    @property
    def added_paths(self) -> list[str]:
        """Written files the store did not hold before."""
        return [p for p, r in zip(self.paths, self.ingested, strict=True) if not r.removed_points]

    def summary(self) -> str:
        """One stable line for logs and cron jobs: ``key=value`` counts, always the same keys.

        Counts are files except ``chunks`` (chunks written by this run).
        """
        return (f"ragseal ingest: added={len(self.added_paths)} "
                f"changed={len(self.changed_paths)} unchanged={len(self.unchanged)} "
                f"removed={len(self.removed)} refused={len(self.refused)} "
                f"excluded={self.excluded} skipped={self.skipped} chunks={self.chunks} "
                f"unmatched_rules={len(self.unmatched_rules)}")

    @property
    def chunks(self) -> int:
        return sum(r.chunks for r in self.ingested)

    def entity_counts(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for r in self.ingested:
            total.update(r.entities)
        return dict(sorted(total.items()))

    def level_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(r.level for r in self.ingested).items()))

    def as_dict(self) -> dict[str, object]:
        """``ingested`` counts every file now in the store as this run saw it
        (``written`` ones plus ``unchanged`` ones, flagged per document);
        entity and level counts cover what was written."""
        documents = [
            {"path": p, "doc_id": r.doc_id, "tenant": r.tenant, "chunks": r.chunks,
             "level": r.level, "entities": r.entities, "unchanged": r.unchanged,
             "injection_flagged": r.flagged, "quarantined": r.quarantined}
            for p, r in [*zip(self.paths, self.ingested, strict=True),
                         *zip(self.unchanged_paths, self.unchanged, strict=True)]
        ]
        return {
            "ingested": len(self.ingested) + len(self.unchanged),
            "refused": len(self.refused),
            "skipped": self.skipped,
            "chunks": self.chunks + sum(r.chunks for r in self.unchanged),
            "seconds": round(self.seconds, 3),
            "documents": documents,
            "refusals": [{"path": r.path, "reason": r.reason} for r in self.refused],
            "entities": self.entity_counts(),
            "levels": self.level_counts(),
            "written": len(self.ingested),
            "chunks_written": self.chunks,
            "unchanged": len(self.unchanged),
            "removed": len(self.removed),
            "removed_documents": list(self.removed),
            "recovered_points": self.recovered_points,
            "added_paths": self.added_paths,
            "changed_paths": self.changed_paths,
            "removed_paths": list(self.removed_paths),
            "excluded": self.excluded,
            "unmatched_rules": list(self.unmatched_rules),
            "injection_flagged": sum(r.flagged for r in [*self.ingested, *self.unchanged]),
            "quarantined": sum(r.quarantined for r in [*self.ingested, *self.unchanged]),
        }
