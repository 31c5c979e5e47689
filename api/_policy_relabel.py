"""Stored chunks follow the policy: relabel a tenant after a version change.

When a new version of a tenant's policy changes levels, gates or markers
(:func:`ragseal.api._policies.relabel_needed`), the chunks of that tenant
stored under the previous version may carry a level the new one would not
give them. The server relabels them in the background (one worker thread
per tenant; a change arriving while a run is going marks the tenant dirty
and the worker runs again under the newest version), and reports what is
still pending in ``PUT``/``GET /v1/policy``. ``ragseal policy push`` runs
the same relabel synchronously. The relabel itself is
:func:`ragseal.ingest.relabel`: re-seal, same plaintext, nothing re-embedded.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ragseal.ingest import RelabelReport, relabel

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ragseal.classification import Policy
    from ragseal.ingest import Reclassify
    from ragseal.store import Span

    from ._container import Services

__all__ = ["RelabelStatus", "TenantRelabels", "relabel_tenant"]

log = logging.getLogger(__name__)


@dataclass
class RelabelStatus:
    """Where a tenant's relabel stands (ids and counts only)."""

    running: bool = False
    version: int | None = None
    pending: int = 0
    relabeled: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"running": self.running, "version": self.version, "pending": self.pending,
                "relabeled": self.relabeled, "errors": self.errors}


def reclassifier(services: Services, policy: Policy) -> Reclassify:
    """Classify chunk texts under ``policy``: spans as sealed (scores to 4 places)."""
    classifier = services.classifier_for(policy)

    def spans(texts: Sequence[str]) -> list[tuple[Span, ...]]:
        return [tuple((f.entity, f.start, f.end, round(f.score, 4)) for f in c.findings)
                for c in classifier.classify_many(texts)]

    return spans


def relabel_tenant(services: Services, tenant: str, status: RelabelStatus | None = None,
                   *, reclassify: bool = False, dry_run: bool = False,
                   on_total: Callable[[int], None] | None = None,
                   on_chunks: Callable[[int], None] | None = None) -> RelabelReport:
    """Relabel ``tenant``'s chunks under its policy in force; count progress in ``status``.

    ``reclassify``: classify the chunks again first (the new version detects
    what the previous one did not, e.g. an entity type restored).
    """
    current = services.policies.in_force(tenant)
    seen = [0, 0]

    def total(n: int) -> None:
        seen[0] = n
        if status is not None:
            status.pending = n
        if on_total is not None:
            on_total(n)

    def scanned(n: int) -> None:
        seen[1] += n
        if status is not None:
            status.pending = max(seen[0] - seen[1], 0)
        if on_chunks is not None:
            on_chunks(n)

    report = relabel(policy=current.policy, store=services.store, keys=services.keys,
                     ids=services.ids, tenants=[tenant], on_total=total, on_chunks=scanned,
                     dry_run=dry_run, policy_version=None if dry_run else current.version,
                     reclassify=reclassifier(services, current.policy) if reclassify else None)
    if status is not None:
        status.version = current.version
        status.relabeled += report.relabeled
        status.errors += len(report.errors)
    return report


class TenantRelabels:
    """Background relabel workers, one per tenant at most."""

    def __init__(self, services: Services) -> None:
        self._svc = services
        self._lock = threading.Lock()
        self._status: dict[str, RelabelStatus] = {}
        self._dirty: set[str] = set()
        self._reclassify: set[str] = set()

    def status(self, tenant: str) -> RelabelStatus:
        with self._lock:
            return self._status.get(tenant) or RelabelStatus()

    def request(self, tenant: str, *, reclassify: bool = False) -> RelabelStatus:
        """Relabel ``tenant`` in the background (again, if a run is going)."""
        with self._lock:
            status = self._status.setdefault(tenant, RelabelStatus())
            self._dirty.add(tenant)
            if reclassify:
                self._reclassify.add(tenant)
            if status.running:
                return status
            status.running = True
        threading.Thread(target=self._work, args=(tenant, status), daemon=True,
                         name=f"relabel-{tenant[:32]}").start()
        return status

    def _work(self, tenant: str, status: RelabelStatus) -> None:
        while True:
            with self._lock:
                if tenant not in self._dirty:
                    status.running = False
                    status.pending = 0
                    return
                self._dirty.discard(tenant)
                again = tenant in self._reclassify
                self._reclassify.discard(tenant)
            try:
                report = relabel_tenant(self._svc, tenant, status, reclassify=again)
                log.info("tenant relabelled after a policy change",
                         extra={"tenant": tenant, "version": status.version,
                                "relabeled": report.relabeled, "count": len(report.errors)})
            except Exception as exc:  # noqa: BLE001 - a worker must not die silently
                status.errors += 1
                log.error("tenant relabel failed",
                          extra={"tenant": tenant, "error": exc.__class__.__name__})
