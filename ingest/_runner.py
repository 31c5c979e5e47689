"""Batch ingestion of files and folders: walk, resolve ACLs, ingest, report.

Bad input never stops the run: each file that cannot be ingested is listed
with its reason (never its content) and the run goes on. A run starts by
removing what a killed run left half-done (:meth:`Ingestor.recover`), so
running again after a crash converges to the store an uninterrupted run
makes; unchanged files are reported and write nothing; ``sync`` also erases
the documents whose files are gone (docs/INGEST.md).

Why one module past 400 lines: the walk, the ACL resolution and the three
executors (in process, process pool, engine) share one report and one order
of writes; apart, that order could not be checked in one read.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pathspec

from ._batch_report import BatchReport, Refusal
from ._manifest import _PATTERN_FACTORY, Acl, Manifest
from ._pipeline import BatchItem, FilePlan, IngestError, Ingestor, IngestResult

if TYPE_CHECKING:
    from ._engine import EngineConfig
    from ._workers import ParsePool  # noqa: F401

__all__ = ["BatchReport", "Refusal", "ingest_paths", "iter_files"]


# Worker processes take seconds to start (spaCy, Presidio): a pool only pays
# for itself with this many files per worker.
POOL_MIN_FILES = 8

# Documents are written in batches (Ingestor.ingest_batch): one embedder call
# and one upsert for several documents. A batch closes at this many documents
# or this many characters of text (~1,000 characters per 240-token chunk, so
# ~128 chunks: large enough for ONNX int8 to run full batches, small enough
# to bound memory and the time the writers' lock is held).
BATCH_DOCS = 64
BATCH_CHARS = 128_000
# Files per task sent to a worker process: classified together in one
# ``nlp.pipe`` batch (Classifier.classify_many).
TASK_FILES = 4


def iter_files(paths: Sequence[Path], exclude: set[Path]) -> Iterator[tuple[Path, str | None]]:
    """Yield ``(file, problem)``: regular files under ``paths`` in sorted order.

    Hidden files and folders are skipped (problem ``"hidden"``); symlinks are
    not followed into folders (no loops); a path that does not exist or cannot
    be read comes back with its problem.
    """
    for root in paths:
        if not root.exists():
            problem = "symlink loop" if _is_loop(root) else "no such file or folder"
            yield root, problem
            continue
        if root.is_file():
            if _resolved(root) not in exclude:
                yield root, None
            continue
        walk_errors: list[OSError] = []
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False,
                                                     onerror=walk_errors.append):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if _resolved(path) in exclude:
                    continue
                if name.startswith("."):
                    yield path, "hidden"
                    continue
                yield path, _problem(path)
        for error in walk_errors:  # a folder we may not list: say so, never stop
            if error.filename:
                yield Path(error.filename), "unreadable folder"


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before 3.13)
        return None


def _is_loop(path: Path) -> bool:
    return path.is_symlink() and _resolved(path) is None


def _problem(path: Path) -> str | None:
    """Why a walked file cannot be ingested, found before reading it."""
    if path.is_symlink():
        if _resolved(path) is None:
            return "symlink loop"
        if not path.exists():
            return "broken symlink"
    if not path.is_file():
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "unreadable file (permission denied)"
    return None


def _source_name(path: Path, base: Path | None) -> str | None:
    """The path the manifest matches and the doc id is derived from: relative
    to the manifest's folder; ``None`` for a file outside it (not covered)."""
    if base is None:
        return path.name
    resolved = _resolved(path)
    if resolved is None:
        return None
    try:
        return resolved.relative_to(base.resolve()).as_posix()
    except ValueError:
        return None


def _under(source: str, folders: Sequence[str]) -> bool:
    return any(f == "" or source == f or source.startswith(f + "/") for f in folders)


def ingest_paths(
    ingestor: Ingestor,
    paths: Sequence[Path],
    manifest: Manifest | None,
    *,
    tenant: str | None = None,
    exclude: Sequence[Path] = (),
    sync: bool = False,
    on_file: Callable[[Path], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    on_result: Callable[[IngestResult], None] | None = None,
    workers: int = 1,
    root: Path | None = None,
    exclude_patterns: Sequence[str] = (),
    engine: EngineConfig | None = None,
) -> BatchReport:
    """Ingest every file under ``paths`` with the ACL the manifest gives it.

    ``match`` patterns (and ``exclude_patterns``, gitignore-style) are
    matched against each file's path relative to ``root``, by default the
    folder that holds the manifest. A rule that matched no file of the run is
    named in :attr:`BatchReport.unmatched_rules`.

    With ``sync``, documents of the tenants involved whose source lies under
    one of ``paths`` (inside that folder) but whose file is gone are erased
    (data keys destroyed, points deleted); an excluded file is not gone.

    Every file is first hashed and checked against the keyring: unchanged
    files are decided before anything is parsed and before any worker
    starts. With ``workers`` > 1 and enough changed files to repay the start
    of the worker processes (:data:`POOL_MIN_FILES` per worker), those are
    parsed and classified in a process pool (:mod:`ingest._workers`); every
    durable write still happens here, in file order.

    With ``engine`` (``ragseal ingest --engine dask``), the changed files
    are parsed, classified, embedded and sealed on the engine's workers
    (:mod:`ingest._engine`); the engine starts only when a file changed, and
    every durable write still happens here, in file order.
    """
    started = time.perf_counter()
    report = BatchReport()
    report.recovered_points = ingestor.recover()
    files = list(iter_files(paths, {p for p in (_resolved(e) for e in exclude) if p}))
    if on_total is not None:
        on_total(len(files))
    base = root if root is not None else (manifest.base_dir if manifest is not None else None)
    excluded = (pathspec.PathSpec.from_lines(_PATTERN_FACTORY, exclude_patterns)
                if exclude_patterns else None)
    present: set[str] = set()
    tenants: set[str] = {tenant} if tenant else set()
    used_rules: set[int] = set()

    def record(shown: str, result: IngestResult) -> None:
        if result.unchanged:
            report.unchanged.append(result)
            report.unchanged_paths.append(shown)
        else:
            report.ingested.append(result)
            report.paths.append(shown)
        if on_result is not None:
            on_result(result)

    todo = _plan(files, report, ingestor, manifest, base, tenant, present, tenants, used_rules,
                 excluded, record, on_file)
    if engine is not None:
        if todo:
            _run_on_engine(todo, engine, workers, report, ingestor, record, on_file)
    elif workers > 1 and len(todo) >= POOL_MIN_FILES * workers:
        _parse_in_pool(todo, workers, report, ingestor, record, on_file)
    else:
        _ingest_in_process(todo, report, ingestor, record, on_file)
    if manifest is not None:
        report.unmatched_rules = [f"rules[{i}] ({rule.match})"
                                  for i, rule in enumerate(manifest.rules) if i not in used_rules]
    if sync and manifest is not None and base is not None:
        folders = [f for f in (_source_name(p, base) for p in paths if p.is_dir()) if f is not None]
        folders = ["" if f == "." else f for f in folders]
        if manifest.defaults.tenant is not None and tenant is None:
            tenants.add(manifest.defaults.tenant)
        gone: list[str] = []

        def keep(source: str) -> bool:
            kept = not _under(source, folders) or source in present
            if not kept:
                gone.append(source)
            return kept

        for t in sorted(tenants):
            del gone[:]
            erased, _ = ingestor.sweep(t, keep)
            report.removed.extend(erased)
            # sweep erases exactly the documents keep() rejected, in that order
            report.removed_paths.extend(gone if len(gone) == len(erased) else ["?"] * len(erased))
    report.seconds = time.perf_counter() - started
    return report


@dataclass(frozen=True)
class _Todo:
    path: Path
    shown: str
    source: str
    acl: Acl
    plan: FilePlan


class _Batch:
    """Documents waiting to be written together (:meth:`Ingestor.ingest_batch`)."""

    def __init__(self, ingestor: Ingestor, report: BatchReport,
                 record: Callable[[str, IngestResult], None],
                 on_file: Callable[[Path], None] | None) -> None:
        self._ingestor = ingestor
        self._report = report
        self._record = record
        self._on_file = on_file
        self._todo: list[_Todo] = []
        self._items: list[BatchItem] = []
        self._docs: set[tuple[str, str]] = set()
        self.chars = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def full(self) -> bool:
        return len(self._items) >= BATCH_DOCS or self.chars >= BATCH_CHARS

    def add(self, todo: _Todo, item: BatchItem) -> None:
        if (item.acl.tenant, item.plan.doc_id) in self._docs:
            self.flush()  # a file named twice in one run: its versions go one after the other
        self._todo.append(todo)
        self._items.append(item)
        self._docs.add((item.acl.tenant, item.plan.doc_id))
        self.chars += len(item.text)
        if self.full:
            self.flush()

    def flush(self) -> None:
        todo, items = self._todo, self._items
        self._todo, self._items, self._docs, self.chars = [], [], set(), 0
        if not items:
            return
        try:
            # Each document is recorded (and audited by the caller) as it commits.
            answers = self._ingestor.ingest_batch(
                items, on_commit=lambda n, result: self._record(todo[n].shown, result))
            for t, answer in zip(todo, answers, strict=True):
                if isinstance(answer, IngestError):
                    self._report.refused.append(Refusal(t.shown, answer.reason))
        finally:
            if self._on_file is not None:
                for t in todo:
                    self._on_file(t.path)


def _ingest_in_process(todo: list[_Todo], report: BatchReport, ingestor: Ingestor,
                       record: Callable[[str, IngestResult], None],
                       on_file: Callable[[Path], None] | None) -> None:
    from ._loaders import LoadError, load_document

    batch = _Batch(ingestor, report, record, on_file)
    for item in todo:
        try:
            loaded = load_document(item.path)
        except LoadError as exc:
            report.refused.append(Refusal(item.shown, str(exc)))
            if on_file is not None:
                on_file(item.path)
            continue
        batch.add(item, BatchItem(item.plan, loaded.text, item.source, item.acl,
                                  hidden=loaded.hidden))
    batch.flush()


def _parse_in_pool(todo: list[_Todo], workers: int, report: BatchReport, ingestor: Ingestor,
                   record: Callable[[str, IngestResult], None],
                   on_file: Callable[[Path], None] | None) -> None:
    """Workers load and classify :data:`TASK_FILES` files per task; this
    process masks, chunks, embeds, seals and writes them in batches, in file
    order. A batch is written when full, or as soon as the next task is not
    back yet (so the workers' classification overlaps this process's
    embedding, and batches grow only when this process is the bottleneck)."""
    from ._workers import ParsePool

    pool: ParsePool = ParsePool(ingestor.policy, workers)
    pending: deque[tuple[list[_Todo], Future[Any]]] = deque()
    batch = _Batch(ingestor, report, record, on_file)

    def take_oldest() -> None:
        items, future = pending.popleft()
        for t, parsed in zip(items, pool.results(future), strict=True):
            if parsed.error is not None:
                report.refused.append(Refusal(t.shown, parsed.error))
                if on_file is not None:
                    on_file(t.path)
                continue
            batch.add(t, BatchItem(t.plan, parsed.text, t.source, t.acl,
                                   classification=parsed, hidden=parsed.hidden))

    groups = iter([todo[b : b + TASK_FILES] for b in range(0, len(todo), TASK_FILES)])

    def refill() -> None:  # backpressure: at most max_in_flight tasks out
        while len(pending) < pool.max_in_flight:
            group = next(groups, None)
            if group is None:
                return
            pending.append((group, pool.submit([t.path for t in group])))

    try:
        refill()
        while pending:
            take_oldest()
            refill()  # the workers get their next task before this process writes
            if not pending or not pending[0][1].done():
                batch.flush()  # the workers are behind: write what is ready
        batch.flush()
    finally:
        pool.close()


@dataclass(frozen=True)
class _Built:
    item: _Todo
    future: Any


def _run_on_engine(todo: list[_Todo], config: EngineConfig, workers: int, report: BatchReport,
                   ingestor: Ingestor, record: Callable[[str, IngestResult], None],
                   on_file: Callable[[Path], None] | None) -> None:
    """Two stages on the engine per file: ``prepare`` (parse, classify, mask,
    chunk) then, once this process has created the version's pending key and
    counted its encryptions, ``build`` (embed, seal). Upserts and the version
    switch happen here, in file order; at most ``2 x workers`` files are in
    flight."""
    from dataclasses import replace

    from ._engine import start_engine
    from ._loaders import DEFAULT_MAX_BYTES, LoadError, _read_bytes

    if not config.workers:
        config = replace(config, workers=workers)
    with start_engine(config, ingestor.work.spec()) as engine:
        preparing: deque[tuple[_Todo, Any]] = deque()
        building: deque[_Built] = deque()

        def refuse(item: _Todo, reason: str) -> None:
            report.refused.append(Refusal(item.shown, reason))
            if on_file is not None:
                on_file(item.path)

        def start_build() -> None:
            item, job = preparing.popleft()
            try:
                chunks = engine.chunk_count(job)
                with ingestor.writing():  # short sections: the build runs unlocked
                    key = ingestor.open_version(item.plan.doc_id, item.acl.tenant,
                                                item.plan.version, chunks)
            except IngestError as exc:
                engine.release(job.prepared, job.chunks)
                refuse(item, exc.reason)
                return
            building.append(_Built(item, engine.build(
                job, doc_id=item.plan.doc_id, version=item.plan.version, source=item.source,
                acl=item.acl, data_key=key)))
            engine.release(job.chunks, job.prepared)  # the build holds what it needs

        def finish_build() -> None:
            done = building.popleft()
            item = done.item
            try:
                built = engine.built(done.future)
                with ingestor.writing():
                    result = ingestor.commit(
                        built, doc_id=item.plan.doc_id, tenant=item.acl.tenant,
                        version=item.plan.version, started=item.plan.started)
                record(item.shown, result)
            except IngestError as exc:
                # Its pending key (if any) goes now rather than at the next run.
                with ingestor.writing():
                    ingestor.abandon(item.plan.doc_id, item.acl.tenant, item.plan.version)
                report.refused.append(Refusal(item.shown, exc.reason))
            finally:
                engine.release(done.future)
                if on_file is not None:
                    on_file(item.path)

        def step() -> None:
            if preparing and (not building or engine.ready(preparing[0][1])):
                start_build()
            else:
                finish_build()

        for item in todo:
            while len(preparing) + len(building) >= engine.max_in_flight:
                step()
            try:
                data = _read_bytes(item.path, DEFAULT_MAX_BYTES)
            except LoadError as exc:
                refuse(item, str(exc))
                continue
            # The bytes the worker parses are the bytes this version names.
            if ingestor.version_id(item.acl, hashlib.sha256(data).hexdigest()) != item.plan.version:
                refuse(item, "file changed during the run; run again")
                continue
            preparing.append((item, engine.prepare(data, item.path.suffix, item.acl)))
            del data
        while preparing or building:
            step()


def _plan(
    files: list[tuple[Path, str | None]],
    report: BatchReport,
    ingestor: Ingestor,
    manifest: Manifest | None,
    base: Path | None,
    tenant: str | None,
    present: set[str],
    tenants: set[str],
    used_rules: set[int],
    excluded: pathspec.PathSpec[pathspec.Pattern] | None,
    record: Callable[[str, IngestResult], None],
    on_file: Callable[[Path], None] | None,
) -> list[_Todo]:
    """Refuse, exclude or decide each file from its path and its bytes' hash only.

    Returns the files that must be parsed; unchanged ones are recorded here.
    """
    todo: list[_Todo] = []
    for path, problem in files:
        shown = str(path)
        handed_off = False
        try:
            source = _source_name(path, base) if problem != "symlink loop" else None
            if source is not None:
                present.add(source)  # the file is there, ingested or not: sync keeps it
            if excluded is not None and excluded.match_file(source or path.name):
                report.excluded += 1
                continue
            if problem == "hidden":
                report.skipped += 1
                continue
            if source is not None and manifest is not None:
                used_rules.update(manifest.matching_rules(source))
            if problem is not None:
                report.refused.append(Refusal(shown, problem))
                continue
            if source is None:
                report.refused.append(Refusal(shown, "outside the manifest's folder"))
                continue
            acl = manifest.resolve(source, tenant) if manifest is not None else None
            if acl is None:
                report.refused.append(
                    Refusal(shown, "no ACL rule covers this file (default deny)"))
                continue
            tenants.add(acl.tenant)
            try:
                plan = ingestor.plan_file(path, source=source, acl=acl)
            except IngestError as exc:
                report.refused.append(Refusal(shown, exc.reason))
                continue
            if isinstance(plan, IngestResult):
                record(shown, plan)
                continue
            todo.append(_Todo(path, shown, source, acl, plan))
            handed_off = True  # its progress tick comes when it is ingested
        finally:
            if on_file is not None and not handed_off:
                on_file(path)
    return todo
