"""Models the ingest path loads only when a file needs them.

``ragseal ingest`` over unchanged files hashes bytes and reads the keyring:
it needs neither Presidio/spaCy nor the embedding model, whose loading took
most of an unchanged run (issue 20, item 8). The ingestor gets these
stand-ins; the first ``classify`` or ``embed`` builds the real model through
the container's cached property, so a policy swap (which rebuilds the
ingestor) still takes effect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ragseal.classification import Classification, Classifier
    from ragseal.ingest import Embedder

__all__ = ["DeferredClassifier", "DeferredEmbedder"]


class DeferredClassifier:
    """``classify`` (and ``classify_many``) on the classifier ``get`` returns,
    built on first use."""

    def __init__(self, get: Callable[[], Classifier]) -> None:
        self._get = get

    def __repr__(self) -> str:
        return "DeferredClassifier()"

    def classify(self, text: str) -> Classification:
        return self._get().classify(text)

    def classify_many(self, texts: Sequence[str]) -> list[Classification]:
        """One ``nlp.pipe`` batch (what ``Ingestor.ingest_batch`` calls)."""
        return self._get().classify_many(texts)


class DeferredEmbedder:
    """``embed`` on the embedder ``get`` returns, built on first use."""

    def __init__(self, get: Callable[[], Embedder]) -> None:
        self._get = get

    def __repr__(self) -> str:
        return "DeferredEmbedder()"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = self._get().embed(texts)
        return vectors
