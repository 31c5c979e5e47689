"""Quarantine: list the held documents, release one, hold one now."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ._errors import NothingQuarantined, NotInTenant

if TYPE_CHECKING:
    from ragseal.ingest import HeldDocument
    from ragseal.store import IdHasher, VectorStore

    from ._audit import Auditor, Who

__all__ = ["QuarantineOps"]


class QuarantineOps:
    """Chunks held for a steward because they look like injected instructions.

    Args:
        store: the vector store (held chunks are flagged in their payload).
        ids: keyed hashes for records of what was not found.
        audit: the audit writer.
        source_of: opens a document's source path from its seal (audited here).
    """

    def __init__(self, *, store: Callable[[], VectorStore], ids: Callable[[], IdHasher],
                 audit: Auditor, source_of: Callable[[str, str], str | None]) -> None:
        self._store = store
        self._ids = ids
        self._audit = audit
        self._source_of = source_of

    def __repr__(self) -> str:
        return "QuarantineOps()"

    def documents(self, who: Who, tenant: str | None) -> list[HeldDocument]:
        """Held documents of ``tenant`` (None: every tenant): ids, scores, signals."""
        from ragseal.ingest import list_quarantine

        docs = list_quarantine(self._store(), tenant)
        self._audit.record("quarantine_list", who, documents=len(docs))
        return docs

    def sources(self, who: Who, docs: list[HeldDocument]) -> dict[str, str | None]:
        """Each document's source path, decrypted from its seal; every path shown is audited."""
        sources = {d.doc_id: self._source_of(d.tenant, d.doc_id) for d in docs}
        self._audit.record("source_reveal", who, via="quarantine_list",
                           doc_ids=[d.doc_id[:64] for d in docs if sources.get(d.doc_id)])
        return sources

    def release(self, who: Who, tenant: str, doc_id: str) -> int:
        """Make a document's held chunks retrievable (still flagged); how many.

        Raises:
            NothingQuarantined: nothing of that document is held.
        """
        from ragseal.ingest import release_document

        released = release_document(self._store(), tenant, doc_id)
        if not released:
            self._audit.record("quarantine_release", who, "not_found",
                               doc_hash=self._ids().keyed_hash("doc-id", doc_id))
            raise NothingQuarantined
        self._audit.record("quarantine_release", who, doc_id=doc_id[:64], chunks=released)
        return released

    def add(self, who: Who, tenant: str, doc_id: str) -> int:
        """Hold every chunk of a document of ``tenant`` now; how many were newly held.

        Raises:
            NotInTenant: ``tenant`` has no such document.
        """
        from ragseal.ingest import quarantine_document

        held = quarantine_document(self._store(), tenant, doc_id)
        if held is None:
            self._audit.record("quarantine_add", who, "not_found",
                               doc_hash=self._ids().keyed_hash("doc-id", doc_id))
            raise NotInTenant
        self._audit.record("quarantine_add", who, doc_id=doc_id[:64], chunks=held)
        return held
