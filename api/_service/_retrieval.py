"""Retrieve and inspect as a principal: the limits, the call, the audit record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._errors import QueryTooLong

if TYPE_CHECKING:
    from ragseal.retrieval import InspectResult, Principal, Retrieval
    from ragseal.store import IdHasher, VectorStore

    from .._cores import CorePool
    from .._tenant_paths import TenantPaths
    from ._audit import Auditor

__all__ = ["RetrievalOps", "Retrieved"]


@dataclass(frozen=True, slots=True, repr=False)
class Retrieved:
    """A retrieval and whether the caller's tenant holds no document at all."""

    result: Retrieval
    empty_tenant: bool

    def __repr__(self) -> str:
        return f"Retrieved(chunks={len(self.result.chunks)}, empty_tenant={self.empty_tenant})"


class RetrievalOps:
    """``retrieve`` and ``inspect`` under the caller tenant's policy in force.

    Args:
        paths: the tenant's paths (PolicyUnavailable: fail closed).
        store: the vector store (for the empty-tenant notice).
        ids: keyed hashes for the audit record (query, retrieval id).
        audit: the audit writer.
        max_query_chars: ``RAGSEAL_MAX_QUERY_CHARS``.
        max_top_k: ``RAGSEAL_MAX_TOP_K`` (a larger ``top_k`` is capped).
        via: added to the records when set (``"cli"``).
        pool: the server's worker processes, read at each call (``api/_cores.py``):
            the work runs there under the same tenant's policy version; the
            limits and the audit record stay here, in the store owner.
    """

    def __init__(self, *, paths: Callable[[str], TenantPaths], store: Callable[[], VectorStore],
                 ids: Callable[[], IdHasher], audit: Auditor, max_query_chars: int,
                 max_top_k: int, via: str | None = None,
                 pool: Callable[[], CorePool | None] | None = None) -> None:
        self._paths = paths
        self._store = store
        self._ids = ids
        self._audit = audit
        self.max_query_chars = max_query_chars
        self.max_top_k = max_top_k
        self._via = {"via": via} if via else {}
        self._pool = pool or (lambda: None)

    def __repr__(self) -> str:
        return f"RetrievalOps(max_query_chars={self.max_query_chars}, max_top_k={self.max_top_k})"

    def retrieve(self, principal: Principal, query: str, top_k: int, *,
                 pseudonymize: bool = False) -> Retrieved:
        """The chunks ``principal`` may see, audited with keyed hashes only.

        Raises:
            QueryTooLong: over ``max_query_chars`` (audited as invalid).
        """
        ids = self._ids()
        query_hash = ids.keyed_hash("query", query)
        if len(query) > self.max_query_chars:
            self._audit.record("retrieve", principal, "invalid", reason="query_too_long",
                               query_hash=query_hash, **self._via)
            raise QueryTooLong(self.max_query_chars)
        paths, pool = self._paths(principal.tenant), self._pool()
        k = min(top_k, self.max_top_k)
        result = (paths.retriever.retrieve(principal, query, k, pseudonymize=pseudonymize)
                  if pool is None else
                  pool.retrieve(principal, query, k, pseudonymize=pseudonymize,
                                version=paths.version))
        self._audit.record("retrieve", principal, top_k=top_k, query_hash=query_hash,
                           returned=len(result.chunks), dropped=result.dropped,
                           chunk_ids=[c.chunk_id for c in result.chunks],
                           doc_ids=sorted({c.doc_id for c in result.chunks}),
                           retrieval_hash=ids.keyed_hash("retrieval-id", result.retrieval_id),
                           **self._via)
        from .._empty_tenant import tenant_has_documents

        empty = not result.chunks and not tenant_has_documents(self._store(), principal.tenant)
        return Retrieved(result, empty)

    def inspect(self, principal: Principal, answer: str,
                retrieval_id: str | None) -> InspectResult:
        """The verdict on an answer before it is shown to ``principal``.

        Raises:
            RetrievalIdError: the id is invalid, expired or another principal's
                (audited as denied).
        """
        from ragseal.retrieval import RetrievalIdError

        ids = self._ids()
        retrieval_hash = (ids.keyed_hash("retrieval-id", retrieval_id)
                          if retrieval_id is not None else None)
        try:
            paths, pool = self._paths(principal.tenant), self._pool()
            result = (paths.inspector.inspect(principal, answer, retrieval_id)
                      if pool is None else
                      pool.inspect(principal, answer, retrieval_id, version=paths.version))
        except RetrievalIdError:
            self._audit.record("inspect", principal, "denied", reason="invalid_retrieval_id",
                               retrieval_hash=retrieval_hash or ids.keyed_hash("retrieval-id", ""),
                               **self._via)
            raise
        self._audit.record("inspect", principal, verdict=result.verdict,
                           findings=len(result.findings),
                           finding_types=sorted({f.type for f in result.findings}),
                           reidentified=result.reidentified, known_values=result.known_values,
                           retrieval_hash=retrieval_hash, **self._via)
        return result
