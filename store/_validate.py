"""Input checks shared by the vector-store backends.

They keep the engines and :func:`store.matches` congruent: a label field of
the wrong type (``level`` as ``1.0`` or ``"1"``, ``groups`` as a string)
would be read differently by Qdrant's filter and by the Python reference,
so it is refused at the door.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import StoreError

__all__ = ["canonical_id", "check_labels", "check_vector"]

_KEYWORDS = ("tenant", "doc_id", "chunk_id")
_FINGERPRINT = re.compile(r"[a-z]{14}")
_KEYWORD_LISTS = ("groups", "users", "tags")


def canonical_id(point_id: str) -> str:
    """The canonical (lowercase, hyphenated) form of a UUID point id.

    Raises:
        StoreError: ``point_id`` is not a UUID string.
    """
    try:
        return str(uuid.UUID(point_id))
    except (TypeError, ValueError, AttributeError):
        raise StoreError("point ids must be UUID strings") from None


def check_vector(vector: Sequence[float], dim: int, what: str) -> list[float]:
    """``vector`` as a list of finite floats of length ``dim``."""
    values = [float(x) for x in vector]
    if len(values) != dim:
        raise StoreError(f"{what}: vector has {len(values)} dimensions, the store expects {dim}")
    # One C-level sum instead of 384 isfinite calls: NaN and inf survive a sum
    # (only absurd magnitudes near 1e308 could overflow, and they are refused too).
    if not math.isfinite(sum(values)):
        raise StoreError(f"{what}: vector has a non-finite or out-of-range component")
    return values


def check_labels(point_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A plain-dict copy of ``payload`` whose label fields have the right types."""
    fields = dict(payload)
    for key in _KEYWORDS:
        if key in fields and not isinstance(fields[key], str):
            raise StoreError(f"point {point_id}: payload field {key!r} must be a string")
    for key in _KEYWORD_LISTS:
        if key in fields:
            value = fields[key]
            if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not all(
                isinstance(v, str) for v in value
            ):
                raise StoreError(
                    f"point {point_id}: payload field {key!r} must be a list of strings"
                )
            fields[key] = list(value)
    if "fp" in fields:  # keyed passage fingerprints (store/_fingerprints.py)
        value = fields["fp"]
        if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not all(
            isinstance(v, str) and _FINGERPRINT.fullmatch(v) for v in value
        ):
            raise StoreError(
                f"point {point_id}: payload field 'fp' must be a list of fingerprints "
                "(14 lower-case letters each)"
            )
        fields["fp"] = list(value)
    level = fields.get("level")
    if "level" in fields and (not isinstance(level, int) or isinstance(level, bool)):
        raise StoreError(f"point {point_id}: payload field 'level' must be an integer")
    quarantined = fields.get("quarantined")
    if "quarantined" in fields and (
        not isinstance(quarantined, int) or isinstance(quarantined, bool)
        or quarantined not in (0, 1)
    ):
        # A JSON true would slip through Edge's integer match (docs/TRAPS.md).
        raise StoreError(f"point {point_id}: payload field 'quarantined' must be 0 or 1")
    try:  # both engines store JSON; refuse what one would coerce and the other reject
        json.dumps(fields, allow_nan=False)
    except (TypeError, ValueError):
        raise StoreError(f"point {point_id}: payload is not JSON-compatible") from None
    return fields
