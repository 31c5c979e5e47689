"""Documents: erase one, and the audit records of an ingest as each document commits."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ._errors import DocumentNotFound

if TYPE_CHECKING:
    from ragseal.ingest import IngestResult
    from ragseal.store import IdHasher

    from ._audit import Auditor, Who

__all__ = ["DocumentOps"]


class DocumentOps:
    """Delete a document; record what an ingest wrote, refused or removed.

    Args:
        erase: crypto-shred a document and delete its points (False: none).
        tenant_of: the tenant that holds a document id, from the keyring.
        ids: keyed hashes for records of what was not found or refused.
        audit: the audit writer.
    """

    def __init__(self, *, erase: Callable[[str, str], bool],
                 tenant_of: Callable[[str], str | None], ids: Callable[[], IdHasher],
                 audit: Auditor) -> None:
        self._erase = erase
        self._tenant_of = tenant_of
        self._ids = ids
        self._audit = audit

    def __repr__(self) -> str:
        return "DocumentOps()"

    def tenant_of(self, doc_id: str) -> str | None:
        """The tenant whose keyring entry holds ``doc_id`` (None: unknown or erased)."""
        return self._tenant_of(doc_id)

    def delete(self, who: Who, tenant: str, doc_id: str) -> None:
        """Erase a document of ``tenant``: its data key, then its points.

        Raises:
            DocumentNotFound: ``tenant`` has no such document (audited by keyed hash).
        """
        if not self._erase(tenant, doc_id):
            self._audit.record("delete", who, "not_found",
                               doc_hash=self._ids().keyed_hash("doc-id", doc_id))
            raise DocumentNotFound
        self._audit.record("delete", who, doc_id=doc_id[:64])

    def ingested(self, who: Who, result: IngestResult) -> None:
        """Record a document the moment its new version is committed."""
        self._audit.record("ingest", who, doc_id=result.doc_id, chunks=result.chunks,
                           level=result.level, entities=result.entities,
                           flagged=result.flagged, quarantined=result.quarantined)

    def refused(self, who: Who, path: str, reason: str) -> None:
        """Record a refused file: the path may itself be sensitive, so a keyed hash only."""
        self._audit.record("ingest", who, "refused", reason=reason[:120],
                           path_hash=self._ids().keyed_hash("path", path))

    def removed(self, who: Who, doc_id: str) -> None:
        """Record a document erased by ``ingest --sync`` (its file is gone)."""
        self._audit.record("delete", who, doc_id=doc_id[:64], reason="sync")
