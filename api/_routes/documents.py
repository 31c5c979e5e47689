"""``DELETE /v1/documents/{doc_id}`` (role ``ingestor``). Uploads: ``api/_uploads.py``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ragseal import NotFoundError

from ._deps import DocumentsDep, IngestorRole, denied

__all__ = ["router"]

router = APIRouter(tags=["documents"])


@router.delete("/v1/documents/{doc_id}", status_code=204)
def delete(doc_id: str, principal: IngestorRole, request: Request,
           documents: DocumentsDep) -> Response:
    """Erase a document of the caller's tenant (data key and points)."""
    try:
        documents.delete(principal, principal.tenant, doc_id)
    except NotFoundError:
        denied(request, principal)  # 404 not_found: absent and another tenant's alike
        raise
    return Response(status_code=204)
