"""What ingestion and retrieval need of a key provider, apart from any one provider.

:class:`KeyProvider` is the protocol; :class:`~ragseal.store.LocalKeyring`
(SQLite, ``store/_keyring.py``) is the implementation today, and a KMS or
Vault transit provider would implement the same (docs/KEYS.md). Errors
(``KeyringError``, ``DataKeyNotFound``, ``KeyUsageExceeded``) live with the
implementation that raises them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["KeyProvider", "KeyringStatus"]


@dataclass(frozen=True, slots=True)
class KeyringStatus:
    """What ``ragseal keys status`` shows: versions and counters, no key material."""

    active_version: int
    versions: dict[int, str]
    data_keys_per_version: dict[int, int]
    data_keys: int
    encryptions: int
    max_encryptions_one_key: int


@runtime_checkable
class KeyProvider(Protocol):
    def ensure_data_key(self, doc_id: str, tenant: str, version: str | None = None) -> bytes:
        """The data key of a document (``version=None``) or of one version of it,
        created (and wrapped) on first use; a new version's key is *pending*
        until :meth:`make_current`."""

    def data_key(self, doc_id: str, tenant: str, version: str | None = None) -> bytes:
        """The document's current data key; with ``version``, only if that
        version is current. :class:`DataKeyNotFound` otherwise (erased, pending)."""

    def destroy_data_key(self, doc_id: str, tenant: str, version: str | None = None) -> bool:
        """Crypto-shred: forget every key of the document (``version=None``) or
        one version's key. True if one existed."""

    def record_encryptions(
        self, doc_id: str, tenant: str, count: int, version: str | None = None
    ) -> None:
        """Count encryptions under a data key; raise past the cap."""

    def current_version(self, doc_id: str, tenant: str) -> str | None:
        """The version whose key is the document's data key (``None``: no
        versioned key)."""

    def make_current(self, doc_id: str, tenant: str, version: str) -> None:
        """Atomically make a pending version current and destroy the previous
        current key; :class:`DataKeyNotFound` if that version has no pending key."""

    def pending_versions(self) -> list[tuple[str, str, str]]:
        """``(tenant, doc_id, version)`` of every key that never became current.

        A provider that several processes share also offers ``writing()``: a
        context manager that excludes the other writers of versions
        (``LocalKeyring.writing``); ingestion holds it when present."""

    def secret(self, purpose: str) -> bytes:
        """A stable 32-byte installation secret for ``purpose``."""

    def status(self) -> KeyringStatus: ...

    def check(self) -> None:
        """Raise :class:`KeyringError` when keys cannot be used."""
