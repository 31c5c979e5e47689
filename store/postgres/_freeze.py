"""Tenant freezes in the shared control plane: :class:`PgTenantFreezes`.

The same interface as :class:`~ragseal.store._freeze.TenantFreezes` (history
rows; a tenant is frozen iff its newest row says so), in table
``ragseal_freezes``. Readers cache the frozen set for
:data:`~ragseal.store._freeze.REFRESH_SECONDS` (2 s), so a freeze made
through any replica or the CLI applies everywhere within that time; a
database that cannot be read fails closed: every tenant reads as frozen.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .._freeze import REFRESH_SECONDS, FreezeEvent
from ._db import ControlPlaneUnavailable, Database

__all__ = ["PgTenantFreezes"]

log = logging.getLogger(__name__)

_LOCK_TENANT = 0x52534601
_ALL = object()


class PgTenantFreezes:
    """The frozen tenants of the control plane (a drop-in for ``TenantFreezes``)."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._db = db
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: frozenset[str] | object = _ALL
        self._read_at = -float("inf")

    def __repr__(self) -> str:
        return f"PgTenantFreezes(database={self._db.redacted!r})"

    def set(self, tenant: str, frozen: bool, *, actor: str, reason: str = "") -> bool:
        """Freeze or thaw ``tenant``; False when it already was in that state."""
        with self._db.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                         (_LOCK_TENANT, tenant))
            row = conn.execute("SELECT frozen FROM ragseal_freezes WHERE tenant = %s"
                               " ORDER BY seq DESC LIMIT 1", (tenant,)).fetchone()
            changed = bool(row[0]) != frozen if row is not None else frozen
            if changed:
                conn.execute("INSERT INTO ragseal_freezes (tenant, frozen, actor, reason, at)"
                             " VALUES (%s, %s, %s, %s, %s)",
                             (tenant, frozen, actor, reason[:64], time.time()))
        with self._lock:
            self._read_at = -float("inf")  # this process sees its own change at once
        log.info("tenant freeze changed", extra={"tenant": tenant, "frozen": frozen,
                                                 "changed": changed})
        return changed

    def frozen(self) -> frozenset[str]:
        """The frozen tenants, read from the database (no cache)."""
        with self._db.statement() as conn:
            rows = conn.execute(
                "SELECT DISTINCT ON (tenant) tenant, frozen FROM ragseal_freezes"
                " ORDER BY tenant, seq DESC").fetchall()
        return frozenset(str(t) for t, f in rows if f)

    def history(self, tenant: str | None = None) -> list[FreezeEvent]:
        with self._db.statement() as conn:
            rows = conn.execute(
                "SELECT tenant, frozen, actor, reason, at FROM ragseal_freezes"
                " WHERE %s::text IS NULL OR tenant = %s ORDER BY seq",
                (tenant, tenant)).fetchall()
        return [FreezeEvent(str(t), bool(f), str(a), str(r), float(at))
                for t, f, a, r, at in rows]

    def is_frozen(self, tenant: str) -> bool:
        """Whether ``tenant`` is frozen, from a cache at most ``REFRESH_SECONDS``
        old; an unreachable database reads as every tenant frozen."""
        now = self._clock()
        with self._lock:
            stale = now - self._read_at >= REFRESH_SECONDS
        if stale:
            try:
                cache: frozenset[str] | object = self.frozen()
            except ControlPlaneUnavailable:
                log.error("tenant freezes unreadable; every tenant reads as frozen")
                cache = _ALL
            with self._lock:
                self._cache, self._read_at = cache, now
        with self._lock:
            cache = self._cache
        return cache is _ALL or tenant in cache  # type: ignore[operator]

    def close(self) -> None:
        """Nothing to close: the pool is the process's (closed at exit)."""
