"""Which control plane a process uses: the embedded files, or PostgreSQL.

``RAGSEAL_DATABASE_URL`` unset: keys, policy versions and freezes live in
the keyring folder (SQLite), the audit chains in ``data_dir/audit``, rate
limits and probing counters in memory, exactly as before. Set: every part
comes from ``ragseal.store.postgres`` on that database, so any number of replicas
share them (docs/CONTROL-PLANE.md). The composition root and the CLI call
the ``open_*`` functions here and nothing else decides.

A database that cannot be reached fails closed: start-up stops with one line
(exit 2), and a request answers 503 (``keys_unavailable``,
``policy_unavailable``, ``audit_unavailable``, ``tenant_frozen`` or
``control_plane_unavailable`` for rate limits and probing counters).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from ragseal.store import AuditLog, AuditReport, LocalKeyring, PolicyStore, TenantFreezes

from ._errors import error_response
from ._limits import RateLimiter
from ._probing import MemoryProbeCounters, ProbeCounters
from ._settings import ConfigError, Settings

if TYPE_CHECKING:
    from ragseal.store.postgres import (
        Database,
        PgAuditLog,
        PgKeyring,
        PgRateLimiter,
        PgTenantFreezes,
    )

__all__ = [
    "install_control_plane",
    "open_audit",
    "open_freezes",
    "open_keyring",
    "open_policy_store",
    "open_rate_limiter",
    "probe_counters",
    "read_trail",
    "uses_database",
    "verify_trail",
]

log = logging.getLogger(__name__)



def uses_database(settings: Settings) -> bool:
    return settings.database_url is not None


def control_plane(settings: Settings) -> Database:
    """The process's pool on ``RAGSEAL_DATABASE_URL`` (schema migrated on first use).

    Raises:
        ConfigError: the URL is unset, or the driver is not installed.
        ControlPlaneUnavailable: the database cannot be reached.
    """
    if settings.database_url is None:
        raise ConfigError("RAGSEAL_DATABASE_URL is not set")
    try:
        from ragseal.store.postgres import database
    except ImportError:
        raise ConfigError("RAGSEAL_DATABASE_URL needs the PostgreSQL driver: "
                          "pip install 'ragseal[postgres]'") from None
    return database(settings.database_url.get_secret_value())


def _keyring_error(exc: Exception) -> Exception:
    from ragseal.store import KeyringError

    return KeyringError(str(exc))


def open_keyring(settings: Settings) -> LocalKeyring | PgKeyring:
    """The key provider: ``LocalKeyring`` in the keyring folder, or ``PgKeyring``.

    The master key stays out of the database either way.
    """
    if not uses_database(settings):
        return LocalKeyring(settings.keyring_dir, settings.master_key_bytes())
    from ragseal.store.postgres import ControlPlaneUnavailable, PgKeyring

    try:
        return PgKeyring(control_plane(settings), settings.keyring_dir,
                         settings.master_key_bytes())
    except ControlPlaneUnavailable as exc:
        raise _keyring_error(exc) from None


def open_policy_store(settings: Settings) -> PolicyStore:
    """Tenant policy versions: ``policies.db`` beside the keyring, or the database."""
    if not uses_database(settings):
        from ragseal.store import SqlitePolicyStore

        return SqlitePolicyStore(settings.keyring_dir)
    from ragseal.store import PolicyStoreError
    from ragseal.store.postgres import ControlPlaneUnavailable, PgPolicyStore

    try:
        return PgPolicyStore(control_plane(settings))
    except ControlPlaneUnavailable as exc:
        raise PolicyStoreError(str(exc)) from None


def open_freezes(settings: Settings) -> TenantFreezes | PgTenantFreezes:
    """Tenant freezes: ``freezes.db`` beside the keyring, or the database."""
    if not uses_database(settings):
        return TenantFreezes(settings.keyring_dir)
    from ragseal.store.postgres import PgTenantFreezes

    return PgTenantFreezes(control_plane(settings))


def open_audit(settings: Settings, seal_key: bytes) -> AuditLog | PgAuditLog:
    """This process's audit chain: a file in ``data_dir/audit``, or rows in the database."""
    if not uses_database(settings):
        return AuditLog(settings.data_dir / "audit", seal_key)
    from ragseal.store import AuditError
    from ragseal.store.postgres import ControlPlaneUnavailable, PgAuditLog

    try:
        return PgAuditLog(control_plane(settings), seal_key)
    except ControlPlaneUnavailable as exc:
        raise AuditError(f"audit: {exc}") from None


def verify_trail(settings: Settings, seal_key: bytes) -> AuditReport:
    """``ragseal audit verify``: every chain of the folder, or of the database."""
    if not uses_database(settings):
        from ragseal.store import verify_audit

        return verify_audit(settings.data_dir / "audit", seal_key)
    from ragseal.store.postgres import verify_pg_audit

    return verify_pg_audit(control_plane(settings), seal_key)


def read_trail(settings: Settings, since: datetime | None) -> list[dict[str, object]]:
    """``ragseal audit export``: every record of the folder, or of the database."""
    if not uses_database(settings):
        from ragseal.store import read_audit

        return read_audit(settings.data_dir / "audit", since)
    from ragseal.store.postgres import read_pg_audit

    return read_pg_audit(control_plane(settings), since)


def open_rate_limiter(settings: Settings) -> RateLimiter | PgRateLimiter:
    """Buckets in memory (per replica), or in the database (all replicas together)."""
    if not uses_database(settings) or settings.rate_limit_per_minute == 0:
        return RateLimiter(settings.rate_limit_per_minute)
    from ragseal.store.postgres import PgRateLimiter

    return PgRateLimiter(control_plane(settings), settings.rate_limit_per_minute)


def probe_counters(settings: Settings) -> tuple[ProbeCounters, Callable[[], float]]:
    """Probing counters and the clock they are read with: memory and a monotonic
    clock, or the database and wall-clock time (compared across hosts)."""
    if not uses_database(settings) or settings.probe_threshold == 0:
        return MemoryProbeCounters(), time.monotonic
    from ragseal.store.postgres import PgProbeCounters

    return PgProbeCounters(control_plane(settings)), time.time


async def _on_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.error("control plane unavailable; request refused",
              extra={"error_type": type(exc).__name__})
    return error_response(503, "control_plane_unavailable",
                          "the shared control plane is unavailable; the request was not served",
                          headers={"Retry-After": "5"})


def install_control_plane(app: FastAPI, settings: Settings) -> None:
    """The app's rate limiter, and 503 for a database that went away mid-request."""
    app.state.rate_limiter = open_rate_limiter(settings)
    if uses_database(settings):
        from ragseal.store.postgres import ControlPlaneUnavailable

        app.add_exception_handler(ControlPlaneUnavailable, _on_unavailable)
