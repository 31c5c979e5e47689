"""The detectors' error (its own module: the registry, the steward's rules and
the spaCy loader raise it, and :mod:`._detectors` imports all three)."""

from __future__ import annotations

from ragseal import InvalidInputError

__all__ = ["DetectorError"]


class DetectorError(InvalidInputError, RuntimeError):
    """A detector cannot be built: unsupported entity, missing model, bad pattern."""
