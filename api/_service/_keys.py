"""Key-encryption keys: rotate, retire, status (never key material)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ragseal.store import KeyringStatus, LocalKeyring
    from ragseal.store.postgres import PgKeyring  # the shared control plane (postgres extra)

    from ._audit import Auditor, Who

__all__ = ["KeyOps"]


class KeyOps:
    """Operator key operations, each audited (no trail, no key operation)."""

    def __init__(self, *, keys: Callable[[], LocalKeyring | PgKeyring], audit: Auditor) -> None:
        self._keys = keys
        self._audit = audit

    def __repr__(self) -> str:
        return "KeyOps()"

    def rotate(self, who: Who) -> int:
        """Add a KEK version and re-wrap every data key under it; the new version."""
        self._audit.require()
        version = self._keys().rotate()
        self._audit.record("keys_rotate", who, version=version)
        return version

    def retire(self, who: Who, version: int) -> None:
        """Destroy an old KEK version.

        Raises:
            KeyringError: the active version, or one that still wraps keys (audited).
        """
        from ragseal.store import KeyringError

        self._audit.require()
        try:
            self._keys().retire(version)
        except KeyringError:
            self._audit.record("keys_retire", who, "refused", version=version)
            raise
        self._audit.record("keys_retire", who, version=version)

    def status(self) -> KeyringStatus:
        """Versions, data keys per version and usage counters."""
        return self._keys().status()
