"""One document's computation, kept apart from its durable writes.

:class:`Ingestor` (``ingest/_pipeline.py``) runs a document as

    prepare (classify, mask, chunk)  -> pending data key, encryption count
    -> build (embed, seal, payloads) -> upsert, version switch, clean-up

:class:`DocumentWork` is the two computing steps. They write nothing and
read no keyring or store: what they need (the policy, the installation's
id, pseudonym and fingerprint secrets, the document's pending data key) is
handed to them. That is what lets an engine's workers run them
(``ingest/_engine.py``) while the durable writes, and their order, stay
with the one process that owns the keyring and the store.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ragseal.classification import (
    PSEUDONYM_HEX,
    ClassificationLike,
    Finding,
    MaskedText,
    Policy,
    Pseudonymizer,
    TextClassifier,
    mask,
    score_injection,
)
from ragseal.store import (
    Fingerprinter,
    IdHasher,
    Labels,
    Point,
    SealedChunk,
    StoredChunk,
    TextEmbedder,
    seal_chunk,
)

from ragseal import InvalidInputError

from ._loaders import spans_overlap
from ._manifest import Acl

__all__ = ["Built", "DocumentWork", "IngestError", "Prepared", "WorkSpec", "key_free"]

# A keyed pseudonym's hex digest, as a mask piece of the masked text holds it.
_PSEUDONYM = re.compile(rf"<([A-Z][A-Z0-9_]*)_[0-9a-f]{{{PSEUDONYM_HEX}}}>")
# Stands for every digest when chunking: same length, and as many WordPiece
# tokens as the worst digest (one per character), so a chunk cut on this
# shape still fits the model's window once the real digest is in place.
_SHAPE_DIGEST = ("0a" * PSEUDONYM_HEX)[:PSEUDONYM_HEX]


class IngestError(InvalidInputError):
    """A document cannot be ingested; ``reason`` is safe to show (no content)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Chunker(Protocol):
    def split(self, text: str) -> list[tuple[int, int]]: ...


@dataclass(frozen=True)
class WorkSpec:
    """What a process needs, besides its models, to run :class:`DocumentWork`.

    It holds installation secrets (ids, pseudonyms, fingerprints): it goes
    only where documents go (docs/ARCHITECTURE.md, "Distributed ingestion").
    """

    # The Policy object itself (pickled), not its JSON: a JSON round trip
    # marks every field as set, and a deny list's score then changes from
    # 1.0 ("unless the steward set one") to the dumped default (docs/TRAPS.md).
    policy: Policy
    policy_fingerprint: str
    policy_version: int
    ids: IdHasher
    pseudonyms: Pseudonymizer
    fingerprints: Fingerprinter | None

    def __repr__(self) -> str:
        return (f"WorkSpec(policy={self.policy_fingerprint[:12]}, "
                f"version={self.policy_version}, <secrets hidden>)")


@dataclass(frozen=True)
class Prepared:
    """A classified, masked and chunked document (the text stays inside)."""

    text: str
    findings: tuple[Finding, ...]
    doc_rank: int
    masked: MaskedText
    spans: tuple[tuple[int, int], ...]
    hidden: tuple[tuple[int, int], ...]

    def __repr__(self) -> str:  # never the text
        return f"Prepared(chunks={len(self.spans)}, findings={len(self.findings)})"


@dataclass(frozen=True)
class Built:
    """A document's sealed points, ready for the store, and its counts."""

    points: tuple[Point, ...]
    top_rank: int
    flagged: int
    quarantined: int
    entities: dict[str, int]

    def __repr__(self) -> str:
        return f"Built(points={len(self.points)}, flagged={self.flagged})"


class DocumentWork:
    """Classify, mask, chunk, embed and seal one document; write nothing."""

    def __init__(
        self,
        *,
        policy: Policy,
        classifier: TextClassifier,
        chunker: _Chunker,
        embedder: TextEmbedder,
        ids: IdHasher,
        pseudonyms: Pseudonymizer,
        fingerprints: Fingerprinter | None = None,
        policy_version: int = 0,
    ) -> None:
        self.policy = policy
        self.policy_version = policy_version
        self._classifier = classifier
        self._chunker = chunker
        self._embedder = embedder
        self._ids = ids
        self._pseudonyms = pseudonyms
        self._fingerprints = fingerprints

    def __repr__(self) -> str:
        return f"DocumentWork(policy={self.policy.fingerprint[:12]})"

    def spec(self) -> WorkSpec:
        """The models-free description another process rebuilds this from."""
        return WorkSpec(
            policy=self.policy,
            policy_fingerprint=self.policy.fingerprint,
            policy_version=self.policy_version,
            ids=self._ids,
            pseudonyms=self._pseudonyms,
            fingerprints=self._fingerprints,
        )

    def base_rank(self, acl: Acl) -> int:
        if acl.level is None:
            # Fail closed: a document nobody labelled is treated as the most sensitive.
            return len(self.policy.levels) - 1
        try:
            return self.policy.rank(acl.level)
        except KeyError:
            raise IngestError(
                f"unknown level {acl.level!r} (not in the policy's levels)") from None

    def prepare(self, text: str, *, acl: Acl, classification: ClassificationLike | None = None,
                hidden: Sequence[tuple[int, int]] = ()) -> Prepared:
        """Classify (unless a worker did), fully mask, and cut the masked text into chunks."""
        if not text.strip():
            raise IngestError("no text to ingest")
        if not acl.groups and not acl.users:
            raise IngestError("no ACL group or user may read this document")
        base = self.base_rank(acl)
        result = classification if classification is not None else self._classifier.classify(text)
        findings = tuple(result.findings)
        doc_rank = max(base, result.marker_level if result.marker_level is not None else 0)
        masked = mask(text, findings, self.policy, self._pseudonyms, acl.tenant)
        shape = key_free(masked)
        spans = tuple((s, e) for s, e in self._chunker.split(shape) if masked.text[s:e].strip())
        if not spans:
            raise IngestError("no text to ingest")
        return Prepared(text, findings, doc_rank, masked, spans, tuple(hidden))

    def classify_many(self, texts: Sequence[str]) -> list[ClassificationLike]:
        """Classify several texts at once: one ``nlp.pipe`` batch when the
        classifier has ``classify_many`` (the real one does), else one by one."""
        many = getattr(self._classifier, "classify_many", None)
        if callable(many):
            results: list[ClassificationLike] = list(many(list(texts)))
            if len(results) != len(texts):
                raise IngestError("classifier returned a wrong number of results")
            return results
        return [self._classifier.classify(t) for t in texts]

    @staticmethod
    def chunk_texts(prepared: Prepared) -> list[str]:
        """The masked chunks the embedder sees, in order."""
        return [prepared.masked.text[s:e] for s, e in prepared.spans]

    def embed_many(self, texts: Sequence[str]) -> list[list[float]]:
        """One embedder call over many documents' chunks (a batch)."""
        vectors = self._embedder.embed(list(texts))
        if len(vectors) != len(texts):
            raise IngestError("embedder returned a wrong number of vectors")
        return list(vectors)

    def build(self, prepared: Prepared, *, doc_id: str, version: str, source: str, acl: Acl,
              data_key: bytes, vectors: Sequence[Sequence[float]] | None = None) -> Built:
        """Embed the masked chunks (unless ``vectors`` holds them, from a call
        over a batch of documents) and seal the original ones under ``data_key``."""
        policy = self.policy
        tenant = acl.tenant
        text, findings, masked, spans = (prepared.text, prepared.findings, prepared.masked,
                                         prepared.spans)
        if vectors is None:
            vectors = self._embedder.embed(self.chunk_texts(prepared))
        if len(vectors) != len(spans):
            raise IngestError("embedder returned a wrong number of vectors")
        points: list[Point] = []
        top_rank = prepared.doc_rank
        injection = policy.injection
        flagged = held = 0
        # The ids' MAC joins its parts with NUL: this is MAC("chunk", doc_id, version, index).
        chunk_base = f"{doc_id}\x00{version}"
        for index, (m_start, m_end) in enumerate(spans):
            o_start = masked.to_original(m_start)
            o_end = masked.to_original(m_end, end=True)
            chunk_spans = _chunk_findings(findings, o_start, o_end)
            rank = prepared.doc_rank
            for f in chunk_spans:
                rule = policy.entity_rule(f.entity)
                if rule.gate:
                    rank = max(rank, policy.rank(rule.level))
            top_rank = max(top_rank, rank)
            chunk_id = self._ids.chunk_id(chunk_base, index)
            labels = Labels(
                tenant=tenant,
                doc_id=doc_id,
                chunk_id=chunk_id,
                level=policy.level_name(rank),
                groups=acl.groups,
                users=acl.users,
            )
            original = text[o_start:o_end]
            # Scored on the original text: a principal may see it unmasked.
            risk = score_injection(original,
                                   hidden=spans_overlap(prepared.hidden, o_start, o_end))
            quarantined = int(injection.quarantine_at is not None
                              and risk.score >= injection.quarantine_at)
            flagged += risk.score >= injection.flag_at
            held += quarantined
            tags = sorted({
                self._pseudonyms.search_tag(tenant, f.entity, original[f.start : f.end])
                for f in chunk_spans
            })
            sealed = SealedChunk(
                original,
                tuple((f.entity, f.start, f.end, f.score) for f in chunk_spans),
                source,
                # What `ragseal relabel` needs to recompute the level later.
                start=o_start,
                acl_level=acl.level,
                has_floor=True,
            )
            stored = StoredChunk(
                tenant=tenant,
                doc_id=doc_id,
                chunk_id=chunk_id,
                version=version,
                level=rank,
                groups=acl.groups,
                users=acl.users,
                tags=tuple(tags),
                injection_score=risk.score,
                injection_signals=tuple(risk.signals),
                quarantined=quarantined,
                policy_version=self.policy_version,
                sealed=seal_chunk(data_key, labels, sealed.to_bytes()),
                # Values (entities, numbers) are wildcards: whether an answer
                # matches never depends on them (store/_fingerprints.py).
                fingerprints=None if self._fingerprints is None else tuple(
                    self._fingerprints.fingerprints(
                        tenant, original, [(f.start, f.end) for f in chunk_spans])),
            )
            points.append(Point(id=chunk_id, vector=vectors[index], payload=stored.to_payload()))
        counts = Counter(f.entity for f in findings)
        return Built(tuple(points), top_rank, flagged, held, dict(sorted(counts.items())))


def _chunk_findings(findings: Sequence[Finding], start: int, end: int) -> tuple[Finding, ...]:
    """Findings overlapping ``[start, end)``, clipped and made chunk-relative."""
    out = []
    for f in findings:
        if f.end <= start or f.start >= end:
            continue
        s, e = max(f.start, start), min(f.end, end)
        out.append(Finding(f.entity, s - start, e - start, f.score, f.detector))
    return tuple(out)


def key_free(masked: MaskedText) -> str:
    """The masked text with every pseudonym's digest replaced by one constant.

    Chunk boundaries are cut on this shape, not on the masked text: the
    digests come from the installation's key, and their WordPiece token
    counts differ from key to key, so cutting on them made the same file
    give 2 chunks under one key and 3 under another. The shape has the same
    length as the masked text, so its spans apply to it unchanged.
    """
    out: list[str] = []
    ends = [p[0] for p in masked.pieces[1:]] + [len(masked.text)]
    for (m_start, _o_start, _o_end, is_mask), m_end in zip(masked.pieces, ends, strict=True):
        piece = masked.text[m_start:m_end]
        if is_mask and _PSEUDONYM.fullmatch(piece):
            piece = piece[: -PSEUDONYM_HEX - 1] + _SHAPE_DIGEST + ">"
        out.append(piece)
    return "".join(out)
