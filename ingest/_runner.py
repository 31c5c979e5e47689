"""Batch ingestion of files and folders: walk, resolve ACLs, ingest, report.

Bad input never stops the run: each file that cannot be ingested is listed
with its reason (never its content) and the run goes on.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ._manifest import Manifest
from ._pipeline import Ingestor, IngestError, IngestResult

__all__ = ["BatchReport", "Refusal", "ingest_paths", "iter_files"]


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
        return {
            "ingested": len(self.ingested),
            "refused": len(self.refused),
            "skipped": self.skipped,
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
            "documents": [
                {"path": p, "doc_id": r.doc_id, "tenant": r.tenant, "chunks": r.chunks,
                 "level": r.level, "entities": r.entities}
                for p, r in zip(self.paths, self.ingested, strict=True)
            ],
            "refusals": [{"path": r.path, "reason": r.reason} for r in self.refused],
            "entities": self.entity_counts(),
            "levels": self.level_counts(),
        }


def iter_files(paths: Sequence[Path], exclude: set[Path]) -> Iterator[tuple[Path, str | None]]:
    """Yield ``(file, problem)``: regular files under ``paths`` in sorted order.

    Hidden files and folders are skipped (problem ``"hidden"``); symlinks are
    not followed into folders (no loops); a path that does not exist or cannot
    be read comes back with its problem.
    """
    for root in paths:
        if not root.exists():
            yield root, "no such file or folder"
            continue
        if root.is_file():
            if root.resolve() not in exclude:
                yield root, None
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False,
                                                     onerror=lambda e: None):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if path.resolve() in exclude:
                    continue
                if name.startswith("."):
                    yield path, "hidden"
                    continue
                yield path, None


def _source_name(path: Path, base: Path | None) -> str | None:
    """The path the manifest matches and the doc id is derived from: relative
    to the manifest's folder; ``None`` for a file outside it (not covered)."""
    if base is None:
        return path.name
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return None


def ingest_paths(
    ingestor: Ingestor,
    paths: Sequence[Path],
    manifest: Manifest | None,
    *,
    tenant: str | None = None,
    exclude: Sequence[Path] = (),
    on_file: Callable[[Path], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> BatchReport:
    """Ingest every file under ``paths`` with the ACL the manifest gives it."""
    started = time.perf_counter()
    report = BatchReport()
    files = list(iter_files(paths, {p.resolve() for p in exclude}))
    if on_total is not None:
        on_total(len(files))
    base = manifest.base_dir if manifest is not None else None
    for path, problem in files:
        shown = str(path)
        try:
            if problem == "hidden":
                report.skipped += 1
                continue
            if problem is not None:
                report.refused.append(Refusal(shown, problem))
                continue
            source = _source_name(path, base)
            if source is None:
                report.refused.append(Refusal(shown, "outside the manifest's folder"))
                continue
            acl = manifest.resolve(source, tenant) if manifest is not None else None
            if acl is None:
                report.refused.append(
                    Refusal(shown, "no ACL rule covers this file (default deny)"))
                continue
            try:
                report.ingested.append(ingestor.ingest_file(path, source=source, acl=acl))
                report.paths.append(shown)
            except IngestError as exc:
                report.refused.append(Refusal(shown, exc.reason))
        finally:
            if on_file is not None:
                on_file(path)
    report.seconds = time.perf_counter() - started
    return report
