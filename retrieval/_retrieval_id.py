"""Sealed, self-contained retrieval ids: any replica holding the installation
secret can verify one; none needs shared memory.

Format: ``base64url(0x01 || nonce(12) || AES-256-GCM(key, json body))``. The
body binds the principal (sub, tenant), the chunk ids returned, an expiry
and, for a retrieval that asked for pseudonyms, the pseudonym map that lets
``inspect`` put the values back for this principal (at most
:data:`MAX_PSEUDONYMS` entries of at most :data:`MAX_VALUE_CHARS`
characters, so an id stays a few kilobytes).
Authenticated encryption makes the id opaque (the client learns nothing from
it, not even the principal it names) and any change to it detectable.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ragseal import InvalidInputError

from ._principal import Principal

__all__ = ["MAX_PSEUDONYMS", "MAX_VALUE_CHARS", "RetrievalIdError", "RetrievalIds",
           "RetrievalSession"]

MAX_PSEUDONYMS = 64
MAX_VALUE_CHARS = 256


class RetrievalIdError(InvalidInputError):
    """The retrieval id is malformed, altered, expired or not this principal's."""

    def __init__(self) -> None:
        super().__init__("invalid or expired retrieval_id")


@dataclass(frozen=True)
class RetrievalSession:
    sub: str
    tenant: str
    chunk_ids: tuple[str, ...]
    expires: int
    pseudonyms: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # the map holds clear values
        return (f"RetrievalSession(chunks={len(self.chunk_ids)}, "
                f"pseudonyms={len(self.pseudonyms)}, expires={self.expires})")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_VERSION = b"\x01"
_AAD = b"ragseal/retrieval-id/v1"


class RetrievalIds:
    """Issues and verifies retrieval ids under ``key``."""

    def __init__(self, key: bytes, ttl_seconds: int = 900) -> None:
        if len(key) != 32:
            raise ValueError("retrieval id key must be 32 bytes")
        self._aead = AESGCM(key)
        self._ttl = ttl_seconds

    def __repr__(self) -> str:
        return f"RetrievalIds(ttl={self._ttl})"

    def issue(
        self, principal: Principal, chunk_ids: Sequence[str],
        pseudonyms: Mapping[str, str] | None = None,
    ) -> str:
        """A sealed id for ``principal``'s retrieval of ``chunk_ids``.

        ``pseudonyms`` (pseudonym -> clear value) is kept up to the bounds
        above; the rest is dropped, so those pseudonyms stay masked (fail
        closed).
        """
        body: dict[str, object] = {
            "v": 1,
            "sub": principal.sub,
            "tenant": principal.tenant,
            "chunks": list(chunk_ids),
            "exp": int(time.time()) + self._ttl,
        }
        if pseudonyms:
            kept = [(k, v) for k, v in pseudonyms.items() if len(v) <= MAX_VALUE_CHARS]
            body["ps"] = dict(kept[:MAX_PSEUDONYMS])  # the best chunks' first
        raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        nonce = os.urandom(12)
        return _b64(_VERSION + nonce + self._aead.encrypt(nonce, raw, _AAD))

    def verify(self, token: str, principal: Principal) -> RetrievalSession:
        try:
            blob = _unb64(token)
            # Canonical encoding only: no two strings name the same id.
            if _b64(blob) != token or len(blob) < 1 + 12 + 16 or blob[:1] != _VERSION:
                raise RetrievalIdError
            body = json.loads(self._aead.decrypt(blob[1:13], blob[13:], _AAD))
            session = RetrievalSession(
                sub=str(body["sub"]),
                tenant=str(body["tenant"]),
                chunk_ids=tuple(str(c) for c in body["chunks"]),
                expires=int(body["exp"]),
                pseudonyms={str(k): str(v) for k, v in dict(body.get("ps") or {}).items()},
            )
        except (ValueError, KeyError, TypeError, AttributeError, InvalidTag, RetrievalIdError):
            raise RetrievalIdError from None
        if session.sub != principal.sub or session.tenant != principal.tenant:
            raise RetrievalIdError
        if session.expires < time.time():
            raise RetrievalIdError
        return session
