"""Keyed ids: re-ingesting a file upserts instead of duplicating, and nobody
without the installation secret can confirm a guessed document from its id."""

from __future__ import annotations

import uuid

from ragseal._keyed import keyed_digest

__all__ = ["IdHasher"]


class IdHasher:
    """HMAC-SHA256 ids under an installation secret (``keys.secret("ids")``)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("id key must be at least 16 bytes")
        self._key = key

    def __repr__(self) -> str:
        return "IdHasher(<key hidden>)"

    def _mac(self, *parts: str) -> bytes:
        return keyed_digest(self._key, *parts)

    def doc_id(self, tenant: str, source: str) -> str:
        """32 hex chars naming a document of a tenant by its source path."""
        return self._mac("doc", tenant, source).hex()[:32]

    def chunk_id(self, doc_id: str, index: int) -> str:
        """A UUID (Qdrant point ids must be UUIDs or integers)."""
        return str(uuid.UUID(bytes=self._mac("chunk", doc_id, str(index))[:16], version=4))

    def keyed_hash(self, purpose: str, value: str) -> str:
        """A short keyed hash for logs and audit (e.g. of a query)."""
        return self._mac(purpose, value).hex()[:16]
