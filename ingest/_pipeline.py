"""One document through the secure path: classify, mask, chunk, seal, embed, store.

The whole document is classified once, then fully masked (the strictest
view). The *masked* text is what gets chunked and embedded, so every chunk
the embedder sees fits its window exactly; each masked chunk is mapped back
to its original span, whose text and entity spans are sealed under the
document's data key with the chunk's labels as associated data.

Versions (docs/INGEST.md): every document version has a keyed ``version``
id over its content, ACL, policy and :data:`PIPELINE_VERSION`. A version
the keyring already names current is skipped (nothing written). A new one
is sealed under a *pending* data key and upserted while the old version
stays current (its points cannot be opened yet); one keyring transaction
then makes it current (the old points can no longer be opened), and the
old points are deleted. A run killed anywhere converges when run again:
:meth:`Ingestor.recover` removes whatever never became current.

Why one module past 400 lines: the write path and the version bookkeeping
(unchanged, finish, drop, recover, sweep) are one crash-consistency
protocol over the same keys and points, and its order of writes is only
checkable read together (``tests/ingest/test_crash.py`` kills it between
any two). The payload it writes is :class:`~ragseal.store.StoredChunk`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from ragseal.classification import ClassificationLike, Policy, Pseudonymizer, TextClassifier
from ragseal.store import (
    DataKeyNotFound,
    Fingerprinter,
    Hit,
    IdHasher,
    KeyProvider,
    PayloadError,
    SealError,
    StoredChunk,
    TextEmbedder,
    VectorStore,
    payload_version,
)

from ._manifest import Acl
from ._work import Built, DocumentWork, IngestError, Prepared, _Chunker, key_free

_key_free = key_free  # tests/ingest/test_deterministic.py names it here

__all__ = [
    "PIPELINE_VERSION", "BatchItem", "FilePlan", "IngestError", "IngestResult", "Ingestor",
    "erase_document",
]

log = logging.getLogger(__name__)

# Part of every version id: bump it when a code change alters what the same
# file, ACL and policy become (chunking, masking, sealing, embedding model),
# so that the next run re-ingests instead of calling the file unchanged.
PIPELINE_VERSION = "6"  # 3: injection score, quarantine marker; 4: passage fingerprints;
# 5: fingerprints with values as wildcards (format 2);
# 6: chunk boundaries no longer depend on the installation's pseudonym key

Checkpoint = Callable[[str], None]


def _no_checkpoint(_name: str) -> None:
    return None


@dataclass(frozen=True)
class IngestResult:
    """What one ingested document became (ids and counts only)."""

    doc_id: str
    tenant: str
    chunks: int
    level: str
    entities: dict[str, int] = field(default_factory=dict)
    removed_points: int = 0
    seconds: float = 0.0
    version: str = ""
    unchanged: bool = False
    flagged: int = 0
    quarantined: int = 0


@dataclass(frozen=True)
class FilePlan:
    """A file that must be ingested: its doc id and the version its bytes make."""

    doc_id: str
    version: str
    started: float


@dataclass(frozen=True)
class BatchItem:
    """One planned document of :meth:`Ingestor.ingest_batch`: its text, and its
    classification when a worker process made it."""

    plan: FilePlan
    text: str
    source: str
    acl: Acl
    classification: ClassificationLike | None = None
    hidden: Sequence[tuple[int, int]] = ()

    def __repr__(self) -> str:  # never the text
        return f"BatchItem(doc_id={self.plan.doc_id!r}, len={len(self.text)})"


def _readable(hits: Iterable[Hit]) -> list[StoredChunk]:
    """The hits whose payloads parse; a malformed one is left out (and
    logged), never counted as if it were well formed."""
    out: list[StoredChunk] = []
    for hit in hits:
        try:
            out.append(StoredChunk.from_hit(hit))
        except PayloadError:
            log.warning("malformed payload ignored chunk_id=%s", hit.id,
                        extra={"chunk_id": hit.id, "event": "payload_malformed"})
    return out


class Ingestor:
    """Runs documents through the secure path into a :class:`VectorStore`.

    All collaborators are passed in; none is created here.
    """

    def __init__(
        self,
        *,
        policy: Policy,
        classifier: TextClassifier,
        chunker: _Chunker,
        embedder: TextEmbedder,
        store: VectorStore,
        keys: KeyProvider,
        ids: IdHasher,
        pseudonyms: Pseudonymizer,
        fingerprints: Fingerprinter | None = None,
        checkpoint: Checkpoint | None = None,
        policy_version: int = 0,
    ) -> None:
        self.policy = policy
        # The tenant policy version ``policy`` is (0: the base), recorded in
        # each chunk's payload (docs/FORMAT.md, docs/POLICY.md).
        self.policy_version = policy_version
        self._store = store
        self._keys = keys
        self._ids = ids
        # Called after every durable write (crash tests kill the process there).
        self._checkpoint = checkpoint or _no_checkpoint
        # Classify, mask, chunk, embed and seal: no durable write in there.
        # ``fingerprints``: keyed shingles of each chunk's original text, for
        # inspect's provenance check (docs/INSPECT.md); None stores none.
        self._work = DocumentWork(
            policy=policy, classifier=classifier, chunker=chunker, embedder=embedder, ids=ids,
            pseudonyms=pseudonyms, fingerprints=fingerprints, policy_version=policy_version,
        )
        # Excludes other writers of versions, in every process sharing the
        # keyring (store/_writers.py); a provider without it: this process only.
        writing = getattr(keys, "writing", None)
        self._writing: Callable[[], AbstractContextManager[None]] = (
            writing if callable(writing) else nullcontext)

    def doc_id(self, tenant: str, source: str) -> str:
        return self._ids.doc_id(tenant, source)

    def version_id(self, acl: Acl, content_sha256: str) -> str:
        """The keyed id of one document version: content, resolved ACL, policy
        and pipeline version. Equal ids mean re-ingesting would change nothing."""
        parts = [
            PIPELINE_VERSION,
            content_sha256,
            acl.tenant,
            sorted(acl.groups),
            sorted(acl.users),
            acl.level or "",
            self.policy.fingerprint,
        ]
        return self._ids.keyed_hash("version", json.dumps(parts, separators=(",", ":")))

    def ingest_text(
        self, text: str, *, source: str, acl: Acl, content_sha256: str | None = None,
        hidden: Sequence[tuple[int, int]] = (),
    ) -> IngestResult:
        """Ingest one document's text. ``source`` names it (sealed, and hashed
        into the doc id so re-ingesting the same source replaces it).

        ``content_sha256`` is the SHA-256 of the file the text came from (the
        text's own when omitted); with the ACL and the policy it makes the
        version id, and an unchanged version writes nothing.
        """
        started = time.perf_counter()
        if content_sha256 is None:
            content_sha256 = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        doc_id = self._ids.doc_id(acl.tenant, source)
        version = self.version_id(acl, content_sha256)
        same = self._unchanged(doc_id, acl.tenant, version, started)
        if same is not None:
            return same
        return self._ingest(text, source=source, acl=acl, doc_id=doc_id, version=version,
                            started=started, hidden=hidden)

    def _ingest(
        self, text: str, *, source: str, acl: Acl, doc_id: str, version: str, started: float,
        classification: ClassificationLike | None = None,
        hidden: Sequence[tuple[int, int]] = (),
    ) -> IngestResult:
        prepared = self._work.prepare(text, acl=acl, classification=classification,
                                      hidden=hidden)
        # One writer of versions at a time (store/_writers.py), from the pending
        # key to the switch: another run's recovery never takes this version for
        # a leftover. Parsing and classification ran before, unlocked.
        with self._writing():
            data_key = self.open_version(doc_id, acl.tenant, version, len(prepared.spans))
            built = self._work.build(prepared, doc_id=doc_id, version=version, source=source,
                                     acl=acl, data_key=data_key)
            return self.commit(built, doc_id=doc_id, tenant=acl.tenant, version=version,
                               started=started)

    def writing(self) -> AbstractContextManager[None]:
        """The writers' lock (store/_writers.py) for a caller that runs the write
        steps itself (an engine's driver: :meth:`open_version`, :meth:`commit`,
        :meth:`abandon`, each in a section of its own while workers build).

        Between those sections a concurrent run's recovery may take the pending
        version for a leftover; :meth:`commit` then refuses the document
        ("document changed concurrently; run again") and a rerun converges.
        """
        return self._writing()

    @property
    def work(self) -> DocumentWork:
        """The computing half of a document's ingestion (engines run it elsewhere)."""
        return self._work

    def open_version(self, doc_id: str, tenant: str, version: str, chunks: int) -> bytes:
        """Create (or find) the version's *pending* data key and count the
        encryptions it is about to make. Nothing sealed under it opens until
        :meth:`commit` switches the version."""
        data_key = self._keys.ensure_data_key(doc_id, tenant, version=version)
        self._checkpoint("key")
        # Counted before sealing: the cap is enforced before the key is used.
        self._keys.record_encryptions(doc_id, tenant, chunks, version=version)
        self._checkpoint("count")
        return data_key

    def commit(self, built: Built, *, doc_id: str, tenant: str, version: str,
               started: float) -> IngestResult:
        """Store a built version and switch to it: upsert, the one-transaction
        version switch, then the old version's points and keys go."""
        self._store.upsert(list(built.points))
        self._checkpoint("upsert")
        return self.switch(built, doc_id=doc_id, tenant=tenant, version=version, started=started)

    def switch(self, built: Built, *, doc_id: str, tenant: str, version: str,
               started: float) -> IngestResult:
        """Make a built version whose points are stored current: the
        one-transaction version switch, then the old version's points and
        keys go (:meth:`commit` without its upsert)."""
        points = built.points
        try:
            # The switch: one keyring transaction. Before it readers open only the
            # old version, after it only the new one.
            self._keys.make_current(doc_id, tenant, version)
        except DataKeyNotFound:
            # Another run swept our pending key (recover()): leave no trace.
            self._drop_version(tenant, doc_id, version)
            raise IngestError("document changed concurrently; run again") from None
        self._checkpoint("switch")
        removed = self._finish(tenant, doc_id, version)

        policy = self.policy
        elapsed = time.perf_counter() - started
        log.info(
            "ingested document",
            extra={"doc_id": doc_id, "tenant": tenant, "chunks": len(points),
                   "level": policy.level_name(built.top_rank), "seconds": round(elapsed, 3),
                   "flagged": built.flagged, "quarantined": built.quarantined},
        )
        return IngestResult(
            doc_id=doc_id,
            tenant=tenant,
            chunks=len(points),
            level=policy.level_name(built.top_rank),
            entities=dict(built.entities),
            removed_points=removed,
            seconds=elapsed,
            version=version,
            flagged=built.flagged,
            quarantined=built.quarantined,
        )

    def ingest_batch(
        self, items: Sequence[BatchItem],
        on_commit: Callable[[int, IngestResult], None] | None = None,
    ) -> list[IngestResult | IngestError]:
        """Ingest several planned documents together; one answer per item, in order.

        Each item is classified (one ``classify_many`` over those without a
        worker's classification), masked and chunked; then, under the writers'
        lock: every version's pending key and encryption count, one embedder
        call over all their chunks, the seals, **one** upsert of all their
        points, and the version switch of each document, in item order, after
        its points. A run killed anywhere leaves only pending versions and
        current ones, which :meth:`recover` and a rerun turn into the store an
        uninterrupted run makes (docs/INGEST.md, "Batches"). A document that
        cannot be ingested is answered with its :class:`IngestError`; the
        others go on. Two items may not name the same document.

        ``on_commit(index, result)`` is called as each document's switch is
        done, before the next one's (so a caller's audit record of a document
        is written as it commits, even if a later one fails).
        """
        if len({(i.acl.tenant, i.plan.doc_id) for i in items}) != len(items):
            raise ValueError("ingest_batch: two items name the same document")
        answers: list[IngestResult | IngestError | None] = [None] * len(items)
        unclassified = [n for n, i in enumerate(items) if i.classification is None
                        and i.text.strip()]
        classified: dict[int, ClassificationLike] = {}
        if unclassified:
            found = self._work.classify_many([items[n].text for n in unclassified])
            classified = dict(zip(unclassified, found, strict=True))
        ready: list[tuple[int, Prepared]] = []
        for n, item in enumerate(items):
            try:
                ready.append((n, self._work.prepare(
                    item.text, acl=item.acl, hidden=item.hidden,
                    classification=(item.classification if item.classification is not None
                                    else classified.get(n)))))
            except IngestError as exc:
                answers[n] = exc
        if ready:
            with self._writing():
                self._write_batch(items, ready, answers, on_commit)
        return [a if a is not None else IngestError("not ingested") for a in answers]

    def _write_batch(self, items: Sequence[BatchItem], ready: list[tuple[int, Prepared]],
                     answers: list[IngestResult | IngestError | None],
                     on_commit: Callable[[int, IngestResult], None] | None) -> None:
        opened: list[tuple[int, Prepared, bytes]] = []
        for n, prepared in ready:
            plan, acl = items[n].plan, items[n].acl
            try:
                opened.append((n, prepared, self.open_version(
                    plan.doc_id, acl.tenant, plan.version, len(prepared.spans))))
            except IngestError as exc:
                answers[n] = exc
        texts = [t for _, prepared, _ in opened for t in DocumentWork.chunk_texts(prepared)]
        try:
            vectors = self._work.embed_many(texts) if texts else []
        except IngestError as exc:
            for n, _, _ in opened:
                self.abandon(items[n].plan.doc_id, items[n].acl.tenant, items[n].plan.version)
                answers[n] = exc
            return
        built: list[tuple[int, Built]] = []
        at = 0
        for n, prepared, key in opened:
            item = items[n]
            count = len(prepared.spans)
            try:
                built.append((n, self._work.build(
                    prepared, doc_id=item.plan.doc_id, version=item.plan.version,
                    source=item.source, acl=item.acl, data_key=key,
                    vectors=vectors[at : at + count])))
            except IngestError as exc:  # nothing of it stored yet: drop its pending key
                self.abandon(item.plan.doc_id, item.acl.tenant, item.plan.version)
                answers[n] = exc
            at += count
        if not built:
            return
        # Every pending key above is written before any point below (keys first).
        self._store.upsert([p for _, b in built for p in b.points])
        self._checkpoint("upsert")
        for n, b in built:  # file order; each switch after its points
            item = items[n]
            try:
                result = self.switch(b, doc_id=item.plan.doc_id, tenant=item.acl.tenant,
                                     version=item.plan.version, started=item.plan.started)
            except IngestError as exc:
                answers[n] = exc
                continue
            answers[n] = result
            if on_commit is not None:
                on_commit(n, result)

    def plan_file(self, path: Path, *, source: str, acl: Acl) -> FilePlan | IngestResult:
        """Hash the file's bytes and decide: the unchanged result (nothing to
        do), or a :class:`FilePlan` naming the version to ingest."""
        from ._loaders import DEFAULT_MAX_BYTES, LoadError, _read_bytes

        started = time.perf_counter()
        try:
            data = _read_bytes(path, DEFAULT_MAX_BYTES)
        except LoadError as exc:
            raise IngestError(str(exc)) from None
        doc_id = self._ids.doc_id(acl.tenant, source)
        version = self.version_id(acl, hashlib.sha256(data).hexdigest())
        del data
        same = self._unchanged(doc_id, acl.tenant, version, started)
        if same is not None:
            return same
        return FilePlan(doc_id=doc_id, version=version, started=started)

    def ingest_planned(
        self, plan: FilePlan, text: str, *, source: str, acl: Acl,
        classification: ClassificationLike | None = None,
        hidden: Sequence[tuple[int, int]] = (),
    ) -> IngestResult:
        """Ingest a planned file whose text (and, from a worker process, its
        classification) is already at hand: every durable write happens here,
        in the caller's process, in the order the caller chooses."""
        return self._ingest(text, source=source, acl=acl, doc_id=plan.doc_id,
                            version=plan.version, started=plan.started,
                            classification=classification, hidden=hidden)

    def ingest_file(self, path: Path, *, source: str, acl: Acl) -> IngestResult:
        """Load a file (:mod:`ingest._loaders`) and ingest its text.

        The file's bytes are hashed first: an unchanged version is reported
        without parsing, classifying or embedding anything.
        """
        from ._loaders import LoadError, load_document

        plan = self.plan_file(path, source=source, acl=acl)
        if isinstance(plan, IngestResult):
            return plan
        try:
            loaded = load_document(path)
        except LoadError as exc:
            raise IngestError(str(exc)) from None
        return self.ingest_planned(plan, loaded.text, source=source, acl=acl,
                                   hidden=loaded.hidden)

    # -- versions ---------------------------------------------------------
    def _points(self, tenant: str, doc_id: str) -> list[Hit]:
        return self._store.retrieve(self._store.document_point_ids(tenant, doc_id))

    def _unchanged(
        self, doc_id: str, tenant: str, version: str, started: float
    ) -> IngestResult | None:
        """The result for a version that is already current, else ``None``.

        Also finishes what a run killed after the switch left behind (old
        points, pending keys), so a resumed run converges.
        """
        if self._keys.current_version(doc_id, tenant) != version:
            return None
        hits = self._points(tenant, doc_id)
        mine = _readable([h for h in hits if payload_version(h.payload) == version])
        if not mine:
            return None  # its points are gone: ingest it again under the same key
        with self._writing():
            removed = self._finish(tenant, doc_id, version, hits)
        top = max(c.level for c in mine)
        flag_at = self.policy.injection.flag_at
        return IngestResult(
            doc_id=doc_id,
            tenant=tenant,
            chunks=len(mine),
            level=self.policy.level_name(min(max(top, 0), len(self.policy.levels) - 1)),
            removed_points=removed,
            seconds=time.perf_counter() - started,
            version=version,
            unchanged=True,
            flagged=sum(c.score >= flag_at for c in mine),
            quarantined=sum(c.held for c in mine),
        )

    def _finish(
        self, tenant: str, doc_id: str, version: str, hits: Iterable[Hit] | None = None
    ) -> int:
        """After the switch: delete the document's points of other versions
        (they no longer open) and destroy its keys that never became current."""
        if hits is None:
            hits = self._points(tenant, doc_id)
        stale = sorted(h.id for h in hits if payload_version(h.payload) != version)
        if stale:
            self._store.delete_points(stale)
            self._checkpoint("delete-old")
        for t, d, v in self._keys.pending_versions():
            if (t, d) == (tenant, doc_id) and v != version:
                self._keys.destroy_data_key(doc_id, tenant, version=v)
                self._checkpoint("destroy-pending")
        return len(stale)

    def abandon(self, doc_id: str, tenant: str, version: str) -> None:
        """Drop a version that will not be switched to (its points, then its
        pending key); never the current one. What :meth:`recover` does for it."""
        if self._keys.current_version(doc_id, tenant) != version:
            self._drop_version(tenant, doc_id, version)

    def _drop_version(self, tenant: str, doc_id: str, version: str) -> int:
        """Delete one non-current version: its points first, then its key (so
        no point is ever left whose key is gone without a later run noticing)."""
        stale = sorted(h.id for h in self._points(tenant, doc_id)
                       if payload_version(h.payload) == version)
        if stale:
            self._store.delete_points(stale)
            self._checkpoint("delete-pending")
        if self._keys.destroy_data_key(doc_id, tenant, version=version):
            self._checkpoint("destroy-pending")
        return len(stale)

    def recover(self) -> int:
        """Remove every version that never became current (a run killed
        between sealing and switching). Run before a batch; returns the
        number of points deleted. Holds the writers' lock: a version another
        run is writing right now is never taken for a leftover."""
        removed = 0
        with self._writing():
            for tenant, doc_id, version in self._keys.pending_versions():
                if self._keys.current_version(doc_id, tenant) == version:
                    continue  # cannot happen with make_current; never delete current data
                removed += self._drop_version(tenant, doc_id, version)
        if removed:
            log.info("recovered interrupted ingest", extra={"points": removed})
        return removed

    def sweep(self, tenant: str, keep: Callable[[str], bool]) -> tuple[list[str], int]:
        """``--sync``: erase the tenant's documents whose source ``keep`` rejects,
        and delete points no current key opens. Returns (erased doc ids, points).

        Sources are sealed: each document's source is read from one of its
        chunks, opened with its current key (nothing about paths at rest).
        Holds the writers' lock: another run's pending points are not orphans.
        """
        with self._writing():
            return self._sweep(tenant, keep)

    def _sweep(self, tenant: str, keep: Callable[[str], bool]) -> tuple[list[str], int]:
        by_doc: dict[str, list[Hit]] = {}
        for hit in self._store.scroll(tenant):
            by_doc.setdefault(str(hit.payload.get("doc_id", "")), []).append(hit)
        erased: list[str] = []
        orphans = 0
        for doc_id, hits in sorted(by_doc.items()):
            current = self._keys.current_version(doc_id, tenant)
            try:
                key = self._keys.data_key(doc_id, tenant)
            except DataKeyNotFound:
                key = None
            live = [] if key is None else [
                h for h in hits if current is None or payload_version(h.payload) == current]
            kept = {h.id for h in live}
            dead = sorted(h.id for h in hits if h.id not in kept)
            if dead:
                self._store.delete_points(dead)
                self._checkpoint("sync-orphans")
                orphans += len(dead)
            if key is None or not live:
                continue
            source = self._source_of(live, key)
            if source is not None and not keep(source):
                erase_document(self._store, self._keys, tenant, doc_id)
                self._checkpoint("sync-erase")
                erased.append(doc_id)
        return erased, orphans

    def source_of(self, tenant: str, doc_id: str) -> str | None:
        """The sealed source path of a document's current version (``None``: none opens).

        For an operator naming a document (``quarantine list --tenant``); the
        caller audits the reveal. Loads no model.
        """
        try:
            key = self._keys.data_key(doc_id, tenant)
        except DataKeyNotFound:
            return None
        current = self._keys.current_version(doc_id, tenant)
        hits = [h for h in self._points(tenant, doc_id)
                if current is None or payload_version(h.payload) == current]
        return self._source_of(hits, key)

    def _source_of(self, hits: Sequence[Hit], key: bytes) -> str | None:
        for hit in hits:
            try:
                stored = StoredChunk.from_hit(hit)
                return stored.open(key, self.policy.level_name(stored.level)).source
            except (SealError, ValueError, IndexError):  # PayloadError; a rank off the policy
                continue
        return None

    def delete(self, tenant: str, doc_id: str) -> bool:
        """Erase a document (see :func:`erase_document`)."""
        return erase_document(self._store, self._keys, tenant, doc_id)


def erase_document(store: VectorStore, keys: KeyProvider, tenant: str, doc_id: str) -> bool:
    """Erase a document: destroy the data keys of all its versions first, then
    its points.

    Key first: if the process dies in between, the points left behind can
    never be opened again (and a later delete or ``--sync`` removes them).
    Needs no model. Returns whether anything of the document existed.
    """
    had_key = keys.destroy_data_key(doc_id, tenant)
    ids = store.document_point_ids(tenant, doc_id)
    if ids:
        store.delete_points(ids)
    log.info("deleted document doc_id=%s", doc_id,
             extra={"doc_id": doc_id, "tenant": tenant, "points": len(ids)})
    return had_key or bool(ids)
