"""The HTTP API (CONTRACT.md). Built by :func:`create_app` from Settings.

The lifespan builds the composition root once (store, keys, models) and a
token verifier; routes receive them through dependencies. Routers never
parse tokens: :func:`api._auth.current_principal` does, and role checks are
the reusable :func:`require_role` dependency.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator
from ragseal.ingest import list_quarantine, release_document
from ragseal.retrieval import Principal, RetrievalIdError
from ragseal.store import AuditError

from . import _cores as cores
from ._auth import TokenVerifier
from ._beside import StoreChannel, store_channel
from ._container import Services
from ._control_plane import install_control_plane
from ._edge import EdgeMiddleware
from ._errors import ApiError, install_error_handlers
from ._incident import GuardedPrincipal, note_denied, note_inspect, note_query
from ._incident import install as install_incident
from ._limits import (
    TimeoutMiddleware,
    rate_limited_principal,
)
from ._metrics import Metrics
from ._routes_policy import add_policy_routes, mfa_missing
from ._settings import Settings
from ._uploads import UploadRunner, build_upload_router

__all__ = ["create_app"]

log = logging.getLogger(__name__)

# Authenticated, then rate limited per (tenant, sub): every principal route uses this.
PrincipalDep = Annotated[Principal, Depends(rate_limited_principal)]


async def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]


def audit(svc: Services, action: str, principal: Principal | None, outcome: str = "ok",
          **fields: object) -> None:
    """Write one audit record (docs/AUDIT.md); AuditError fails the request closed (503).

    Fields are ids, counts, verdicts and codes only; the policy fingerprint
    is added here.
    """
    try:
        svc.audit.record(action, principal=principal, outcome=outcome,
                         policy=svc.policy.fingerprint, **fields)
    except AuditError:
        log.error("audit record not written; request refused", extra={"action": action})
        raise  # 503 audit_unavailable (api/_errors.py)


def _route(request: Request) -> str:
    return str(getattr(request.scope.get("route"), "path", "unmatched"))


def require_role(role: str) -> Callable[..., Principal]:
    """A dependency that admits only principals holding ``role``."""

    def dependency(request: Request, principal: PrincipalDep) -> Principal:
        if role not in principal.roles:
            note_denied(request.app, principal, _route(request))
            audit(request.app.state.services, "access_denied", principal, "denied",
                  required_role=role, method=request.method, route=_route(request))
            raise ApiError(403, "forbidden", f"this operation needs the {role!r} role")
        if mfa_missing(request.app.state.services, principal, role):
            audit(request.app.state.services, "access_denied", principal, "denied",
                  required_role=role, reason="mfa_required", method=request.method,
                  route=_route(request))
            raise ApiError(403, "mfa_required",
                           f"this tenant's policy requires multi-factor authentication "
                           f"for the {role!r} role")
        return principal

    return dependency


class RetrieveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The schema says what the validator below enforces (at least one non-space
    # character), so clients and fuzzers know a blank query is refused.
    query: str = Field(min_length=1, max_length=2000, json_schema_extra={"pattern": r"\S"})
    top_k: int = Field(default=5, ge=1, le=50)
    pseudonymize: StrictBool = Field(
        default=False,
        description="Show even the values this principal may read as keyed pseudonyms; "
                    "/v1/inspect puts them back in the answer.")

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        # Whitespace embeds to an arbitrary vector: five arbitrary chunks, not an answer.
        if not value.strip():
            raise ValueError("must not be empty or only whitespace")
        return value

    @field_validator("top_k", mode="before")
    @classmethod
    def _json_integer(cls, value: object) -> object:
        # JSON Schema's "integer" takes 7 and 7.0 but never true or "7", which
        # pydantic's lax mode would coerce (found by schemathesis).
        if isinstance(value, bool | str):
            raise ValueError("must be an integer")
        return value


class InjectionOut(BaseModel):
    flagged: bool
    score: float
    signals: list[str]


class RetrievedChunkOut(BaseModel):
    chunk_id: str
    doc_id: str
    text: str
    score: float
    level: str
    masked: list[str]
    injection: InjectionOut


class RetrieveResponse(BaseModel):
    retrieval_id: str
    chunks: list[RetrievedChunkOut]
    context: str = Field(description="The chunks fenced with a per-request random delimiter "
                                     "and their provenance, ready for a prompt (docs/INJECTION.md)")
    notice: str | None = Field(
        default=None,
        description='"tenant_has_no_documents" when no chunk came back and the caller\'s own '
                    "tenant holds no document at all (a wrong or missing tenant claim); "
                    "absent otherwise")


class HeldChunkOut(BaseModel):
    chunk_id: str
    score: float
    signals: list[str]


class HeldDocumentOut(BaseModel):
    tenant: str
    doc_id: str
    score: float
    signals: list[str]
    chunks: list[HeldChunkOut]


class QuarantineOut(BaseModel):
    documents: list[HeldDocumentOut]


class ReleaseOut(BaseModel):
    doc_id: str
    released: int


class InspectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer: str = Field(max_length=100_000)
    retrieval_id: str | None = Field(default=None, max_length=20_000)


class InspectFindingOut(BaseModel):
    type: str
    start: int
    end: int
    action: str
    reason: str


class InspectResponse(BaseModel):
    verdict: str
    answer: str
    findings: list[InspectFindingOut]


class DocumentOut(BaseModel):
    doc_id: str
    chunks: int
    level: str
    injection_flagged: int = Field(description="chunks flagged as injected instructions")
    quarantined: int = Field(description="chunks held for a steward (GET /v1/quarantine)")


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorDetail


# Every route may answer with the one error body (CONTRACT.md); documented once so
# the OpenAPI schema tells clients (and schemathesis) the truth. No 500: there is none.
_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in [
        (400, "Malformed request body"), (401, "Missing or invalid bearer token"),
        (403, "Not allowed"), (404, "Not found"),
        (413, "Request too large"), (422, "Invalid input"), (429, "Rate limited"),
        (503, "Timed out or unavailable"),
    ]
}


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host in {"localhost", "testclient"}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """Build the app. ``services`` may be injected (tests); else built from settings."""
    settings.require_jwt()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services if services is not None else Services(settings)
        # The store first, served to CLI commands beside us (docs/ARCHITECTURE.md).
        channel = (store_channel(app.state.services)
                   if isinstance(app.state.services, Services) else StoreChannel(None))
        try:
            app.state.services.warm_up()
            app.state.verifier = TokenVerifier(settings)
            app.state.uploads = UploadRunner(settings, app.state.services, app.state.metrics)
            if isinstance(app.state.services, Services):  # a real root: parse child now
                app.state.uploads.warm_up()
            yield
        finally:
            channel.close()
            if getattr(app.state, "uploads", None) is not None:
                app.state.uploads.close()
            if owned:
                app.state.services.close()

    app = FastAPI(
        title="ragseal",
        version="0.1.0",
        summary="Secure retrieval for RAG: the user's rights inside the vector search.",
        lifespan=lifespan,
        responses=_ERROR_RESPONSES,
    )
    app.state.metrics = Metrics()
    install_error_handlers(app)
    install_control_plane(app, settings)  # rate limits: memory or the shared database
    app.state.request_timeout = settings.request_timeout_seconds or None
    app.add_middleware(TimeoutMiddleware)  # inside EdgeMiddleware: its 503s are counted
    max_body = settings.max_body_bytes

    app.add_middleware(EdgeMiddleware, max_body=max_body, audit=audit)
    install_incident(app, settings, audit=audit, require_role=require_role)
    app.include_router(build_upload_router(settings))

    @app.post("/v1/retrieve", response_model=RetrieveResponse, tags=["retrieval"],
              response_model_exclude_none=True)  # "notice" only when there is one
    def retrieve(body: RetrieveRequest, principal: GuardedPrincipal,
                 svc: ServicesDep) -> dict[str, object]:
        """Retrieve context as the token's principal may see it."""
        query_hash = svc.ids.keyed_hash("query", body.query)
        note_query(app, principal, body.query)
        if len(body.query) > settings.max_query_chars:
            audit(svc, "retrieve", principal, "invalid", reason="query_too_long",
                  query_hash=query_hash)
            raise ApiError(422, "invalid_request",
                           f"query is too long: at most {settings.max_query_chars} characters")
        result = cores.retrieve(app, svc, principal, body.query,  # a worker, if any
                                min(body.top_k, settings.max_top_k),
                                pseudonymize=body.pseudonymize)
        audit(svc, "retrieve", principal, top_k=body.top_k, query_hash=query_hash,
              returned=len(result.chunks), dropped=result.dropped,
              chunk_ids=[c.chunk_id for c in result.chunks],
              doc_ids=sorted({c.doc_id for c in result.chunks}),
              retrieval_hash=svc.ids.keyed_hash("retrieval-id", result.retrieval_id))
        from ._empty_tenant import EMPTY_TENANT_NOTICE, tenant_has_documents

        empty = not result.chunks and not tenant_has_documents(svc.store, principal.tenant)
        return {"retrieval_id": result.retrieval_id,
                "chunks": [c.as_dict() for c in result.chunks],
                "context": result.context, "notice": EMPTY_TENANT_NOTICE if empty else None}

    @app.post("/v1/inspect", response_model=InspectResponse, tags=["retrieval"])
    def inspect(body: InspectRequest, principal: GuardedPrincipal,
                svc: ServicesDep) -> dict[str, object]:
        """Inspect a generated answer before it is shown."""
        try:
            result = cores.inspect(app, svc, principal, body.answer, body.retrieval_id)
        except RetrievalIdError:
            note_denied(app, principal, "/v1/inspect")
            audit(svc, "inspect", principal, "denied", reason="invalid_retrieval_id",
                  retrieval_hash=svc.ids.keyed_hash("retrieval-id", body.retrieval_id or ""))
            raise
        app.state.metrics.verdicts.labels(verdict=result.verdict).inc()
        note_inspect(app, principal, body.answer, result)
        audit(svc, "inspect", principal, verdict=result.verdict,
              findings=len(result.findings),
              finding_types=sorted({f.type for f in result.findings}),
              reidentified=result.reidentified, known_values=result.known_values,
              retrieval_hash=(svc.ids.keyed_hash("retrieval-id", body.retrieval_id)
                              if body.retrieval_id else None))
        return result.as_dict()

    @app.delete("/v1/documents/{doc_id}", status_code=204, tags=["documents"])
    def delete(
        doc_id: str,
        principal: Annotated[Principal, Depends(require_role("ingestor"))],
        svc: ServicesDep,
    ) -> Response:
        """Erase a document of the caller's tenant (data key and points)."""
        if not svc.erase(principal.tenant, doc_id):
            note_denied(app, principal, "/v1/documents/{doc_id}")
            audit(svc, "delete", principal, "not_found",
                  doc_hash=svc.ids.keyed_hash("doc-id", doc_id))
            raise ApiError(404, "not_found", "no such document")
        audit(svc, "delete", principal, doc_id=doc_id[:64])
        return Response(status_code=204)

    @app.get("/v1/quarantine", response_model=QuarantineOut, tags=["quarantine"])
    def quarantine(
        _p: Annotated[Principal, Depends(require_role("steward"))], svc: ServicesDep
    ) -> dict[str, object]:
        """Documents of the caller's tenant with quarantined chunks (ids, scores,
        signal names; never text)."""
        docs = list_quarantine(svc.store, _p.tenant)
        audit(svc, "quarantine_list", _p, documents=len(docs))
        return {"documents": [d.as_dict() for d in docs]}

    @app.post("/v1/quarantine/{doc_id}/release", response_model=ReleaseOut, tags=["quarantine"])
    def release(
        doc_id: str,
        _p: Annotated[Principal, Depends(require_role("steward"))],
        svc: ServicesDep,
    ) -> dict[str, object]:
        """Release a document's quarantined chunks: retrievable (still flagged) from now on."""
        released = release_document(svc.store, _p.tenant, doc_id)
        if not released:
            note_denied(app, _p, "/v1/quarantine/{doc_id}/release")
            audit(svc, "quarantine_release", _p, "not_found",
                  doc_hash=svc.ids.keyed_hash("doc-id", doc_id))
            raise ApiError(404, "not_found", "no quarantined chunk for that document")
        audit(svc, "quarantine_release", _p, doc_id=doc_id[:64], chunks=released)
        return {"doc_id": doc_id, "released": released}

    add_policy_routes(app, require_role, audit, _services)

    @app.get("/healthz", tags=["operations"])
    def healthz(svc: ServicesDep) -> JSONResponse:
        """200 when the store and the keys are usable."""
        checks = {"keys": "ok", "store": "ok"}
        try:
            svc.keys.check()
        except Exception:
            checks["keys"] = "failed"
        try:
            svc.store.count()
        except Exception:
            checks["store"] = "failed"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "failed", "checks": checks},
                            status_code=200 if ok else 503)

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def metrics(request: Request) -> Response:
        """Prometheus metrics (loopback clients only)."""
        client = request.client.host if request.client else None
        if not _is_loopback(client):
            raise ApiError(403, "forbidden", "metrics are served to loopback clients only")
        body, content_type = app.state.metrics.render()
        return Response(body, media_type=content_type)

    from ._gateway import include_gateway  # imports this module: bound after it loaded
    include_gateway(app, settings)
    return app
