"""The HTTP routes, one router per area, each route a thin adapter.

A route parses (its pydantic body), calls one operation of the service
layer (``api/_service``), which writes the audit record, and renders the
answer; errors of the tree become the contract's error body in one handler
(``api/_errors.py``). Each route receives exactly the collaborators it
names, through one ``Annotated`` dependency each (``_deps.py``)::

    retrieval    POST /v1/retrieve, POST /v1/inspect     (built per app: limits)
    documents    DELETE /v1/documents/{doc_id}            (uploads: api/_uploads.py)
    quarantine   GET /v1/quarantine, POST /v1/quarantine/{doc_id}[/release]
    policy       GET|PUT /v1/policy, GET /v1/policy/versions, POST /v1/policy/rollback
    operations   GET /healthz, GET /metrics
"""

from fastapi import APIRouter

from .._settings import Settings
from . import documents, operations, policy, quarantine
from .retrieval import retrieval_router

__all__ = ["routers"]


def routers(settings: Settings) -> list[APIRouter]:
    """Every router of the API, in the order the app includes them."""
    return [retrieval_router(settings), documents.router, quarantine.router, policy.router,
            operations.router]
