"""Durable, versioned policies per tenant, kept with the key provider's state.

A steward's policy change is a new **immutable version** (number,
fingerprint, author, creation time, the policy text as submitted) of its
tenant's policy. Versions live in ``policies.db``, a SQLite file beside
``keyring.db`` in the keyring folder (``RAGSEAL_KEYRING``), apart from the
vector store: a restored store backup cannot roll a tenant's policy back,
and every process that uses the same keyring (the server, the CLI, another
replica on a shared volume) sees the same versions.

Version 0 is the base policy (``RAGSEAL_POLICY`` or the bundled one) and is
never stored; a tenant's first stored version is 1. Two writers that add a
version at once each get their own number: the number is read and the row
inserted inside one ``BEGIN IMMEDIATE`` transaction, which SQLite
serialises across processes, and ``(tenant, version)`` is the primary key.

This module stores text and numbers only; parsing and the floor belong to
``ragseal.classification`` (the service layer joins them). A PostgreSQL
implementation of :class:`PolicyStore` fits the same protocol (issue 18).

Errors::

    PolicyStoreError     the policy store cannot be read or written
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from ragseal import UnavailableError

__all__ = ["PolicyStore", "PolicyStoreError", "PolicyVersion", "SqlitePolicyStore"]

# A policy is a few KiB; anything much larger is a mistake or an attack.
MAX_POLICY_BYTES = 1 << 20


class PolicyStoreError(UnavailableError):
    """The policy store cannot be used (unreadable, busy, not writable)."""


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """One stored version of a tenant's policy (immutable)."""

    tenant: str
    version: int
    fingerprint: str
    author: str
    created: float
    text: str = field(repr=False)

    def meta(self) -> dict[str, object]:
        """What ``GET /v1/policy/versions`` lists: no policy text."""
        return {"version": self.version, "fingerprint": self.fingerprint,
                "author": self.author, "created": self.created}


@runtime_checkable
class PolicyStore(Protocol):
    """Where tenant policy versions live (SQLite today; PostgreSQL later)."""

    def head(self, tenant: str) -> int:
        """The newest version number of ``tenant`` (0: none stored, the base)."""

    def get(self, tenant: str, version: int) -> PolicyVersion | None:
        """One stored version (None: no such version)."""

    def latest(self, tenant: str) -> PolicyVersion | None:
        """The newest stored version (None: the tenant uses the base)."""

    def versions(self, tenant: str) -> list[PolicyVersion]:
        """Every stored version of ``tenant``, oldest first."""

    def add(self, tenant: str, text: str, *, fingerprint: str, author: str) -> PolicyVersion:
        """Store ``text`` as the tenant's next version, atomically numbered."""

    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS policy_versions (
    tenant TEXT NOT NULL, version INTEGER NOT NULL, fingerprint TEXT NOT NULL,
    author TEXT NOT NULL, created REAL NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (tenant, version));
"""


class SqlitePolicyStore:
    """:class:`PolicyStore` in ``folder/policies.db`` (mode 0600, folder 0700)."""

    FILE = "policies.db"

    def __init__(self, folder: Path) -> None:
        self._folder = Path(folder)
        self._lock = threading.Lock()
        try:
            self._folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = self._folder / self.FILE
            if not path.exists():
                path.touch(mode=0o600)
            with contextlib.suppress(OSError):
                os.chmod(path, 0o600)
            self._db = sqlite3.connect(path, timeout=30, check_same_thread=False,
                                       isolation_level=None)
            self._db.execute("PRAGMA busy_timeout=30000")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise PolicyStoreError(
                f"policy store {self._folder / self.FILE} is not usable "
                f"({exc.__class__.__name__}); check the keyring folder's permissions"
            ) from None

    def __repr__(self) -> str:
        return f"SqlitePolicyStore(folder={str(self._folder)!r})"

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise PolicyStoreError(
                    f"policy store unreadable ({exc.__class__.__name__})") from None

    def head(self, tenant: str) -> int:
        with self._read() as db:
            row = db.execute("SELECT MAX(version) FROM policy_versions WHERE tenant = ?",
                             (tenant,)).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    @staticmethod
    def _row(row: tuple[str, int, str, str, float, str]) -> PolicyVersion:
        return PolicyVersion(row[0], int(row[1]), row[2], row[3], float(row[4]), row[5])

    _COLUMNS = "tenant, version, fingerprint, author, created, text"

    def get(self, tenant: str, version: int) -> PolicyVersion | None:
        with self._read() as db:
            row = db.execute(f"SELECT {self._COLUMNS} FROM policy_versions "  # noqa: S608
                             "WHERE tenant = ? AND version = ?", (tenant, version)).fetchone()
        return self._row(row) if row else None

    def latest(self, tenant: str) -> PolicyVersion | None:
        with self._read() as db:
            row = db.execute(f"SELECT {self._COLUMNS} FROM policy_versions "  # noqa: S608
                             "WHERE tenant = ? ORDER BY version DESC LIMIT 1",
                             (tenant,)).fetchone()
        return self._row(row) if row else None

    def versions(self, tenant: str) -> list[PolicyVersion]:
        with self._read() as db:
            rows = db.execute(f"SELECT {self._COLUMNS} FROM policy_versions "  # noqa: S608
                              "WHERE tenant = ? ORDER BY version", (tenant,)).fetchall()
        return [self._row(r) for r in rows]

    def add(self, tenant: str, text: str, *, fingerprint: str, author: str) -> PolicyVersion:
        if len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
            raise PolicyStoreError(f"a policy is at most {MAX_POLICY_BYTES} bytes")
        created = time.time()
        with self._lock:
            try:
                # IMMEDIATE takes the write lock before reading the head: a second
                # writer (thread or process) waits, then numbers after this one.
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error:
                raise PolicyStoreError("the policy store is busy or not writable; "
                                       "try again") from None
            try:
                row = self._db.execute("SELECT MAX(version) FROM policy_versions "
                                       "WHERE tenant = ?", (tenant,)).fetchone()
                version = (int(row[0]) if row and row[0] is not None else 0) + 1
                self._db.execute("INSERT INTO policy_versions VALUES (?, ?, ?, ?, ?, ?)",
                                 (tenant, version, fingerprint, author, created, text))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise PolicyStoreError(
                    f"policy version not stored ({exc.__class__.__name__}); try again") from None
        return PolicyVersion(tenant, version, fingerprint, author, created, text)

    def close(self) -> None:
        with self._lock:
            self._db.close()
