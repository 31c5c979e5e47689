"""The HTTP API (CONTRACT.md). Built by :func:`create_app` from Settings.

The lifespan builds the composition root once (store, keys, models) and a
token verifier; routes receive them through dependencies. Routers never
parse tokens: :func:`api._auth.current_principal` does, and role checks are
the reusable :func:`require_role` dependency.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path, PurePath
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Request, Response, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator
from ragseal.classification import PolicyError, parse_policy_text
from ragseal.ingest import IngestError, ManifestError, list_quarantine, parse_acl, release_document
from ragseal.ingest._loaders import supported_extensions
from ragseal.retrieval import Principal, RetrievalIdError
from ragseal.store import AuditError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._auth import TokenVerifier
from ._container import Services
from ._errors import ApiError, error_response, install_error_handlers
from ._limits import (
    RateLimiter,
    TimeoutMiddleware,
    rate_limited_principal,
)
from ._metrics import Metrics
from ._settings import Settings

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
    """Write one audit record (docs/AUDIT.md), failing the request closed with a 503.

    Fields are ids, counts, verdicts and codes only; the policy fingerprint
    is added here.
    """
    try:
        svc.audit.record(action, principal=principal, outcome=outcome,
                         policy=svc.policy.fingerprint, **fields)
    except AuditError:
        log.error("audit record not written; request refused", extra={"action": action})
        raise ApiError(503, "audit_unavailable",
                       "the audit trail is unavailable; the request was not served") from None


def _route(request: Request) -> str:
    return str(getattr(request.scope.get("route"), "path", "unmatched"))


class EdgeMiddleware:
    """The body-size limit, request metrics and the audit record of every 401.

    Plain ASGI: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware``)
    costs a task group and memory streams per request, about half a
    millisecond each on these machines. A 401 is audited before its
    response starts; when the audit trail cannot take the record, the
    client gets the 503 ``audit_unavailable`` instead (fail closed).
    """

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope.setdefault("state", {})  # shared with the routes' request.state
        status = 500
        replaced = False

        async def edge_send(message: Message) -> None:
            nonlocal status, replaced
            if replaced:
                return  # the original 401's body: the client has the 503
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if status == 401:
                    error = await self._audit_401(scope)
                    if error is not None:
                        replaced, status = True, error.status_code
                        await error(scope, receive, send)
                        return
            await send(message)

        try:
            length = Headers(scope=scope).get("content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_body):
                await error_response(413, "too_large", "request body too large")(
                    scope, receive, edge_send)
            else:
                await self.app(scope, receive, edge_send)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            app = scope["app"]
            app.state.metrics.observe(scope["method"], path, status,
                                      time.perf_counter() - started)

    @staticmethod
    async def _audit_401(scope: Scope) -> Response | None:
        """Audit the uniform 401 (its reason code is in request.state); the 503 if that fails."""
        reason = str(scope["state"].get("auth_failure") or "unknown")
        route = str(getattr(scope.get("route"), "path", "unmatched"))
        try:
            await run_in_threadpool(audit, scope["app"].state.services, "auth_failed",
                                    None, "denied", reason=reason[:64],
                                    method=scope["method"], route=route)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message)
        return None


def require_role(role: str) -> Callable[..., Principal]:
    """A dependency that admits only principals holding ``role``."""

    def dependency(request: Request, principal: PrincipalDep) -> Principal:
        if role not in principal.roles:
            audit(request.app.state.services, "access_denied", principal, "denied",
                  required_role=role, method=request.method, route=_route(request))
            raise ApiError(403, "forbidden", f"this operation needs the {role!r} role")
        return principal

    return dependency


class RetrieveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=2000)
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


# PUT /v1/policy reads the raw body (YAML or JSON); say so in the schema.
_POLICY_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object"}},
    "application/yaml": {"schema": {"type": "string"}},
}}}


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
        app.state.services.warm_up()
        app.state.verifier = TokenVerifier(settings)
        try:
            yield
        finally:
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
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.request_timeout = settings.request_timeout_seconds or None
    app.add_middleware(TimeoutMiddleware)  # inside EdgeMiddleware: its 503s are counted
    max_body = settings.max_body_bytes

    app.add_middleware(EdgeMiddleware, max_body=max_body)

    @app.post("/v1/retrieve", response_model=RetrieveResponse, tags=["retrieval"],
              response_model_exclude_none=True)  # "notice" only when there is one
    def retrieve(body: RetrieveRequest, principal: PrincipalDep,
                 svc: ServicesDep) -> dict[str, object]:
        """Retrieve context as the token's principal may see it."""
        query_hash = svc.ids.keyed_hash("query", body.query)
        if len(body.query) > settings.max_query_chars:
            audit(svc, "retrieve", principal, "invalid", reason="query_too_long",
                  query_hash=query_hash)
            raise ApiError(422, "invalid_request",
                           f"query is too long: at most {settings.max_query_chars} characters")
        result = svc.retriever.retrieve(principal, body.query,
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
    def inspect(body: InspectRequest, principal: PrincipalDep,
                svc: ServicesDep) -> dict[str, object]:
        """Inspect a generated answer before it is shown."""
        try:
            result = svc.inspector.inspect(principal, body.answer, body.retrieval_id)
        except RetrievalIdError:
            audit(svc, "inspect", principal, "denied", reason="invalid_retrieval_id",
                  retrieval_hash=svc.ids.keyed_hash("retrieval-id", body.retrieval_id or ""))
            raise ApiError(422, "invalid_retrieval_id",
                           "retrieval_id is invalid, expired or not yours") from None
        app.state.metrics.verdicts.labels(verdict=result.verdict).inc()
        audit(svc, "inspect", principal, verdict=result.verdict,
              findings=len(result.findings),
              finding_types=sorted({f.type for f in result.findings}),
              reidentified=result.reidentified,
              retrieval_hash=(svc.ids.keyed_hash("retrieval-id", body.retrieval_id)
                              if body.retrieval_id else None))
        return result.as_dict()

    @app.post("/v1/documents", status_code=201, response_model=DocumentOut, tags=["documents"])
    def upload(
        principal: Annotated[Principal, Depends(require_role("ingestor"))],
        svc: ServicesDep,
        file: Annotated[UploadFile, File(description="The document")],
        acl: Annotated[str | None, Form(description="JSON: groups, users, level")] = None,
    ) -> dict[str, object]:
        """Ingest one document into the caller's tenant."""
        name = PurePath(file.filename or "").name
        suffix = PurePath(name).suffix.lower()
        if suffix not in supported_extensions():
            audit(svc, "ingest", principal, "refused", reason="unsupported_type")
            raise ApiError(422, "unsupported_type", "unsupported document type")
        try:
            acl_data = json.loads(acl) if acl else {"users": [principal.sub]}
            resolved = parse_acl(acl_data, tenant=principal.tenant).resolve(name)
        except (ValueError, ManifestError):
            audit(svc, "ingest", principal, "refused", reason="invalid_acl")
            raise ApiError(422, "invalid_acl", "acl must be JSON with groups, users, level")\
                from None
        if resolved is None or resolved.tenant != principal.tenant:
            audit(svc, "ingest", principal, "refused", reason="invalid_acl")
            raise ApiError(422, "invalid_acl", "acl must name at least one group or user")
        with tempfile.TemporaryDirectory(prefix="ragseal-upload-") as tmp:
            path = Path(tmp) / f"upload{suffix}"
            size = 0
            with path.open("wb") as out:
                while chunk := file.file.read(1 << 20):
                    size += len(chunk)
                    if size > max_body:
                        audit(svc, "ingest", principal, "refused", reason="too_large")
                        raise ApiError(413, "too_large", "document too large")
                    out.write(chunk)
            try:
                result = svc.ingestor.ingest_file(path, source=name, acl=resolved)
            except IngestError as exc:
                audit(svc, "ingest", principal, "refused", reason="document_refused")
                raise ApiError(422, "document_refused", exc.reason) from None
        audit(svc, "ingest", principal, doc_id=result.doc_id, chunks=result.chunks,
              level=result.level, entities=result.entities, flagged=result.flagged,
              quarantined=result.quarantined)
        app.state.metrics.ingested(result.chunks)
        return {"doc_id": result.doc_id, "chunks": result.chunks, "level": result.level,
                "injection_flagged": result.flagged, "quarantined": result.quarantined}

    @app.delete("/v1/documents/{doc_id}", status_code=204, tags=["documents"])
    def delete(
        doc_id: str,
        principal: Annotated[Principal, Depends(require_role("ingestor"))],
        svc: ServicesDep,
    ) -> Response:
        """Erase a document of the caller's tenant (data key and points)."""
        if not svc.erase(principal.tenant, doc_id):
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
            audit(svc, "quarantine_release", _p, "not_found",
                  doc_hash=svc.ids.keyed_hash("doc-id", doc_id))
            raise ApiError(404, "not_found", "no quarantined chunk for that document")
        audit(svc, "quarantine_release", _p, doc_id=doc_id[:64], chunks=released)
        return {"doc_id": doc_id, "released": released}

    @app.get("/v1/policy", tags=["policy"])
    def get_policy(
        _p: Annotated[Principal, Depends(require_role("steward"))], svc: ServicesDep
    ) -> dict[str, object]:
        """The policy in force."""
        audit(svc, "policy_read", _p)
        return svc.policy.to_json()

    @app.put("/v1/policy", tags=["policy"], openapi_extra=_POLICY_BODY)
    async def put_policy(
        request: Request,
        _p: Annotated[Principal, Depends(require_role("steward"))],
        svc: ServicesDep,
    ) -> dict[str, object]:
        """Replace the policy (YAML or JSON body). Invalid: 422, old policy kept."""
        raw = await request.body()
        previous = svc.policy.fingerprint
        try:
            text = raw.decode("utf-8")
            new = parse_policy_text(text)
        except UnicodeDecodeError:
            audit(svc, "policy_update", _p, "invalid", reason="not_utf8")
            raise ApiError(422, "invalid_policy", "policy must be UTF-8 YAML or JSON") from None
        except PolicyError as exc:
            audit(svc, "policy_update", _p, "invalid", reason="invalid_policy")
            raise ApiError(422, "invalid_policy", str(exc)) from None
        try:
            svc.set_policy(new)
        except Exception as exc:  # a policy that cannot build detectors is refused
            log.warning("policy rejected at build", extra={"error": exc.__class__.__name__})
            audit(svc, "policy_update", _p, "invalid", reason="build_failed")
            raise ApiError(422, "invalid_policy", "policy could not be applied") from None
        audit(svc, "policy_update", _p, previous=previous)
        return new.to_json()

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

    return app
