"""One stored chunk: the typed form of a point's payload (docs/FORMAT.md).

Every reader and writer of a chunk's payload goes through
:class:`StoredChunk`: ingest builds one and writes :meth:`StoredChunk.to_payload`;
retrieval, relabel, quarantine and the version bookkeeping read one with
:meth:`StoredChunk.from_hit` and open it with :meth:`StoredChunk.open`.
Parsing is strict and whole: a field of the wrong type, a label list that
is not a list of strings, ciphertext that is not base64, an unknown field,
and the payload is refused (:class:`PayloadError`, naming the field, never
its value); nothing is half read or coerced. Fields added over time are
optional and read as absent on older points (``version``, ``tags``, ``fp``,
the injection fields, ``quarantined``, ``policy_version``), so existing
stores still read; :meth:`StoredChunk.to_payload` writes an absent field
as absent, never as a default.

The access filter itself is evaluated on the raw payload by the engines
and by :func:`~ragseal.store.matches`, so that a malformed point is never
visible; this model decides what a visible point *says*.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ragseal import RagsealError

from ._fingerprints import FINGERPRINT_FIELD
from ._sealed import SealedChunk
from ._sealing import Labels, open_chunk
from ._types import QUARANTINED, Hit

__all__ = ["PayloadError", "StoredChunk", "payload_version"]

# Field order as ingest has always written it (payloads are compared whole).
_FIELDS = ("tenant", "doc_id", "chunk_id", "version", "level", "groups", "users", "tags",
           "injection_score", "injection_signals", "quarantined", "policy_version", "sealed",
           FINGERPRINT_FIELD)
_REQUIRED = frozenset({"tenant", "doc_id", "chunk_id", "level", "groups", "users", "sealed"})


class PayloadError(RagsealError, ValueError):
    """A point's payload is not a ragseal chunk payload; the message names the
    field and the rule, never a value."""


def _str(payload: Mapping[str, Any], name: str) -> str:
    value = payload[name]
    if not isinstance(value, str) or not value:
        raise PayloadError(f"payload field {name!r} must be a non-empty string")
    return value


def _count(payload: Mapping[str, Any], name: str) -> int:
    value = payload[name]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PayloadError(f"payload field {name!r} must be a non-negative integer")
    return value


def _strings(payload: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = payload[name]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise PayloadError(f"payload field {name!r} must be a list of strings")
    return tuple(value)


def _optional(payload: Mapping[str, Any], name: str, read: Any) -> Any:
    return read(payload, name) if name in payload else None


def _score(payload: Mapping[str, Any], name: str) -> float:
    value = payload[name]
    if (not isinstance(value, int | float) or isinstance(value, bool)
            or not math.isfinite(value) or not 0.0 <= value <= 1.0):
        raise PayloadError(f"payload field {name!r} must be a number from 0 to 1")
    return float(value)


def _flag(payload: Mapping[str, Any], name: str) -> int:
    value = payload[name]
    if not isinstance(value, int) or isinstance(value, bool) or value not in (0, QUARANTINED):
        raise PayloadError(f"payload field {name!r} must be 0 or 1")
    return value


def _sealed(payload: Mapping[str, Any], name: str) -> bytes:
    value = payload[name]
    if not isinstance(value, str):
        raise PayloadError(f"payload field {name!r} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise PayloadError(f"payload field {name!r} must be a base64 string") from None


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk as the vector store holds it: ids, labels, ciphertext, marks.

    ``None`` means the field is absent (a point written before it existed).
    """

    tenant: str
    doc_id: str
    chunk_id: str
    level: int  # rank of the level in the policy's ordered levels
    groups: tuple[str, ...]
    users: tuple[str, ...]
    sealed: bytes = field(repr=False)
    version: str | None = None
    tags: tuple[str, ...] | None = None
    injection_score: float | None = None
    injection_signals: tuple[str, ...] | None = None
    quarantined: int | None = None
    policy_version: int | None = None
    fingerprints: tuple[str, ...] | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # ids only: labels name people and groups
        return f"StoredChunk(chunk_id={self.chunk_id!r}, doc_id={self.doc_id!r})"

    # -- reading ----------------------------------------------------------
    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> StoredChunk:
        """Parse a whole payload, strictly.

        Raises:
            PayloadError: a required field is missing, any field has the
                wrong type, or a field is not one of docs/FORMAT.md's.
        """
        if not isinstance(payload, Mapping):
            raise PayloadError("a payload must be a mapping")
        missing = sorted(_REQUIRED - payload.keys())
        if missing:
            raise PayloadError(f"payload field {missing[0]!r} is missing")
        if payload.keys() - set(_FIELDS):  # not named: a key is as untrusted as a value
            raise PayloadError("payload has a field that is not a chunk field (docs/FORMAT.md)")
        return cls(
            tenant=_str(payload, "tenant"),
            doc_id=_str(payload, "doc_id"),
            chunk_id=_str(payload, "chunk_id"),
            level=_count(payload, "level"),
            groups=_strings(payload, "groups"),
            users=_strings(payload, "users"),
            sealed=_sealed(payload, "sealed"),
            version=_optional(payload, "version", _str),
            tags=_optional(payload, "tags", _strings),
            injection_score=_optional(payload, "injection_score", _score),
            injection_signals=_optional(payload, "injection_signals", _strings),
            quarantined=_optional(payload, "quarantined", _flag),
            policy_version=_optional(payload, "policy_version", _count),
            fingerprints=_optional(payload, FINGERPRINT_FIELD, _strings),
        )

    @classmethod
    def from_hit(cls, hit: Hit) -> StoredChunk:
        """:meth:`from_payload` of a hit whose payload must name the hit's own id."""
        chunk = cls.from_payload(hit.payload)
        if chunk.chunk_id != hit.id:
            raise PayloadError("payload field 'chunk_id' must equal the point id")
        return chunk

    @property
    def held(self) -> bool:
        """Quarantined for a steward (absent: not held)."""
        return self.quarantined == QUARANTINED

    @property
    def score(self) -> float:
        """The injection score at ingest (absent: 0.0, scored before scoring existed)."""
        return 0.0 if self.injection_score is None else self.injection_score

    @property
    def signals(self) -> tuple[str, ...]:
        """Names of the signals behind :attr:`score` (never text)."""
        return self.injection_signals or ()

    # -- opening ----------------------------------------------------------
    def labels(self, level_name: str) -> Labels:
        """The labels the seal is bound to, with ``level`` named as the policy names it."""
        return Labels(tenant=self.tenant, doc_id=self.doc_id, chunk_id=self.chunk_id,
                      level=level_name, groups=self.groups, users=self.users)

    def open_raw(self, data_key: bytes, level_name: str) -> bytes:
        """The sealed plaintext bytes (relabel re-seals them unchanged).

        Raises:
            SealError: wrong key, labels or ciphertext (opaque).
        """
        return open_chunk(data_key, self.labels(level_name), self.sealed)

    def open(self, data_key: bytes, level_name: str) -> SealedChunk:
        """Open the seal and parse what it holds.

        Raises:
            SealError: wrong key, labels or ciphertext (opaque).
            ValueError: the plaintext is not a sealed chunk (SealedChunk.from_bytes).
        """
        return SealedChunk.from_bytes(self.open_raw(data_key, level_name))

    # -- writing ----------------------------------------------------------
    def to_payload(self) -> dict[str, object]:
        """The payload to store; absent fields stay absent."""
        values: dict[str, object] = {
            "tenant": self.tenant,
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "version": self.version,
            "level": self.level,
            "groups": list(self.groups),
            "users": list(self.users),
            "tags": None if self.tags is None else list(self.tags),
            "injection_score": self.injection_score,
            "injection_signals": (None if self.injection_signals is None
                                  else list(self.injection_signals)),
            "quarantined": self.quarantined,
            "policy_version": self.policy_version,
            "sealed": _encode_sealed(self.sealed),
            FINGERPRINT_FIELD: None if self.fingerprints is None else list(self.fingerprints),
        }
        return {k: v for k, v in values.items() if v is not None}

    def fields(self, *names: str) -> dict[str, object]:
        """Some fields of :meth:`to_payload`, for a partial ``set_payload``
        (relabel, quarantine); an absent field stays absent."""
        unknown = set(names) - set(_FIELDS)
        if unknown:
            raise ValueError(f"not chunk fields: {sorted(unknown)}")
        payload = self.to_payload()
        return {name: payload[name] for name in names if name in payload}


def _encode_sealed(blob: bytes) -> str:
    """The ``sealed`` field's value for a sealed blob (base64)."""
    return base64.b64encode(blob).decode("ascii")


def payload_version(payload: Mapping[str, Any]) -> str | None:
    """The ``version`` of any payload, malformed or not (``None``: none).

    For bookkeeping that must see every point, including ones
    :meth:`StoredChunk.from_payload` refuses: deleting a document's stale
    versions deletes a malformed point too, it never skips it.
    """
    value = payload.get("version")
    return value if isinstance(value, str) else None
