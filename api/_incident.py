"""Noticing and containing an attack while it happens (issue 14, items 12-13).

:func:`install` (one line in ``create_app``) wires into the app:

- the **probing guard** (api/_probing.py): ``app.state.probe`` scores every
  principal's inspect verdicts, near-identical answers and queries and
  denials; the routes feed it through :func:`note_inspect`,
  :func:`note_query` and :func:`note_denied`; an alert writes the audit
  record ``probing_suspected`` and counts ``ragseal_probing_alerts_total``;
- **tenant freezes** (store/_freeze.py): ``app.state.freezes``, read with a
  cache of at most 2 s, so ``ragseal tenant freeze T`` reaches a running
  server within the contract's 5 seconds (the steward's quarantine routes
  are in api/_routes/quarantine.py).

:data:`GuardedPrincipal` is the dependency of ``/v1/retrieve`` and
``/v1/inspect``: authenticated and rate limited (api/_limits.py), then
``503 tenant_frozen`` for a frozen tenant and ``429 rate_limited`` (with a
growing ``Retry-After``) for a throttled prober. Stewards' and ingestors'
routes are not frozen: containment needs them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from prometheus_client import Counter
from ragseal.retrieval import InspectResult, Principal
from ragseal.store import AuditError, TenantFreezes

from ._control_plane import open_freezes, probe_counters
from ._errors import ApiError
from ._limits import rate_limited_principal
from ._probing import Alert, ProbeGuard
from ._settings import Settings

__all__ = ["GuardedPrincipal", "install", "note_denied", "note_inspect", "note_query"]

log = logging.getLogger(__name__)


def install(app: FastAPI, settings: Settings, *, audit: Callable[..., None]) -> None:
    """Add the probing guard and the freeze check to ``app``."""
    metrics = app.state.metrics
    alerts = Counter("ragseal_probing_alerts_total",
                     "Principals throttled because their calls looked like guessing",
                     ["route"], registry=metrics.registry)
    throttled = Counter("ragseal_probing_throttled_total",
                        "Requests refused because their principal is throttled for probing",
                        registry=metrics.registry)
    frozen_refused = Counter("ragseal_tenant_frozen_refused_total",
                             "Retrievals and inspections refused because the tenant is frozen",
                             registry=metrics.registry)

    def on_alert(principal: Principal, alert: Alert) -> None:
        alerts.labels(route=alert.strike_route).inc()
        log.warning("probing suspected; principal throttled",
                    extra={"tenant": principal.tenant, "penalty_s": alert.penalty_seconds})
        try:
            audit(app.state.services, "probing_suspected", principal, "throttled",
                  score=alert.score, signals=alert.signals,
                  penalty_seconds=round(alert.penalty_seconds, 1), route=alert.strike_route)
        except AuditError:
            pass  # the throttle holds even when the audit trail is down

    def keyed(text: str) -> str:
        return str(app.state.services.ids.keyed_hash("probe", text))

    counters, clock = probe_counters(settings)  # memory, or the shared database
    app.state.probe = ProbeGuard(
        threshold=settings.probe_threshold,
        half_life=settings.probe_half_life_seconds,
        penalty=settings.probe_penalty_seconds,
        max_penalty=settings.probe_max_penalty_seconds,
        forgive=settings.probe_forgive_seconds,
        keyed_hash=keyed,
        on_alert=on_alert,
        counters=counters,
        clock=clock,
    )
    app.state.freezes = open_freezes(settings)
    app.state.incident_counters = (throttled, frozen_refused)
    app.state.note_denied = lambda principal, route: note_denied(app, principal, route)


def _guard(app: FastAPI, principal: Principal) -> None:
    throttled, frozen_refused = app.state.incident_counters
    freezes: TenantFreezes = app.state.freezes
    if freezes.is_frozen(principal.tenant):
        frozen_refused.inc()
        raise ApiError(503, "tenant_frozen",
                       "retrieval is suspended for this tenant by an operator",
                       headers={"Retry-After": "60"})
    probe: ProbeGuard = app.state.probe
    wait = probe.retry_after(principal)
    if wait is not None:
        throttled.inc()
        raise ApiError(429, "rate_limited", "too many requests; retry later",
                       headers={"Retry-After": str(wait)})


async def guarded_principal(
    request: Request, principal: Annotated[Principal, Depends(rate_limited_principal)]
) -> Principal:
    """The principal of ``/v1/retrieve`` and ``/v1/inspect``: authenticated,
    rate limited, its tenant not frozen, itself not throttled for probing."""
    if hasattr(request.app.state, "probe"):
        _guard(request.app, principal)
    return principal


GuardedPrincipal = Annotated[Principal, Depends(guarded_principal)]


def note_inspect(app: FastAPI, principal: Principal, answer: str, result: InspectResult) -> None:
    """Feed one inspection to the probing guard (no text is kept)."""
    probe: ProbeGuard | None = getattr(app.state, "probe", None)
    if probe is None:
        return
    signals: list[str] = []
    if result.verdict == "block":
        signals.append("blocked")
    elif result.verdict == "redact":
        signals.append("redacted")
    if result.known_values:
        signals.append("known_value")
    probe.observe(principal, "/v1/inspect", signals=tuple(signals), text=("answer", answer))


def note_query(app: FastAPI, principal: Principal, query: str) -> None:
    probe: ProbeGuard | None = getattr(app.state, "probe", None)
    if probe is not None:
        probe.observe(principal, "/v1/retrieve", text=("query", query))


def note_denied(app: FastAPI, principal: Principal, route: str) -> None:
    probe: ProbeGuard | None = getattr(app.state, "probe", None)
    if probe is not None:
        probe.observe(principal, route, signals=("denied",))
