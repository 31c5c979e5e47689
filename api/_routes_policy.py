"""Policy administration routes, per tenant (CONTRACT.md, docs/POLICY.md).

(No ``from __future__ import annotations``: FastAPI resolves the route
signatures, whose ``Annotated`` aliases are local to :func:`add_policy_routes`.)

``GET /v1/policy``, ``PUT /v1/policy``, ``GET /v1/policy/versions`` and
``POST /v1/policy/rollback``: role ``steward``, always the caller's own
tenant (the tenant comes from the verified token, never from the request).
Every change is audited with the previous and the new fingerprint, and
starts the background relabel of the tenant's chunks when the new version
changes how chunks are labelled.

Also here, because every route needs them: :func:`tenant_paths` (the
caller tenant's ingest/retrieve/inspect paths, 503 ``policy_unavailable``
when its policy cannot be read) and :func:`mfa_missing` (the policy's
``admin.require_mfa``).
"""


from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, StrictInt
from ragseal.retrieval import Principal

from ._container import Services
from ._errors import ApiError
from ._policies import (
    InForce,
    PolicyRefused,
    PolicyUnavailable,
    PolicyVersionNotFound,
    reclassify_needed,
    relabel_needed,
)
from ._policy_relabel import TenantRelabels  # noqa: TC001 - a return annotation
from ._tenant_paths import TenantPaths

__all__ = ["add_policy_routes", "mfa_missing", "tenant_paths"]

Audit = Callable[..., None]


def tenant_paths(svc: Services, principal: Principal) -> TenantPaths:
    """The caller tenant's paths under its policy in force (PolicyUnavailable: 503)."""
    return svc.for_tenant(principal.tenant)


def mfa_missing(svc: Services, principal: Principal, role: str) -> bool:
    """Whether the tenant's policy requires MFA for ``role`` and the token lacks it."""
    policy = svc.policy_for(principal.tenant)  # PolicyUnavailable: 503
    return role in policy.admin.require_mfa and "mfa" not in principal.amr


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: StrictInt


# PUT /v1/policy reads the raw body (YAML or JSON); say so in the schema.
_POLICY_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object"}},
    "application/yaml": {"schema": {"type": "string"}},
}}}


def add_policy_routes(app: FastAPI, require_role: Callable[[str], Callable[..., Principal]],
                      audit: Audit, services: Callable[..., Any]) -> None:
    """Add the policy routes to ``app``, with its role, audit and services dependencies.

    Added to the app itself, not through ``include_router``: this FastAPI
    keeps an included router as one lazy entry of ``app.routes``, which
    code and tests that walk the routes (the authorization matrix) miss.
    """
    Steward = Annotated[Principal, Depends(require_role("steward"))]  # noqa: N806
    Svc = Annotated[Services, Depends(services)]  # noqa: N806
    def relabeler(svc: Services) -> TenantRelabels:
        return svc.relabels

    def answer(svc: Services, current: InForce, **extra: object) -> dict[str, object]:
        return {**current.policy.to_json(), "version": current.version,
                "fingerprint": current.policy.fingerprint,
                "relabel": relabeler(svc).status(current.tenant).as_dict(), **extra}

    def changed(svc: Services, p: Principal, action: str,
                change: Callable[[], tuple[InForce, InForce]]) -> dict[str, object]:
        try:
            previous, new = change()
        except PolicyRefused:
            audit(svc, action, p, "invalid", reason="invalid_policy")
            raise
        except PolicyVersionNotFound:
            audit(svc, action, p, "not_found")
            raise
        except PolicyUnavailable:
            audit(svc, action, p, "failed", reason="policy_unavailable")
            raise
        audit(svc, action, p, version=new.version, previous=previous.policy.fingerprint,
              fingerprint=new.policy.fingerprint, previous_version=previous.version)
        if relabel_needed(previous.policy, new.policy):
            relabeler(svc).request(
                p.tenant, reclassify=reclassify_needed(previous.policy, new.policy))
        return answer(svc, new, previous_version=previous.version)

    @app.get("/v1/policy", tags=["policy"])
    def get_policy(p: Steward, svc: Svc) -> dict[str, object]:
        """The caller tenant's policy in force, with its ``version`` (0: the base)."""
        try:
            current = svc.policies.in_force(p.tenant)
        except PolicyUnavailable:
            audit(svc, "policy_read", p, "failed", reason="policy_unavailable")
            raise
        audit(svc, "policy_read", p, version=current.version)
        return answer(svc, current)

    @app.put("/v1/policy", tags=["policy"], openapi_extra=_POLICY_BODY)
    async def put_policy(request: Request, p: Steward, svc: Svc) -> dict[str, object]:
        """Store a new version of the caller tenant's policy (YAML or JSON body).

        Invalid: 422 with the key path, nothing stored. Levels must equal the
        base policy's. The floor is applied (GET shows it).
        """
        from starlette.concurrency import run_in_threadpool

        raw = await request.body()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            audit(svc, "policy_update", p, "invalid", reason="not_utf8")
            raise ApiError(422, "invalid_policy", "policy must be UTF-8 YAML or JSON") from None
        return await run_in_threadpool(
            changed, svc, p, "policy_update",
            lambda: svc.policies.push(p.tenant, text, author=p.sub,
                                      prepare=svc.classifier_for))

    @app.get("/v1/policy/versions", tags=["policy"])
    def versions(p: Steward, svc: Svc) -> dict[str, object]:
        """Every version of the caller tenant's policy (0: the base), no text."""
        listed = svc.policies.history(p.tenant)  # PolicyUnavailable: 503
        current = svc.policies.in_force(p.tenant).version
        audit(svc, "policy_versions", p, versions=len(listed))
        return {"versions": listed, "current": current}

    @app.post("/v1/policy/rollback", tags=["policy"])
    def rollback(body: RollbackRequest, p: Steward, svc: Svc) -> dict[str, object]:
        """Make a copy of version ``N`` the newest version of the caller tenant's policy."""
        return changed(svc, p, "policy_rollback",
                       lambda: svc.policies.rollback(p.tenant, body.version, author=p.sub,
                                                     prepare=svc.classifier_for))
