"""Quarantine routes (role ``steward``, always the caller's own tenant).

``GET /v1/quarantine`` lists the held documents (ids, scores, signal names;
never text); ``POST /v1/quarantine/{doc_id}`` holds every chunk of a document
at once (from the next search on nobody retrieves it, and ``/v1/inspect``
treats its passages as unreadable for everyone); ``POST
/v1/quarantine/{doc_id}/release`` makes them retrievable again (still
flagged). A document of another tenant and an absent one get the same
``404 not_found``, and the audit record names neither (a keyed hash).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from ragseal import NotFoundError

from ._deps import QuarantineDep, Steward, denied
from ._models import QuarantineAddOut, QuarantineOut, ReleaseOut

__all__ = ["router"]

router = APIRouter(tags=["quarantine"])


@router.get("/v1/quarantine", response_model=QuarantineOut)
def quarantine(_p: Steward, held: QuarantineDep) -> dict[str, object]:
    """Documents of the caller's tenant with quarantined chunks (ids, scores,
    signal names; never text)."""
    return {"documents": [d.as_dict() for d in held.documents(_p, _p.tenant)]}


@router.post("/v1/quarantine/{doc_id}/release", response_model=ReleaseOut)
def release(doc_id: str, _p: Steward, request: Request,
            held: QuarantineDep) -> dict[str, object]:
    """Release a document's quarantined chunks: retrievable (still flagged) from now on."""
    try:
        released = held.release(_p, _p.tenant, doc_id)
    except NotFoundError:
        denied(request, _p)
        raise
    return {"doc_id": doc_id, "released": released}


@router.post("/v1/quarantine/{doc_id}", response_model=QuarantineAddOut)
def quarantine_add(doc_id: str, principal: Steward, request: Request,
                   held: QuarantineDep) -> dict[str, object]:
    """Quarantine a document of the caller's tenant now (reversible: release)."""
    try:
        count = held.add(principal, principal.tenant, doc_id)
    except NotFoundError:
        denied(request, principal)
        raise
    return {"doc_id": doc_id, "quarantined": count}
