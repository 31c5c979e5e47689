"""Detectors: the protocol, and the one that runs the Presidio analyzer.

:class:`PresidioDetector` holds one Presidio ``AnalyzerEngine`` whose
registry holds only the recognizers for the entity types the policy enables
(:mod:`._registry`: Presidio's predefined recognizers and ours, spaCy NER
for PERSON/LOCATION/..., the secret floor) and one recognizer per policy
``recognizers:`` rule (:mod:`._policy_recognizers`). An enabled entity type
that no recognizer supports stops :meth:`PresidioDetector.warm_up` (fail
closed). The engine is built on :meth:`~PresidioDetector.warm_up`
(:mod:`._engine`), never at import (``import presidio_analyzer`` takes
seconds).

The spaCy pipeline is trimmed to what NER needs (:mod:`._spacy`); with no
NER entity enabled only the tokenizer runs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from ._engine import build_engine, nlp_of
from ._errors import DetectorError
from ._findings import Finding
from ._policy import Policy
from ._registry import LANGUAGE, unsupported_entities
from ._spacy import keep_thinc_ops

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine

__all__ = ["Detector", "DetectorError", "PresidioDetector"]

logger = logging.getLogger(__name__)


class Detector(Protocol):
    """Finds typed spans in text; holds models, never text."""

    @property
    def name(self) -> str: ...

    @property
    def entities(self) -> frozenset[str]: ...

    @property
    def max_length(self) -> int:
        """Longest text :meth:`detect_many` accepts (longer texts are split by the caller)."""
        ...

    def warm_up(self) -> None: ...

    def detect(self, text: str) -> list[Finding]: ...

    def detect_many(self, texts: Sequence[str]) -> list[list[Finding]]: ...


class PresidioDetector:
    """All policy entity types through one Presidio ``AnalyzerEngine``."""

    name = "presidio"

    def __init__(self, policy: Policy, *, batch_size: int = 32) -> None:
        self._policy = policy
        self._batch_size = batch_size
        self._entities = frozenset(policy.entity_rules)
        self._engine: AnalyzerEngine | None = None
        self._warm = False
        self._max_length = 1_000_000

    @property
    def entities(self) -> frozenset[str]:
        return self._entities

    @property
    def max_length(self) -> int:
        return self._max_length

    @property
    def engine(self) -> AnalyzerEngine | None:
        """The warmed-up analyzer; None when the policy enables no entity."""
        self.warm_up()
        return self._engine

    def warm_up(self) -> None:
        if self._warm:
            return
        missing = unsupported_entities(self._policy)
        if missing:
            raise DetectorError(
                f"no recognizer supports entity type(s) {', '.join(missing)} enabled under "
                "'entities:'; remove them or define them under 'recognizers:' with patterns "
                "or a deny_list"
            )
        if self._entities:
            self._engine = build_engine(self._policy)
            self._max_length = nlp_of(self._engine).max_length
            keep_thinc_ops()
        self._warm = True
        logger.info(
            "presidio detector ready",
            extra={
                "entities": sorted(self._entities),
                "recognizers": len(list(self._engine.registry.recognizers)) if self._engine else 0,
            },
        )

    def detect(self, text: str) -> list[Finding]:
        return self.detect_many([text])[0]

    def detect_many(self, texts: Sequence[str]) -> list[list[Finding]]:
        """Findings per text (all scores; thresholds are the caller's), one NLP batch."""
        engine = self.engine
        if engine is None:
            return [[] for _ in texts]
        if any(len(t) > self._max_length for t in texts):
            raise DetectorError(f"text longer than {self._max_length} characters: split it first")
        keep_thinc_ops()
        wanted = sorted(self._entities)
        batch = engine.nlp_engine.process_batch(
            list(texts), language=LANGUAGE, batch_size=self._batch_size
        )
        out: list[list[Finding]] = []
        for text, (_, artifacts) in zip(texts, batch, strict=True):
            results = engine.analyze(
                text=text, language=LANGUAGE, entities=wanted, nlp_artifacts=artifacts
            )
            out.append(
                [
                    Finding(
                        r.entity_type,
                        r.start,
                        r.end,
                        float(r.score),
                        str((r.recognition_metadata or {}).get("recognizer_name", "")),
                    )
                    for r in results
                    if 0 <= r.start < r.end <= len(text)
                ]
            )
        return out
