"""``POST /v1/retrieve`` and ``POST /v1/inspect``: context out, answers checked.

Built per app by :func:`retrieval_router`: the retrieve body is bounded by the
app's ``RAGSEAL_MAX_QUERY_CHARS`` (:func:`~._models.retrieve_request`).

(No ``from __future__ import annotations``: the body model is local to the
factory, and FastAPI resolves string annotations against module globals only;
docs/TRAPS.md.)
"""

from fastapi import APIRouter, Request

from .._empty_tenant import EMPTY_TENANT_NOTICE
from .._incident import note_inspect, note_query
from .._settings import Settings
from ._deps import GuardedPrincipal, MetricsDep, RetrievalDep, denied
from ._models import (
    InspectRequest,
    InspectResponse,
    RetrieveRequest,
    RetrieveResponse,
    retrieve_request,
)

__all__ = ["retrieval_router"]


def retrieval_router(settings: Settings) -> APIRouter:
    """The retrieval routes, with the retrieve body bounded by ``settings``."""
    router = APIRouter(tags=["retrieval"])

    def retrieve(body: RetrieveRequest, principal: GuardedPrincipal, request: Request,
                 retrieval: RetrievalDep) -> dict[str, object]:
        """Retrieve context as the token's principal may see it."""
        note_query(request.app, principal, body.query)
        retrieved = retrieval.retrieve(principal, body.query, body.top_k,
                                       pseudonymize=body.pseudonymize)
        result = retrieved.result
        return {"retrieval_id": result.retrieval_id,
                "chunks": [c.as_dict() for c in result.chunks],
                "context": result.context,
                "notice": EMPTY_TENANT_NOTICE if retrieved.empty_tenant else None}

    # The body this app accepts: RetrieveRequest with the query bounded by the
    # settings (the same class when they keep the default).
    retrieve.__annotations__["body"] = retrieve_request(settings)
    router.post("/v1/retrieve", response_model=RetrieveResponse,
                response_model_exclude_none=True)(retrieve)  # "notice" only when there is one

    @router.post("/v1/inspect", response_model=InspectResponse)
    def inspect(body: InspectRequest, principal: GuardedPrincipal, request: Request,
                retrieval: RetrievalDep, metrics: MetricsDep) -> dict[str, object]:
        """Inspect a generated answer before it is shown."""
        from ragseal.retrieval import RetrievalIdError

        try:
            result = retrieval.inspect(principal, body.answer, body.retrieval_id)
        except RetrievalIdError:
            denied(request, principal)  # 422 invalid_retrieval_id (api/_errors.py)
            raise
        metrics.verdicts.labels(verdict=result.verdict).inc()
        note_inspect(request.app, principal, body.answer, result)
        return result.as_dict()

    return router
