"""Relabel stored chunks under the current policy, without re-embedding.

A chunk's level is decided at ingest (``ingest/_pipeline.py``) as::

    doc level   = max(ACL manifest level (none: the highest), markers in the document)
    chunk level = max(doc level, level of every *gating* entity span in the chunk)

Everything that formula needs is inside the seal: the spans with their
scores, the chunk text (markers are searched again over the document's
chunks put back at their offsets), and the manifest level (``acl_level``).
:func:`relabel` opens each chunk of each document's current version,
recomputes its level under the policy it is given, and when the level (or
the level's *name*, after a steward renamed or inserted levels) changed,
re-seals the same plaintext with the new labels as associated data (fresh
nonce, same data key) and writes ``level`` and ``sealed`` in **one**
``set_payload`` call per point: the payload's level and the seal's
associated data can never disagree, and a killed run simply runs again
(chunks already relabelled compute the same level and are left alone).

Chunks sealed before ``acl_level`` existed get, as their document's floor,
the lowest level any of the document's chunks was stored at: relabelling
them can raise a level or lower it as far as that floor, never below it
(fail closed; re-ingest to lower further). The floor is sealed into every
such chunk relabel rewrites, so a later run (or the rerun of a killed one)
uses the same floor even once every chunk was raised above it. No model is
loaded: spans are stored, markers are regular expressions. Nothing here
logs or raises text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from ragseal.classification import MarkerMatcher, Policy
from ragseal.store import (
    DataKeyNotFound,
    Hit,
    IdHasher,
    KeyProvider,
    SealedChunk,
    SealError,
    Span,
    StoredChunk,
    VectorStore,
    payload_version,
    seal_chunk,
)

from ._relabel_report import RelabelProblem, RelabelReport

__all__ = ["Reclassify", "RelabelProblem", "RelabelReport", "merge_spans", "relabel"]

log = logging.getLogger(__name__)

# Stored scores are rounded to 4 decimals (store/_sealed.py): a span that met
# a threshold at ingest must still meet it after rounding.
_SCORE_SLACK = 5e-5

Checkpoint = Callable[[str], None]


@dataclass
class _Chunk:
    stored: StoredChunk
    level: str  # the level name its seal is bound to
    raw: bytes = field(repr=False)  # the plaintext exactly as sealed (re-sealed byte for byte)
    body: SealedChunk

    @property
    def id(self) -> str:
        return self.stored.chunk_id


def _candidates(policy: Policy, stored: int) -> list[str]:
    """Level names to try opening with: the stored rank's name first, then
    every other level (the policy's levels may have been renamed or moved)."""
    names = list(policy.levels)
    if 0 <= stored < len(names):
        first = names[stored]
        return [first, *(n for n in names if n != first)]
    return names


def _open(hit: Hit, key: bytes, policy: Policy) -> _Chunk | None:
    """The chunk, opened under whichever level its seal is bound to; ``None``
    when its payload is malformed or no level opens it."""
    try:
        stored = StoredChunk.from_hit(hit)
        for level in _candidates(policy, stored.level):
            try:
                raw = stored.open_raw(key, level)
            except SealError:
                continue
            return _Chunk(stored, level, raw, SealedChunk.from_bytes(raw))
    except ValueError:  # PayloadError, a plaintext that is not a sealed chunk
        return None
    return None


def _document_text(chunks: Sequence[_Chunk]) -> str:
    """The document's text as far as its chunks hold it, for marker search.

    Chunks with an offset are put back in place (gaps, whitespace in the
    original, become spaces); chunks without one are appended, each on its
    own line, in the order given.
    """
    placed = sorted((c for c in chunks if c.body.start is not None),
                    key=lambda c: c.body.start or 0)
    parts: list[str] = []
    end = 0
    for c in placed:
        start = c.body.start or 0
        if start > end:
            parts.append(" " * min(start - end, 2))
            end = start
        tail = c.body.text[end - start:]
        parts.append(tail)
        end = max(end, start + len(c.body.text))
    loose = [c.body.text for c in chunks if c.body.start is None]
    return "\n".join(["".join(parts), *loose]) if loose else "".join(parts)


# Spans found by classifying each chunk's text again under the new policy.
Reclassify = Callable[[Sequence[str]], list[tuple[Span, ...]]]


def merge_spans(policy: Policy, stored: tuple[Span, ...],
                detected: Iterable[Span]) -> tuple[Span, ...]:
    """Stored spans plus newly detected ones; nothing stored is ever dropped.

    A detected span that overlaps stored ones replaces them only when it
    covers each of them and its entity is more sensitive (a number stored as
    a phone number and now found as an SSN); otherwise it is left out, so a
    re-classification can add masking, never remove it.
    """
    kept = list(stored)
    for span in detected:
        if span in kept:
            continue
        clash = [k for k in kept if k[1] < span[2] and span[1] < k[2]]
        if clash:
            rank = policy.rank(policy.entity_rule(span[0]).level)
            if not all(span[1] <= k[1] and k[2] <= span[2]
                       and rank > policy.rank(policy.entity_rule(k[0]).level) for k in clash):
                continue
            kept = [k for k in kept if k not in clash]
        kept.append(span)
    merged = tuple(sorted(kept, key=lambda k: (k[1], k[2])))
    return stored if set(merged) == set(stored) else merged


def _gate_rank(policy: Policy, body: SealedChunk) -> int:
    rank = 0
    for entity, _s, _e, score in body.spans:
        rule = policy.entity_rule(entity)  # an entity the policy dropped: highest (fail closed)
        if rule.gate and score + _SCORE_SLACK >= policy.threshold(entity):
            rank = max(rank, policy.rank(rule.level))
    return rank


class _Relabeler:
    def __init__(self, policy: Policy, store: VectorStore, keys: KeyProvider, ids: IdHasher,
                 *, dry_run: bool, checkpoint: Checkpoint, on_chunks: Callable[[int], None],
                 report: RelabelReport, policy_version: int | None = None,
                 reclassify: Reclassify | None = None) -> None:
        self.policy = policy
        self.policy_version = policy_version
        self.reclassify = reclassify
        self.store = store
        self.keys = keys
        self.ids = ids
        self.dry_run = dry_run
        self.checkpoint = checkpoint
        self.on_chunks = on_chunks
        self.report = report
        self.markers = MarkerMatcher(policy)

    def _problem(self, tenant: str, doc_id: str, chunk_id: str, reason: str) -> None:
        self.report.errors.append(RelabelProblem(tenant, doc_id, chunk_id, reason))
        log.warning("relabel: chunk refused",
                    extra={"tenant": tenant, "doc_id": doc_id, "chunk_id": chunk_id,
                           "reason": reason})

    def document(self, tenant: str, doc_id: str, point_ids: Sequence[str]) -> None:
        report = self.report
        hits = self.store.retrieve(point_ids)
        report.documents += 1
        report.scanned += len(hits)
        current = self.keys.current_version(doc_id, tenant)
        try:
            key = self.keys.data_key(doc_id, tenant, version=current)
        except DataKeyNotFound:
            key = None
        live = [h for h in hits if key is not None and payload_version(h.payload) == current]
        report.skipped += len(hits) - len(live)
        chunks: list[_Chunk] = []
        for hit in live:
            chunk = _open(hit, key or b"", self.policy)
            if chunk is None:
                self._problem(tenant, doc_id, hit.id, "does not open under any level of the policy "
                              "(tampered, or its level was removed from the policy)")
                continue
            if _candidates(self.policy, chunk.stored.level)[0] != chunk.level:
                report.mismatched += 1
                log.warning("relabel: payload level disagreed with the seal",
                            extra={"tenant": tenant, "doc_id": doc_id, "chunk_id": hit.id,
                                   "level": chunk.level})
            chunks.append(chunk)
        if chunks:
            self._relabel(tenant, doc_id, current or "", key or b"",
                          self._in_order(doc_id, current or "", chunks))
        self.on_chunks(len(hits))

    def _in_order(self, doc_id: str, version: str, chunks: list[_Chunk]) -> list[_Chunk]:
        """Chunks in document order: chunk ids are MAC(doc, version, index)."""
        base = f"{doc_id}\x00{version}"  # as ingest/_pipeline.py builds them
        wanted = {c.id for c in chunks}
        index: dict[str, int] = {}
        for i in range(2 * len(chunks) + 8):
            cid = self.ids.chunk_id(base, i)
            if cid in wanted:
                index[cid] = i
                if len(index) == len(wanted):
                    break
        return sorted(chunks, key=lambda c: index.get(c.id, len(index) + 1))

    def _floor(self, tenant: str, doc_id: str, chunks: Sequence[_Chunk]) -> tuple[int, bool] | None:
        """The document's floor rank, and whether it was inferred (legacy chunks)."""
        policy = self.policy
        with_floor = [c for c in chunks if c.body.has_floor]
        inferred = [c.body.floor for c in chunks if c.body.floor is not None]
        if with_floor:
            level = with_floor[0].body.acl_level
            if level is None:
                return len(policy.levels) - 1, False  # no manifest level: the highest (as ingest)
        elif inferred:
            level = inferred[0]  # sealed by an earlier relabel of these legacy chunks
        else:
            # Sealed before acl_level existed: the lowest level stored for the document
            # is at least its manifest and marker level, so it is a safe floor.
            self.report.legacy += len(chunks)
            return min(policy.rank(c.level) for c in chunks), True
        if not with_floor:
            self.report.legacy += len(chunks)
        try:
            return policy.rank(level), not with_floor
        except KeyError:
            for c in chunks:
                self._problem(tenant, doc_id, c.id, "its document level (manifest) is not a level "
                              "of the policy")
            return None

    def _stamp(self, stored: StoredChunk) -> None:
        """Record that an unchanged chunk is labelled under ``policy_version`` too."""
        if self.dry_run or self.policy_version is None:
            return
        if stored.policy_version != self.policy_version:
            stamped = replace(stored, policy_version=self.policy_version)
            self.store.set_payload(stored.chunk_id, stamped.fields("policy_version"))

    def _relabel(self, tenant: str, doc_id: str, version: str, key: bytes,
                 chunks: Sequence[_Chunk]) -> None:
        policy = self.policy
        found = self._floor(tenant, doc_id, chunks)
        if found is None:
            return
        floor, legacy = found
        marker = self.markers.level(_document_text(chunks)) if self.markers else None
        doc_rank = max(floor, marker if marker is not None else 0)
        redetected = (self.reclassify([c.body.text for c in chunks])
                      if self.reclassify is not None else [() for _ in chunks])
        changes: list[tuple[_Chunk, int, SealedChunk | None]] = []
        for c, detected in zip(chunks, redetected, strict=True):
            spans = merge_spans(policy, c.body.spans, detected)
            body = replace(c.body, spans=spans) if spans != c.body.spans else None
            rank = max(doc_rank, _gate_rank(policy, body or c.body))
            new = policy.level_name(rank)
            if new == c.level and c.stored.level == rank and body is None:
                self.report.unchanged += 1
                self._stamp(c.stored)
                continue
            self.report.transitions[(c.level, new)] += 1
            changes.append((c, rank, body))
        if not changes:
            return
        if self.dry_run:
            self.report.relabeled += len(changes)
            return
        # Counted before sealing, as ingest does: the usage cap holds before the key is used.
        self.keys.record_encryptions(doc_id, tenant, len(changes), version=version)
        self.checkpoint("count")
        for c, rank, respanned in changes:
            raw = c.raw if respanned is None else respanned.to_bytes()
            if legacy and c.body.floor is None:
                body = respanned or c.body
                raw = SealedChunk(body.text, body.spans, body.source,
                                  floor=policy.level_name(floor)).to_bytes()
            relabelled = replace(
                c.stored, level=rank,
                sealed=seal_chunk(key, c.stored.labels(policy.level_name(rank)), raw),
                policy_version=(c.stored.policy_version if self.policy_version is None
                                else self.policy_version))
            # One call, so level and seal change together (docs/RELABEL.md).
            names = ("level", "sealed") if self.policy_version is None else (
                "level", "sealed", "policy_version")
            self.store.set_payload(c.id, relabelled.fields(*names))
            self.report.relabeled += 1
            self.checkpoint("set")


def relabel(
    *,
    policy: Policy,
    store: VectorStore,
    keys: KeyProvider,
    ids: IdHasher,
    tenants: Iterable[str] | None = None,
    dry_run: bool = False,
    checkpoint: Checkpoint | None = None,
    on_total: Callable[[int], None] | None = None,
    on_chunks: Callable[[int], None] | None = None,
    policy_version: int | None = None,
    reclassify: Reclassify | None = None,
) -> RelabelReport:
    """Recompute every stored chunk's level under ``policy``; rewrite what changed.

    Args:
        tenants: Only these tenants (default: every tenant in the store).
        dry_run: Report what would change; write nothing.
        checkpoint: Called after every durable write (crash tests kill there).
        on_total: Called once with the number of points to scan.
        on_chunks: Called with the number of points scanned, per document.
        policy_version: The tenant policy version ``policy`` is; recorded in
            the payload of every chunk scanned (``policy_version``).
        reclassify: Classify the chunks' texts again (a policy that detects
            entity types the previous one did not): spans found are added to
            the stored ones (:func:`merge_spans`) before levels are computed,
            and a chunk whose spans grew is re-sealed with them.
    """
    started = time.perf_counter()
    report = RelabelReport(dry_run=dry_run)
    worker = _Relabeler(policy, store, keys, ids, dry_run=dry_run,
                        checkpoint=checkpoint or (lambda _n: None),
                        on_chunks=on_chunks or (lambda _n: None), report=report,
                        policy_version=policy_version, reclassify=reclassify)
    # First pass: ids only, grouped by document (payloads are read per document).
    docs: dict[tuple[str, str], list[str]] = {}
    scopes: list[str | None] = [None] if tenants is None else list(dict.fromkeys(tenants))
    for scope in scopes:
        for hit in store.scroll(scope):
            key = (str(hit.payload.get("tenant", "")), str(hit.payload.get("doc_id", "")))
            docs.setdefault(key, []).append(hit.id)
    if on_total is not None:
        on_total(sum(len(v) for v in docs.values()))
    for (tenant, doc_id), point_ids in sorted(docs.items()):
        worker.document(tenant, doc_id, point_ids)
    report.seconds = time.perf_counter() - started
    log.info("relabel finished",
             extra={"documents": report.documents, "chunks": report.scanned,
                    "points": report.relabeled, "count": len(report.errors)})
    return report
