"""Signed, self-contained retrieval ids: any replica holding the installation
secret can verify one; none needs shared memory.

Format: ``base64url(json body) "." base64url(HMAC-SHA256(key, body))`` where
the body binds the principal (sub, tenant), the chunk ids returned and an
expiry. Nothing in it is secret, but nothing in it can be changed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ._principal import Principal

__all__ = ["RetrievalIdError", "RetrievalIds", "RetrievalSession"]


class RetrievalIdError(Exception):
    """The retrieval id is malformed, altered, expired or not this principal's."""

    def __init__(self) -> None:
        super().__init__("invalid or expired retrieval_id")


@dataclass(frozen=True)
class RetrievalSession:
    sub: str
    tenant: str
    chunk_ids: tuple[str, ...]
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class RetrievalIds:
    """Issues and verifies retrieval ids under ``key``."""

    def __init__(self, key: bytes, ttl_seconds: int = 900) -> None:
        self._key = key
        self._ttl = ttl_seconds

    def __repr__(self) -> str:
        return f"RetrievalIds(ttl={self._ttl})"

    def issue(self, principal: Principal, chunk_ids: Sequence[str]) -> str:
        body = {
            "v": 1,
            "sub": principal.sub,
            "tenant": principal.tenant,
            "chunks": list(chunk_ids),
            "exp": int(time.time()) + self._ttl,
            "n": _b64(os.urandom(9)),
        }
        raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        mac = hmac.new(self._key, raw, hashlib.sha256).digest()
        return f"{_b64(raw)}.{_b64(mac)}"

    def verify(self, token: str, principal: Principal) -> RetrievalSession:
        try:
            body_b64, mac_b64 = token.split(".")
            raw = _unb64(body_b64)
            expected = hmac.new(self._key, raw, hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(mac_b64)):
                raise RetrievalIdError
            body = json.loads(raw)
            session = RetrievalSession(
                sub=str(body["sub"]),
                tenant=str(body["tenant"]),
                chunk_ids=tuple(str(c) for c in body["chunks"]),
                expires=int(body["exp"]),
            )
        except (ValueError, KeyError, TypeError, RetrievalIdError):
            raise RetrievalIdError from None
        if session.sub != principal.sub or session.tenant != principal.tenant:
            raise RetrievalIdError
        if session.expires < time.time():
            raise RetrievalIdError
        return session
