"""Tenant freezes: an operator stops a tenant's retrievals during an incident.

The state is one small SQLite database, ``freezes.db``, in the key
provider's folder (0600, beside ``keyring.db``): durable, shared by every
process that uses the same keyring (the server and the CLI), and apart from
the vector store, so restoring a store backup cannot thaw a tenant. Each
freeze and thaw is a row of its history (who, when, why as a short code);
the tenant is frozen iff its newest row says so.

Readers cache the set of frozen tenants for :data:`REFRESH_SECONDS`, so a
server notices a change made by ``ragseal tenant freeze`` within that time
(the contract's 5 seconds for what the CLI writes beside a running server).
A database that cannot be read fails closed: every tenant reads as frozen.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["REFRESH_SECONDS", "FreezeEvent", "TenantFreezes"]

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS freezes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    frozen INTEGER NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS freezes_tenant ON freezes (tenant, seq);
"""
_ALL = object()


@dataclass(frozen=True)
class FreezeEvent:
    tenant: str
    frozen: bool
    actor: str
    reason: str
    at: float

    def as_dict(self) -> dict[str, object]:
        return {"tenant": self.tenant, "frozen": self.frozen, "actor": self.actor,
                "reason": self.reason, "at": self.at}


class TenantFreezes:
    """The frozen tenants of one keyring folder.

    Args:
        folder: the key provider's folder (``Settings.keyring_dir``).
        clock: monotonic seconds (tests pass a fake one for the cache).
    """

    def __init__(self, folder: Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._path = Path(folder) / "freezes.db"
        self._clock = clock
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._cache: frozenset[str] | object = _ALL
        self._read_at = -float("inf")

    def __repr__(self) -> str:
        return f"TenantFreezes(path={str(self._path)!r})"

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
            db = sqlite3.connect(self._path, timeout=10, check_same_thread=False,
                                 isolation_level=None)
            db.execute("PRAGMA busy_timeout=10000")
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    def set(self, tenant: str, frozen: bool, *, actor: str, reason: str = "") -> bool:
        """Freeze or thaw ``tenant``; False when it already was in that state."""
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT frozen FROM freezes WHERE tenant = ? "
                                 "ORDER BY seq DESC LIMIT 1", (tenant,)).fetchone()
                changed = bool(row[0]) != frozen if row is not None else frozen
                if changed:
                    db.execute("INSERT INTO freezes (tenant, frozen, actor, reason, at) "
                               "VALUES (?, ?, ?, ?, ?)",
                               (tenant, int(frozen), actor, reason[:64], time.time()))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._read_at = -float("inf")  # this process sees its own change at once
        log.info("tenant freeze changed", extra={"tenant": tenant, "frozen": frozen,
                                                 "changed": changed})
        return changed

    def frozen(self) -> frozenset[str]:
        """The frozen tenants, read from disk (no cache)."""
        with self._lock:
            rows = self._conn().execute(
                "SELECT tenant, frozen FROM freezes f WHERE seq = "
                "(SELECT MAX(seq) FROM freezes g WHERE g.tenant = f.tenant)").fetchall()
        return frozenset(t for t, f in rows if f)

    def history(self, tenant: str | None = None) -> list[FreezeEvent]:
        with self._lock:
            rows = self._conn().execute(
                "SELECT tenant, frozen, actor, reason, at FROM freezes "
                "WHERE ? IS NULL OR tenant = ? ORDER BY seq", (tenant, tenant)).fetchall()
        return [FreezeEvent(t, bool(f), a, r, at) for t, f, a, r, at in rows]

    def is_frozen(self, tenant: str) -> bool:
        """Whether ``tenant`` is frozen, from a cache at most
        :data:`REFRESH_SECONDS` old; an unreadable database reads as frozen."""
        now = self._clock()
        if now - self._read_at >= REFRESH_SECONDS:
            try:
                self._cache = self.frozen()
            except (sqlite3.Error, OSError):
                log.error("tenant freezes unreadable; every tenant reads as frozen")
                self._cache = _ALL
            self._read_at = now
        cache = self._cache
        return cache is _ALL or tenant in cache  # type: ignore[operator]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None
