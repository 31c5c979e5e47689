"""Saying that a principal's own tenant holds no document at all.

A token minted without ``--tenant`` lands in tenant ``default`` and finds
nothing, silently (issue 20, item 4). When a retrieval returns no chunk,
``/v1/retrieve`` and ``ragseal query`` add a notice if the *caller's own*
tenant has no document whatsoever. It is not an oracle: it is computed only
for the tenant in the verified token, only when nothing was returned, and
it says nothing about levels, groups, documents or other tenants: a tenant
holding one document the caller may not read gets no notice, exactly like a
tenant holding none it may read.
"""

from __future__ import annotations

from ragseal.store import VectorStore

__all__ = ["EMPTY_TENANT_NOTICE", "tenant_has_documents"]

EMPTY_TENANT_NOTICE = "tenant_has_no_documents"


def tenant_has_documents(store: VectorStore, tenant: str) -> bool:
    """Whether any point of ``tenant`` is stored (reads at most one page)."""
    for _hit in store.scroll(tenant):
        return True
    return False
