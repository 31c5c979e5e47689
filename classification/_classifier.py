"""Classify text under a policy: findings, marker level, document level.

:class:`Classifier` runs the detectors over texts of any length (long texts
are split into segments below spaCy's ``max_length`` at paragraph or
whitespace boundaries, never inside a PEM block, and the offsets shifted
back), keeps the findings the policy knows and scores high enough, drops
known false positives, resolves overlaps in favour of the more sensitive
entity and looks for keyword markers. A :class:`Classification` holds
spans and levels, never text.

Errors::

    DetectorError      a detector cannot be built (from ``warm_up``)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ._findings import Finding, merge_adjacent, resolve_overlaps
from ._markers import MarkerMatcher
from ._policy import Policy

__all__ = ["Classification", "Classifier", "split_segments"]

logger = logging.getLogger(__name__)

#: Characters a text is cut into for the NER: long texts become a batch of
#: segments (spaCy's decoder steps many at once) instead of one long walk.
#: A 100,000-character text: 29-34k chars per CPU-second uncut, 42-44k at
#: 4,000, the same findings (benchmarks/README.md, issue 16 third round).
SEGMENT_CHARS = 4_000

_PEM_BEGIN = "-----BEGIN "
_PEM_END = "-----END "


@dataclass(frozen=True, slots=True)
class Classification:
    """What one text contains: non-overlapping findings and the marker level.

    ``findings`` are sorted by start and never overlap; ``marker_level`` is
    the rank of the highest marker phrase found (None: no marker).
    """

    findings: tuple[Finding, ...] = ()
    marker_level: int | None = None

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset(f.entity for f in self.findings)

    def gate_level(self, policy: Policy) -> int | None:
        """Rank of the most sensitive gating entity found (None: no gate)."""
        ranks = [
            policy.rank(rule.level)
            for rule in (policy.entity_rule(e) for e in self.entity_types)
            if rule.gate
        ]
        return max(ranks, default=None)

    def level(self, policy: Policy, base_rank: int = 0) -> int:
        """The text's rank: max of ``base_rank`` (e.g. the ACL manifest's), marker and gates."""
        return max(base_rank, self.marker_level or 0, self.gate_level(policy) or 0)


class Classifier:
    """Detects the policy's entities and markers in texts.

    ``__init__`` is cheap; :meth:`warm_up` loads the models (the first
    :meth:`classify` call does it otherwise) and fails closed when the
    policy enables an entity type no recognizer supports.
    """

    def __init__(
        self,
        policy: Policy,
        *,
        batch_size: int = 32,
        max_segment_chars: int = SEGMENT_CHARS,
    ) -> None:
        if max_segment_chars < 1_000:
            raise ValueError("max_segment_chars must be at least 1000")
        from ._detectors import PresidioDetector  # light: Presidio loads on warm_up

        self._policy = policy
        self._detector = PresidioDetector(policy, batch_size=batch_size)
        self._markers = MarkerMatcher(policy)
        self._max_segment_chars = max_segment_chars
        self._ranks = {e: policy.rank(r.level) for e, r in policy.entity_rules.items()}
        self._lock = threading.Lock()
        self._warm = False

    @property
    def policy(self) -> Policy:
        return self._policy

    def warm_up(self) -> None:
        """Build the analyzer once (thread-safe, idempotent)."""
        with self._lock:
            if not self._warm:
                started = time.perf_counter()
                self._detector.warm_up()
                self._warm = True
                logger.info(
                    "classifier ready",
                    extra={
                        "policy": self._policy.fingerprint,
                        "seconds": round(time.perf_counter() - started, 3),
                    },
                )

    def classify(self, text: str) -> Classification:
        return self.classify_many([text])[0]

    def classify_many(self, texts: Sequence[str]) -> list[Classification]:
        """Classify many texts in one batch through the NLP pipeline."""
        self.warm_up()
        started = time.perf_counter()
        limit = min(self._max_segment_chars, self._detector.max_length)
        owners: list[tuple[int, int]] = []  # (text index, segment offset)
        segments: list[str] = []
        for index, text in enumerate(texts):
            for start, end in split_segments(text, limit):
                owners.append((index, start))
                segments.append(text[start:end])
        raw: list[list[Finding]] = [[] for _ in texts]
        for (index, offset), found in zip(
            owners, self._detector.detect_many(segments), strict=True
        ):
            raw[index].extend(f.shifted(offset) if offset else f for f in found)
        results = [
            Classification(
                self._finalise(found, text), self._markers.level(text) if self._markers else None
            )
            for text, found in zip(texts, raw, strict=True)
        ]
        logger.debug(
            "classified",
            extra={
                "texts": len(texts),
                "segments": len(segments),
                "chars": sum(len(t) for t in texts),
                "findings": sum(len(r.findings) for r in results),
                "seconds": round(time.perf_counter() - started, 4),
            },
        )
        return results

    def _finalise(self, found: list[Finding], text: str) -> tuple[Finding, ...]:
        from ._corrections import (
            drop_known_confusions,
            drop_number_fragments,
            drop_userinfo_emails,
            trim_at_deny_list,
            trim_ner_overlaps,
        )

        policy = self._policy
        kept = [
            f for f in found if f.entity in self._ranks and f.score >= policy.threshold(f.entity)
        ]
        kept = drop_number_fragments(trim_at_deny_list(drop_userinfo_emails(kept, text), text),
                                     text)
        if "PERSON" in self._ranks:
            from ._coreference import drop_false_names, propagate_names

            kept = propagate_names(drop_false_names(kept, text), text)
        merged = merge_adjacent(trim_ner_overlaps(drop_known_confusions(kept), text), text)
        return tuple(resolve_overlaps(merged, self._ranks))


def split_segments(text: str, max_chars: int, overlap: int = 256) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` covering ``text``, each at most ``max_chars`` long.

    Cuts go at the last blank line in the second half of the window, else
    the last line break, else the last whitespace, else anywhere; a cut that
    falls inside a PEM block moves before its BEGIN line. A cut before a key
    is clean; the others re-read ``overlap`` characters, so an entity across
    the cut is still seen whole by the next segment, with its context.
    """
    if len(text) <= max_chars:
        return [(0, len(text))]
    spans: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > max_chars:
        end = start + max_chars
        floor = start + max_chars // 2
        clean = True
        cut = text.rfind("\n\n", floor, end)
        if cut >= 0:
            cut += 2
            # A blank line still re-reads: a keyword can stand a paragraph
            # before its value ("password:\n\nhunter2"), a name before its
            # coreferent.
            clean = False
        else:
            clean = False
            cut = text.rfind("\n", floor, end)
            if cut < 0:
                cut = max(text.rfind(" ", floor, end), text.rfind("\t", floor, end))
            cut = end if cut < 0 else cut + 1
        moved = _outside_pem(text, start + max_chars // 4, cut)
        # A line start before a key's BEGIN line is a clean cut too.
        clean = clean or moved != cut
        cut = moved
        spans.append((start, cut))
        start = cut if clean else max(cut - overlap, start + 1)
    spans.append((start, len(text)))
    return spans


def _outside_pem(text: str, floor: int, cut: int) -> int:
    """Move ``cut`` before an unterminated PEM BEGIN line (if one lies after ``floor``)."""
    begin = text.rfind(_PEM_BEGIN, floor, cut)
    if begin < 0 or text.rfind(_PEM_END, begin, cut) >= 0:
        return cut
    line = text.rfind("\n", floor, begin)
    return line + 1 if line >= 0 else begin
