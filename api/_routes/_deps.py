"""The routes' dependencies: one ``Annotated`` alias per collaborator.

A route names what it uses (``RetrievalDep``, ``DocumentsDep``, ``KeysDep``...)
and FastAPI hands it that one object from the composition root built in the
lifespan; no route receives the whole container (no service locator). Tests
swap any of them with ``app.dependency_overrides``.

Authorization is a dependency too: :func:`require_role` (with the tenant
policy's MFA requirement) behind ``Steward`` and ``IngestorRole``. Routers
never parse tokens (``api/_auth.py`` does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from ragseal.retrieval import Principal
from ragseal.store import AuditError

from .._container import Services
from .._errors import ApiError
from .._incident import GuardedPrincipal, note_denied
from .._limits import rate_limited_principal
from .._metrics import Metrics
from .._service import Auditor, DocumentOps, Operations, PolicyOps, QuarantineOps, RetrievalOps

__all__ = [
    "AuditorDep",
    "DocumentsDep",
    "GuardedPrincipal",
    "IngestorRole",
    "HealthDep",
    "MetricsDep",
    "PolicyDep",
    "PrincipalDep",
    "QuarantineDep",
    "RetrievalDep",
    "ServicesDep",
    "Steward",
    "audit",
    "denied",
    "mfa_missing",
    "require_role",
]

log = logging.getLogger(__name__)


def _root(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


# Only the routes outside this package that still take the whole root use it
# (uploads, the gateway); every route here names its collaborator.
ServicesDep = Annotated[Services, Depends(_root)]


def _ops(request: Request) -> Operations:
    ops: Operations = request.app.state.ops  # built in the lifespan (api/_app.py)
    return ops


# The collaborators are attribute reads: ``async`` so that FastAPI calls them
# on the event loop. A plain ``def`` dependency runs in the thread pool, one
# hand-off per dependency per request (docs/TRAPS.md). ``_health`` does I/O
# and stays a plain function.
async def _retrieval(request: Request) -> RetrievalOps:
    return _ops(request).retrieval


async def _documents(request: Request) -> DocumentOps:
    return _ops(request).documents


async def _quarantine(request: Request) -> QuarantineOps:
    return _ops(request).quarantine


async def _policy(request: Request) -> PolicyOps:
    return _ops(request).policy


def _health(request: Request) -> dict[str, str]:
    # The checks themselves are the collaborator: a part that cannot even be
    # built (or read) is "failed", never a 500.
    services = _root(request)
    checks: dict[str, str] = {}
    for name, check in (("keys", lambda: services.keys.check()),
                        ("store", lambda: services.store.count())):
        try:
            check()
        except Exception:  # noqa: BLE001 - any failure is a failed check
            checks[name] = "failed"
        else:
            checks[name] = "ok"
    return checks


async def _auditor(request: Request) -> Auditor:
    return _ops(request).auditor


async def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


RetrievalDep = Annotated[RetrievalOps, Depends(_retrieval)]
DocumentsDep = Annotated[DocumentOps, Depends(_documents)]
QuarantineDep = Annotated[QuarantineOps, Depends(_quarantine)]
PolicyDep = Annotated[PolicyOps, Depends(_policy)]
HealthDep = Annotated[dict[str, str], Depends(_health)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
AuditorDep = Annotated[Auditor, Depends(_auditor)]

# Authenticated, then rate limited per (tenant, sub): every principal route uses this.
PrincipalDep = Annotated[Principal, Depends(rate_limited_principal)]


def audit(svc: Services, action: str, principal: Principal | None, outcome: str = "ok",
          **fields: object) -> None:
    """Write one audit record (docs/AUDIT.md); AuditError fails the request closed (503).

    For the edge and the routes outside the service layer (uploads, the
    gateway, authorization); operations write their own records.
    """
    try:
        svc.audit.record(action, principal=principal, outcome=outcome,
                         policy=svc.policy.fingerprint, **fields)
    except AuditError:
        log.error("audit record not written; request refused", extra={"action": action})
        raise  # 503 audit_unavailable (api/_errors.py)


def _route(request: Request) -> str:
    return str(getattr(request.scope.get("route"), "path", "unmatched"))


def denied(request: Request, principal: Principal) -> None:
    """Count a refusal of ``principal`` on this route for the probing detector."""
    note_denied(request.app, principal, _route(request))


def mfa_missing(svc: Services, principal: Principal, role: str) -> bool:
    """Whether the tenant's policy requires MFA for ``role`` and the token lacks it."""
    policy = svc.policy_for(principal.tenant)  # PolicyUnavailable: 503
    return role in policy.admin.require_mfa and "mfa" not in principal.amr


def require_role(role: str) -> Callable[..., Principal]:
    """A dependency that admits only principals holding ``role``."""

    def dependency(request: Request, principal: PrincipalDep) -> Principal:
        svc = _root(request)
        if role not in principal.roles:
            denied(request, principal)
            audit(svc, "access_denied", principal, "denied",
                  required_role=role, method=request.method, route=_route(request))
            raise ApiError(403, "forbidden", f"this operation needs the {role!r} role")
        if mfa_missing(svc, principal, role):
            audit(svc, "access_denied", principal, "denied",
                  required_role=role, reason="mfa_required", method=request.method,
                  route=_route(request))
            raise ApiError(403, "mfa_required",
                           f"this tenant's policy requires multi-factor authentication "
                           f"for the {role!r} role")
        return principal

    return dependency


Steward = Annotated[Principal, Depends(require_role("steward"))]
IngestorRole = Annotated[Principal, Depends(require_role("ingestor"))]
