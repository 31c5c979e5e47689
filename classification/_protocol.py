"""What ingestion and retrieval need of a classifier, declared once.

:class:`~ragseal.classification.Classifier` is the implementation; the API's
deferred classifier (models loaded on first use) and the tests' fakes are
others. Ingestion reads ``findings`` and ``marker_level``; retrieval (query
masking) reads ``findings`` only.
"""

from __future__ import annotations

from typing import Protocol

from ._findings import Finding

__all__ = ["ClassificationLike", "TextClassifier"]


class ClassificationLike(Protocol):
    """What one text contains: findings (no text) and the marker level."""

    @property
    def findings(self) -> tuple[Finding, ...]: ...

    @property
    def marker_level(self) -> int | None: ...


class TextClassifier(Protocol):
    """Classifies one text under the policy it was built with."""

    def classify(self, text: str) -> ClassificationLike: ...
