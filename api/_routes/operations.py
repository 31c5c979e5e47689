"""``GET /healthz`` (anyone) and ``GET /metrics`` (loopback clients only)."""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from .._errors import ApiError
from ._deps import HealthDep, MetricsDep

__all__ = ["router"]

router = APIRouter(tags=["operations"])


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host in {"localhost", "testclient"}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/healthz")
def healthz(checks: HealthDep) -> JSONResponse:
    """200 when the store and the keys are usable."""
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "failed", "checks": checks},
                        status_code=200 if ok else 503)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request, registry: MetricsDep) -> Response:
    """Prometheus metrics (loopback clients only)."""
    client = request.client.host if request.client else None
    if not _is_loopback(client):
        raise ApiError(403, "forbidden", "metrics are served to loopback clients only")
    body, content_type = registry.render()
    return Response(body, media_type=content_type)
