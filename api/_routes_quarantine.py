"""Containment routes: a steward quarantines a document at once.

``POST /v1/quarantine/{doc_id}`` (role ``steward``) holds every chunk of a
document of the caller's tenant: from the next search on nobody retrieves
it, and ``/v1/inspect`` treats its passages as unreadable for everyone.
``POST /v1/quarantine/{doc_id}/release`` (api/_app.py) undoes it. A document
of another tenant and an absent one get the same ``404 not_found``, and the
audit record names neither (a keyed hash of the id).

Built by a factory so that it uses the app's own ``audit`` and
``require_role`` without importing api/_app.py (which includes it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from ragseal.ingest import quarantine_document
from ragseal.retrieval import Principal

from ._container import Services
from ._errors import ApiError

__all__ = ["quarantine_router"]


class QuarantineAddOut(BaseModel):
    doc_id: str
    quarantined: int


def quarantine_router(*, audit: Callable[..., None],
                      require_role: Callable[[str], Callable[..., Principal]]) -> APIRouter:
    router = APIRouter(tags=["quarantine"])
    steward = require_role("steward")

    # The dependency is a default, not an Annotated alias: with postponed
    # annotations FastAPI resolves names in the module's globals only.
    @router.post("/v1/quarantine/{doc_id}", response_model=QuarantineAddOut)
    def quarantine_add(doc_id: str, request: Request,
                       principal: Principal = Depends(steward)) -> dict[str, Any]:  # noqa: B008
        """Quarantine a document of the caller's tenant now (reversible: release)."""
        svc: Services = request.app.state.services
        held = quarantine_document(svc.store, principal.tenant, doc_id)
        if held is None:
            audit(svc, "quarantine_add", principal, "not_found",
                  doc_hash=svc.ids.keyed_hash("doc-id", doc_id))
            note = getattr(request.app.state, "note_denied", None)
            if note is not None:
                note(principal, "/v1/quarantine/{doc_id}")
            raise ApiError(404, "not_found", "no such document")
        audit(svc, "quarantine_add", principal, doc_id=doc_id[:64], chunks=held)
        return {"doc_id": doc_id, "quarantined": held}

    return router
