"""The learned injection head: logistic regression on a chunk's MiniLM vector.

Ingest already embeds every chunk (``ingest/_embedder.py``, 384-d, unit
length). A linear head on that vector, ``sigmoid(w . v + b) >= threshold``,
adds the ``learned_classifier`` signal to the rule score
(:func:`classification.score_injection`): framings the patterns do not know
(other languages, "hypothetical" stories, persuasion) sit near known attacks
in embedding space, was the hope. Cost: one 384-term dot product per chunk.

The weights ship in ``injection_head.json`` next to this module, trained by
``scripts/train_injection_head.py`` on development data only. The file's
sha256 is pinned here: a file that does not match, does not parse or is not
a head of the right shape raises :class:`InjectionHeadError` (fail closed: a
caller that asked for the head gets no ingestor, never a silent rules-only
one). Runtime needs numpy only.

**Not used by default.** On the reported test sets this head did not raise
CyberSecEval indirect recall (0.436 with and without it) and raised BIPIA's
clean false positives from 3 to 5 of 200, so ``Services`` builds the
ingestor without it; ``Ingestor(injection_head=load_head())`` turns it on.
Figures and reasons in ``docs/INJECTION.md`` ("A learned head: tried").
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ragseal import UnavailableError

__all__ = ["HEAD_FILE", "HEAD_SHA256", "InjectionHead", "InjectionHeadError", "load_head"]

HEAD_FILE = Path(__file__).with_name("injection_head.json")
#: sha256 of the shipped ``injection_head.json``; retraining updates both.
HEAD_SHA256 = "1f08593321bb6ef50188705191d79e6c46707273ceb2b4fa56015c628d78e086"
_FORMAT = "ragseal-injection-head/1"


class InjectionHeadError(UnavailableError, RuntimeError):
    """The head file is missing, altered or malformed (never shows its content)."""


@dataclass(frozen=True, slots=True, eq=False)
class InjectionHead:
    """A linear head: ``sigmoid(weights . vector + bias)`` against ``threshold``."""

    weights: NDArray[np.float64]
    bias: float
    threshold: float
    embedder: str

    def __repr__(self) -> str:
        return (f"InjectionHead(dim={self.weights.shape[0]}, threshold={self.threshold}, "
                f"embedder={self.embedder!r})")

    def probability(self, vector: Sequence[float]) -> float:
        """The head's probability that the embedded chunk is an injection."""
        v = np.asarray(vector, dtype=np.float64)
        if v.shape != self.weights.shape:
            raise ValueError(f"InjectionHead: expected a vector of {self.weights.shape[0]} "
                             f"floats, got shape {v.shape}")
        z = float(np.dot(self.weights, v)) + self.bias
        # Rounded so that a last-bit difference between runs cannot move a decision.
        return round(1.0 / (1.0 + math.exp(-z)) if z >= 0 else
                     math.exp(z) / (1.0 + math.exp(z)), 6)

    def fires(self, vector: Sequence[float]) -> bool:
        """Whether the ``learned_classifier`` signal is present for this vector."""
        return self.probability(vector) >= self.threshold


def load_head(path: Path | None = None, *, sha256: str | None = None) -> InjectionHead:
    """Load and verify a head file (default: the packaged one, pinned hash).

    Raises:
        InjectionHeadError: missing or unreadable file, hash mismatch, or not a
            head (wrong format, shape, non-finite numbers).
    """
    path = HEAD_FILE if path is None else path
    expected = HEAD_SHA256 if sha256 is None else sha256
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InjectionHeadError(f"injection head {path.name}: cannot read "
                                 f"({type(exc).__name__})") from None
    if hashlib.sha256(data).hexdigest() != expected:
        raise InjectionHeadError(f"injection head {path.name}: sha256 does not match the "
                                 "pinned value (altered or wrong file)")
    try:
        raw = json.loads(data)
        if raw["format"] != _FORMAT:
            raise ValueError("format")
        weights = np.asarray(raw["weights"], dtype=np.float64)
        bias, threshold = float(raw["bias"]), float(raw["threshold"])
        embedder = str(raw["embedder"])
        if (weights.ndim != 1 or weights.shape[0] != int(raw["dim"])
                or not np.all(np.isfinite(weights)) or not math.isfinite(bias)
                or not 0.0 < threshold < 1.0):
            raise ValueError("shape")
    except (ValueError, KeyError, TypeError):
        raise InjectionHeadError(f"injection head {path.name}: not a valid head") from None
    weights.setflags(write=False)
    return InjectionHead(weights, bias, threshold, embedder)
