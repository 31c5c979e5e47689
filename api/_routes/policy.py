"""Policy administration routes, per tenant (CONTRACT.md, docs/POLICY.md).

``GET /v1/policy``, ``PUT /v1/policy``, ``GET /v1/policy/versions`` and
``POST /v1/policy/rollback``: role ``steward``, always the caller's own
tenant (the tenant comes from the verified token, never from the request).
Every change is audited by the service layer with the previous and the new
fingerprint, and starts the background relabel of the tenant's chunks when
the new version changes how chunks are labelled.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from .._errors import ApiError
from .._policies import InForce
from .._service import PolicyOps
from ._deps import AuditorDep, PolicyDep, Steward
from ._models import RollbackRequest

__all__ = ["router"]

router = APIRouter(tags=["policy"])

# PUT /v1/policy reads the raw body (YAML or JSON); say so in the schema.
_POLICY_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object"}},
    "application/yaml": {"schema": {"type": "string"}},
}}}


def _answer(policy: PolicyOps, current: InForce, **extra: object) -> dict[str, object]:
    return {**current.policy.to_json(), "version": current.version,
            "fingerprint": current.policy.fingerprint,
            "relabel": policy.relabel_status(current.tenant), **extra}


def _changed(policy: PolicyOps, change: tuple[InForce, InForce]) -> dict[str, object]:
    previous, new = change
    policy.relabel_later(previous, new)
    return _answer(policy, new, previous_version=previous.version)


@router.get("/v1/policy")
def get_policy(p: Steward, policy: PolicyDep) -> dict[str, object]:
    """The caller tenant's policy in force, with its ``version`` (0: the base)."""
    return _answer(policy, policy.read(p, p.tenant))


@router.put("/v1/policy", openapi_extra=_POLICY_BODY)
async def put_policy(request: Request, p: Steward, policy: PolicyDep,
                     auditor: AuditorDep) -> dict[str, object]:
    """Store a new version of the caller tenant's policy (YAML or JSON body).

    Invalid: 422 with the key path, nothing stored. Levels must equal the
    base policy's. The floor is applied (GET shows it).
    """
    from starlette.concurrency import run_in_threadpool

    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        await run_in_threadpool(auditor.record, "policy_update", p, "invalid", reason="not_utf8")
        raise ApiError(422, "invalid_policy", "policy must be UTF-8 YAML or JSON") from None
    change = await run_in_threadpool(policy.push, p, p.tenant, text)
    return await run_in_threadpool(_changed, policy, change)


@router.get("/v1/policy/versions")
def versions(p: Steward, policy: PolicyDep) -> dict[str, object]:
    """Every version of the caller tenant's policy (0: the base), no text."""
    listed, current = policy.versions(p, p.tenant)
    return {"versions": listed, "current": current}


@router.post("/v1/policy/rollback")
def rollback(body: RollbackRequest, p: Steward, policy: PolicyDep) -> dict[str, object]:
    """Make a copy of version ``N`` the newest version of the caller tenant's policy."""
    return _changed(policy, policy.rollback(p, p.tenant, body.version))
