"""Tenant policy versions in the shared control plane: :class:`PgPolicyStore`.

The same :class:`~ragseal.store.PolicyStore` as ``SqlitePolicyStore``: a
version is an immutable row ``(tenant, version)``. Two replicas adding a
version at once each get their own number: the head is read and the row
inserted in one transaction that holds a transaction-scoped advisory lock
on the tenant (the primary key would refuse a duplicate anyway).
Nothing is cached here; ``TenantPolicies`` rechecks the head every
``RAGSEAL_POLICY_RECHECK_SECONDS`` (at most 4 s), so a version stored
through one replica is in force on every replica within 5 s.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import psycopg
from psycopg.rows import TupleRow

from .._policy_store import MAX_POLICY_BYTES, PolicyStoreError, PolicyVersion
from ._db import ControlPlaneUnavailable, Database

__all__ = ["PgPolicyStore"]

_LOCK_TENANT = 0x52535001
_COLUMNS = "tenant, version, fingerprint, author, created, text"


class PgPolicyStore:
    """:class:`~ragseal.store.PolicyStore` in table ``ragseal_policy_versions``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def __repr__(self) -> str:
        return f"PgPolicyStore(database={self._db.redacted!r})"

    @contextlib.contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[TupleRow]]:
        try:
            with self._db.transaction() as conn:
                yield conn
        except ControlPlaneUnavailable:
            raise PolicyStoreError("the policy store's database is unavailable") from None

    @contextlib.contextmanager
    def _read(self) -> Iterator[psycopg.Connection[TupleRow]]:
        try:
            with self._db.statement() as conn:
                yield conn
        except ControlPlaneUnavailable:
            raise PolicyStoreError("the policy store's database is unavailable") from None

    @staticmethod
    def _row(row: TupleRow) -> PolicyVersion:
        return PolicyVersion(str(row[0]), int(row[1]), str(row[2]), str(row[3]),
                             float(row[4]), str(row[5]))

    def head(self, tenant: str) -> int:
        with self._read() as conn:
            row = conn.execute("SELECT MAX(version) FROM ragseal_policy_versions"
                               " WHERE tenant = %s", (tenant,)).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def get(self, tenant: str, version: int) -> PolicyVersion | None:
        with self._read() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM ragseal_policy_versions"  # noqa: S608
                               " WHERE tenant = %s AND version = %s",
                               (tenant, version)).fetchone()
        return self._row(row) if row else None

    def latest(self, tenant: str) -> PolicyVersion | None:
        with self._read() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM ragseal_policy_versions"  # noqa: S608
                               " WHERE tenant = %s ORDER BY version DESC LIMIT 1",
                               (tenant,)).fetchone()
        return self._row(row) if row else None

    def versions(self, tenant: str) -> list[PolicyVersion]:
        with self._read() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM ragseal_policy_versions"  # noqa: S608
                                " WHERE tenant = %s ORDER BY version", (tenant,)).fetchall()
        return [self._row(r) for r in rows]

    def add(self, tenant: str, text: str, *, fingerprint: str, author: str) -> PolicyVersion:
        if len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
            raise PolicyStoreError(f"a policy is at most {MAX_POLICY_BYTES} bytes")
        if "\x00" in text:
            raise PolicyStoreError("a policy cannot hold a NUL character")
        created = time.time()
        with self._tx() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                         (_LOCK_TENANT, tenant))
            row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM ragseal_policy_versions"
                               " WHERE tenant = %s", (tenant,)).fetchone()
            version = (int(row[0]) if row else 0) + 1
            conn.execute(f"INSERT INTO ragseal_policy_versions ({_COLUMNS})"  # noqa: S608
                         " VALUES (%s, %s, %s, %s, %s, %s)",
                         (tenant, version, fingerprint, author, created, text))
        return PolicyVersion(tenant, version, fingerprint, author, created, text)

    def close(self) -> None:
        """Nothing to close: the pool is the process's (closed at exit)."""
