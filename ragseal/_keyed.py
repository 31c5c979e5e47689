"""The one keyed hash ragseal derives its ids, tags and marks with.

``keyed_digest(key, *parts)`` is HMAC-SHA256 over the parts encoded as UTF-8
and joined with NUL, a byte no part contains where it matters (a tenant, a
path, an entity type), so ``("ab", "c")`` and ``("a", "bc")`` never collide.
Used for document and chunk ids (``store._ids``), audit seals
(``store._audit``), passage fingerprints (``store._fingerprints``) and
pseudonyms and search tags (``classification._masking``). It lives in the
root package, below every subpackage, because both ``store`` and
``classification`` need it and neither may import the other.

Changing it changes every stored id, tag and fingerprint:
``tests/test_keyed.py`` pins its output.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["keyed_digest"]


def keyed_digest(key: bytes, *parts: str) -> bytes:
    """HMAC-SHA256 under ``key`` of ``parts`` (UTF-8) joined with NUL: 32 bytes."""
    return hmac.new(key, b"\x00".join(p.encode() for p in parts), hashlib.sha256).digest()
