"""The key provider in the shared control plane: :class:`PgKeyring`.

The same hierarchy and the same wrapped blobs as :class:`~ragseal.store.LocalKeyring`
(``store/_keyring.py``), in PostgreSQL tables that every replica reads: the
master key stays where it is today (``RAGSEAL_MASTER_KEY``, or ``master.key``
in the keyring folder) and never reaches the database; the database holds
only KEKs wrapped by it and data keys and secrets wrapped by the KEKs.

Nothing but the unwrapped KEKs is cached (a KEK version never changes; a
retired one wraps nothing), so a data key destroyed or switched by one
replica is gone for every other at its next request.

Races between replicas are settled by the database:

- every change of one document's keys (create, switch, count, destroy) takes
  a transaction-scoped advisory lock on ``(tenant, doc_id)``, so the version
  switch of a re-ingest and an erasure are each one serialised transaction;
- installation secrets and the first KEK are ``INSERT ... ON CONFLICT DO
  NOTHING`` then read back: two replicas starting at once agree on one value;
- rotation adds a KEK under a global advisory lock and re-wraps in batches
  of rows locked ``FOR UPDATE``; it is resumable exactly like the local one.

Errors are the key provider's own (:class:`~ragseal.store.KeyringError`): an
unreachable database is a ``KeyringError`` too, so requests fail closed with
503 ``keys_unavailable``.

Why one module past 400 lines: it mirrors ``store/_keyring.py`` method for
method (one KeyProvider contract, the same wrapped blobs), and is meant to
be read side by side with it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
from cryptography.exceptions import InvalidTag
from psycopg.rows import TupleRow

from .._errors import StoreError
from .._key_provider import KeyringStatus
from .._keyring import (
    _KEY,
    MAX_ENCRYPTIONS_PER_KEY,
    DataKeyNotFound,
    KeyringError,
    KeyUsageExceeded,
    _dek_aad,
    _kek_aad,
    _load_or_create_master,
    _secret_aad,
    _unwrap,
    _wrap,
)
from .._private import private_dir
from ._db import ControlPlaneUnavailable, Database

__all__ = ["PgKeyring"]

log = logging.getLogger(__name__)

_LOCK_DOC = 0x52534B01  # advisory lock class: one document's keys
_LOCK_ROTATE = 0x52534B02  # advisory lock class: KEK rotation and retirement
_LOCK_WRITERS = 0x52534B03  # advisory lock class: writers of document versions

Conn = psycopg.Connection[TupleRow]


def _b(value: bytes | memoryview) -> bytes:
    return bytes(value)


class PgKeyring:
    """:class:`~ragseal.store.KeyProvider` on the shared control-plane database.

    Args:
        db: the process's control-plane :class:`Database`.
        folder: the keyring folder, where ``master.key`` is read or created
            when ``master_key`` is None (replicas must share one master key:
            set ``RAGSEAL_MASTER_KEY``).
        master_key: raw 32-byte master key.
    """

    def __init__(self, db: Database, folder: Path, master_key: bytes | None = None) -> None:
        self._db = db
        self._folder = Path(folder)
        if master_key is None:
            try:
                private_dir(self._folder)
            except StoreError as exc:
                raise KeyringError(str(exc)) from None
            master_key = _load_or_create_master(self._folder)
        if len(master_key) != _KEY:
            raise KeyringError("the master key must be 32 bytes")
        self._master = master_key
        self._keks: dict[int, bytes] = {}
        with self._tx() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_LOCK_ROTATE,))
            row = conn.execute("SELECT COUNT(*) FROM ragseal_keks").fetchone()
            if row is not None and int(row[0]) == 0:
                self._add_kek(conn, 1)
        self.check()

    def __repr__(self) -> str:
        return f"PgKeyring(database={self._db.redacted!r})"

    # -- plumbing ---------------------------------------------------------
    @contextlib.contextmanager
    def _tx(self) -> Iterator[Conn]:
        try:
            with self._db.transaction() as conn:
                yield conn
        except ControlPlaneUnavailable:
            raise KeyringError("the key provider's database is unavailable; the request "
                               "was not served (docs/CONTROL-PLANE.md)") from None

    @contextlib.contextmanager
    def _read(self) -> Iterator[Conn]:
        """Autocommit reads (one round trip each): what a request needs."""
        try:
            with self._db.statement() as conn:
                yield conn
        except ControlPlaneUnavailable:
            raise KeyringError("the key provider's database is unavailable; the request "
                               "was not served (docs/CONTROL-PLANE.md)") from None

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Exclusive across every process of this control plane, on any machine:
        writing one document version, recovery and ``--sync``'s sweep (the
        embedded keyring's ``writers.lock``, store/_writers.py). A session-level
        advisory lock: PostgreSQL drops it when the holder's connection ends
        (a killed writer never blocks the next)."""
        try:
            with self._db.statement() as conn:
                conn.execute("SELECT pg_advisory_lock(%s, 0)", (_LOCK_WRITERS,))
                try:
                    yield
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s, 0)", (_LOCK_WRITERS,))
        except ControlPlaneUnavailable:
            raise KeyringError("the key provider's database is unavailable; the request "
                               "was not served (docs/CONTROL-PLANE.md)") from None

    @staticmethod
    def _lock_doc(conn: Conn, doc_id: str, tenant: str) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                     (_LOCK_DOC, json.dumps([tenant, doc_id])))

    def _add_kek(self, conn: Conn, version: int) -> None:
        kek = os.urandom(_KEY)
        conn.execute(
            "INSERT INTO ragseal_keks (version, wrapped, state, created)"
            " VALUES (%s, %s, 'active', %s) ON CONFLICT (version) DO NOTHING",
            (version, _wrap(self._master, kek, _kek_aad(version)), time.time()))
        self._keks.pop(version, None)  # read back: another replica may have won

    def _kek(self, conn: Conn, version: int) -> bytes:
        cached = self._keks.get(version)
        if cached is not None:
            return cached
        row = conn.execute("SELECT wrapped, state FROM ragseal_keks WHERE version = %s",
                           (version,)).fetchone()
        if row is None or row[0] is None or row[1] == "retired":
            raise KeyringError(f"key-encryption key v{version} is retired or missing")
        try:
            kek = _unwrap(self._master, _b(row[0]), _kek_aad(version))
        except InvalidTag:
            raise KeyringError("the master key does not open this keyring") from None
        self._keks[version] = kek
        return kek

    @staticmethod
    def _active_version(conn: Conn) -> int:
        row = conn.execute(
            "SELECT MAX(version) FROM ragseal_keks WHERE state = 'active'").fetchone()
        if row is None or row[0] is None:
            raise KeyringError("keyring has no active key-encryption key")
        return int(row[0])

    @staticmethod
    def _current(conn: Conn, doc_id: str, tenant: str) -> str | None:
        row = conn.execute("SELECT version FROM ragseal_current_versions"
                           " WHERE tenant = %s AND doc_id = %s", (tenant, doc_id)).fetchone()
        return None if row is None else str(row[0])

    def _open_key(self, conn: Conn, kek_version: int, wrapped: bytes, aad: bytes) -> bytes:
        try:
            return _unwrap(self._kek(conn, kek_version), wrapped, aad)
        except InvalidTag:
            raise KeyringError("a wrapped data key failed to open") from None

    # -- data keys --------------------------------------------------------
    def ensure_data_key(self, doc_id: str, tenant: str, version: str | None = None) -> bytes:
        with self._tx() as conn:
            self._lock_doc(conn, doc_id, tenant)
            if version is None or self._current(conn, doc_id, tenant) == version:
                try:
                    return self._data_key(conn, doc_id, tenant, version)
                except DataKeyNotFound:
                    if version is not None:
                        raise
            else:
                row = conn.execute(
                    "SELECT kek_version, wrapped FROM ragseal_pending_keys"
                    " WHERE tenant = %s AND doc_id = %s AND version = %s",
                    (tenant, doc_id, version)).fetchone()
                if row is not None:
                    return self._open_key(conn, int(row[0]), _b(row[1]),
                                          _dek_aad(doc_id, tenant, version))
            kek_version = self._active_version(conn)
            key = os.urandom(_KEY)
            wrapped = _wrap(self._kek(conn, kek_version), key, _dek_aad(doc_id, tenant, version))
            if version is None:
                conn.execute(
                    "INSERT INTO ragseal_data_keys (tenant, doc_id, kek_version, wrapped, created)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (tenant, doc_id, kek_version, wrapped, time.time()))
            else:
                conn.execute(
                    "INSERT INTO ragseal_pending_keys (tenant, doc_id, version, kek_version,"
                    " wrapped, created) VALUES (%s, %s, %s, %s, %s, %s)",
                    (tenant, doc_id, version, kek_version, wrapped, time.time()))
            return key

    def _data_key(self, conn: Conn, doc_id: str, tenant: str, version: str | None) -> bytes:
        row = conn.execute(
            "SELECT k.kek_version, k.wrapped, c.version FROM ragseal_data_keys k"
            " LEFT JOIN ragseal_current_versions c ON c.tenant = k.tenant AND c.doc_id = k.doc_id"
            " WHERE k.tenant = %s AND k.doc_id = %s", (tenant, doc_id)).fetchone()
        if row is None:
            raise DataKeyNotFound
        current = None if row[2] is None else str(row[2])
        if version is not None and current != version:
            raise DataKeyNotFound  # pending, superseded or never ingested
        return self._open_key(conn, int(row[0]), _b(row[1]),
                              _dek_aad(doc_id, tenant, current))

    def data_key(self, doc_id: str, tenant: str, version: str | None = None) -> bytes:
        with self._read() as conn:  # one statement: the key and its version together
            return self._data_key(conn, doc_id, tenant, version)

    def current_version(self, doc_id: str, tenant: str) -> str | None:
        with self._read() as conn:
            return self._current(conn, doc_id, tenant)

    def make_current(self, doc_id: str, tenant: str, version: str) -> None:
        with self._tx() as conn:
            self._lock_doc(conn, doc_id, tenant)
            row = conn.execute(
                "DELETE FROM ragseal_pending_keys WHERE tenant = %s AND doc_id = %s"
                " AND version = %s RETURNING kek_version, wrapped, encryptions, created",
                (tenant, doc_id, version)).fetchone()
            if row is None:
                if self._current(conn, doc_id, tenant) == version:
                    return  # already switched (a resumed run)
                raise DataKeyNotFound
            # One transaction: the old current key is overwritten, the new one is
            # current; no reader (on any replica) sees both or neither.
            conn.execute(
                "INSERT INTO ragseal_data_keys"
                " (tenant, doc_id, kek_version, wrapped, encryptions, created)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (tenant, doc_id) DO UPDATE SET"
                " kek_version = EXCLUDED.kek_version, wrapped = EXCLUDED.wrapped,"
                " encryptions = EXCLUDED.encryptions, created = EXCLUDED.created",
                (tenant, doc_id, *row))
            conn.execute(
                "INSERT INTO ragseal_current_versions (tenant, doc_id, version)"
                " VALUES (%s, %s, %s) ON CONFLICT (tenant, doc_id)"
                " DO UPDATE SET version = EXCLUDED.version", (tenant, doc_id, version))

    def pending_versions(self) -> list[tuple[str, str, str]]:
        with self._tx() as conn:
            rows = conn.execute("SELECT tenant, doc_id, version FROM ragseal_pending_keys"
                                " ORDER BY tenant, doc_id, version").fetchall()
        return [(str(t), str(d), str(v)) for t, d, v in rows]

    def key_versions(self) -> list[tuple[str, str, str | None, str]]:
        """``(tenant, doc_id, version, "current" | "pending")`` of every data key."""
        with self._tx() as conn:
            rows = conn.execute(
                "SELECT k.tenant, k.doc_id, c.version FROM ragseal_data_keys k LEFT JOIN"
                " ragseal_current_versions c ON c.tenant = k.tenant AND c.doc_id = k.doc_id"
            ).fetchall()
        found: list[tuple[str, str, str | None, str]] = [
            (str(t), str(d), None if v is None else str(v), "current") for t, d, v in rows]
        found += [(t, d, v, "pending") for t, d, v in self.pending_versions()]
        return sorted(found, key=lambda r: (r[0], r[1], r[2] or "", r[3]))

    def tenant_of(self, doc_id: str) -> str | None:
        """The tenant a document's data key belongs to."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT tenant FROM ragseal_data_keys WHERE doc_id = %s UNION"
                " SELECT tenant FROM ragseal_pending_keys WHERE doc_id = %s LIMIT 1",
                (doc_id, doc_id)).fetchone()
        return None if row is None else str(row[0])

    def destroy_data_key(self, doc_id: str, tenant: str, version: str | None = None) -> bool:
        with self._tx() as conn:
            self._lock_doc(conn, doc_id, tenant)
            doc = (tenant, doc_id)
            gone = 0
            if version is None:
                gone += conn.execute("DELETE FROM ragseal_pending_keys"
                                     " WHERE tenant = %s AND doc_id = %s", doc).rowcount
            else:
                gone += conn.execute("DELETE FROM ragseal_pending_keys WHERE tenant = %s"
                                     " AND doc_id = %s AND version = %s",
                                     (*doc, version)).rowcount
            if version is None or self._current(conn, doc_id, tenant) == version:
                gone += conn.execute("DELETE FROM ragseal_data_keys"
                                     " WHERE tenant = %s AND doc_id = %s", doc).rowcount
                conn.execute("DELETE FROM ragseal_current_versions"
                             " WHERE tenant = %s AND doc_id = %s", doc)
            return gone > 0

    def record_encryptions(
        self, doc_id: str, tenant: str, count: int, version: str | None = None
    ) -> None:
        if count < 0:
            raise ValueError("an encryption count cannot be negative")
        with self._tx() as conn:
            self._lock_doc(conn, doc_id, tenant)
            if version is None or self._current(conn, doc_id, tenant) == version:
                row = conn.execute(
                    "UPDATE ragseal_data_keys SET encryptions = encryptions + %s"
                    " WHERE tenant = %s AND doc_id = %s RETURNING encryptions",
                    (count, tenant, doc_id)).fetchone()
            else:
                row = conn.execute(
                    "UPDATE ragseal_pending_keys SET encryptions = encryptions + %s"
                    " WHERE tenant = %s AND doc_id = %s AND version = %s RETURNING encryptions",
                    (count, tenant, doc_id, version)).fetchone()
            if row is None:
                raise DataKeyNotFound
            if int(row[0]) > MAX_ENCRYPTIONS_PER_KEY:
                # Raising rolls the increment back with the rest of the transaction.
                raise KeyUsageExceeded("data key reached its encryption cap; delete and re-ingest")

    # -- installation secrets --------------------------------------------
    def _open_secret(self, conn: Conn, purpose: str, kek_version: int, blob: bytes) -> bytes:
        try:
            return _unwrap(self._kek(conn, kek_version), blob, _secret_aad(purpose))
        except InvalidTag:
            raise KeyringError("an installation secret failed to open") from None

    def secret(self, purpose: str) -> bytes:
        with self._read() as conn:
            row = conn.execute("SELECT kek_version, wrapped FROM ragseal_secrets"
                               " WHERE purpose = %s", (purpose,)).fetchone()
            if row is not None:
                return self._open_secret(conn, purpose, int(row[0]), _b(row[1]))
        with self._tx() as conn:
            row = conn.execute("SELECT kek_version, wrapped FROM ragseal_secrets"
                               " WHERE purpose = %s", (purpose,)).fetchone()
            if row is None:
                version = self._active_version(conn)
                value = os.urandom(_KEY)
                conn.execute(
                    "INSERT INTO ragseal_secrets (purpose, kek_version, wrapped)"
                    " VALUES (%s, %s, %s) ON CONFLICT (purpose) DO NOTHING",
                    (purpose, version,
                     _wrap(self._kek(conn, version), value, _secret_aad(purpose))))
                # Read back: a replica that inserted first wins, and both use its value.
                row = conn.execute("SELECT kek_version, wrapped FROM ragseal_secrets"
                                   " WHERE purpose = %s", (purpose,)).fetchone()
            assert row is not None
            return self._open_secret(conn, purpose, int(row[0]), _b(row[1]))

    # -- rotation ---------------------------------------------------------
    def rotate(self, batch: int = 500) -> int:
        """Add a KEK version and re-wrap every key under it. Resumable."""
        with self._tx() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_LOCK_ROTATE,))
            row = conn.execute("SELECT MAX(version) FROM ragseal_keks").fetchone()
            newest = int(row[0]) if row else 0
            behind = self._wrapped_by(conn, "<", newest)
            if behind == 0:
                conn.execute("UPDATE ragseal_keks SET state = 'decrypt-only'"
                             " WHERE version < %s AND state = 'active'", (newest,))
                newest += 1
                self._add_kek(conn, newest)
        self._rewrap_to(newest, batch)
        with self._tx() as conn:
            conn.execute("UPDATE ragseal_keks SET state = 'decrypt-only'"
                         " WHERE version < %s AND state = 'active'", (newest,))
        log.info("keyring: rotated", extra={"kek_version": newest})
        return newest

    def _rewrap_to(self, version: int, batch: int) -> None:
        # Candidates are listed without locks, then each is re-read under its
        # document's advisory lock (the lock every key change takes first), so a
        # switch or an erasure racing the rotation is never undone or deadlocked.
        while True:
            with self._tx() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_LOCK_ROTATE,))
                target = self._kek(conn, version)
                docs = conn.execute(
                    "SELECT tenant, doc_id FROM ragseal_data_keys WHERE kek_version < %(v)s"
                    " UNION SELECT tenant, doc_id FROM ragseal_pending_keys"
                    " WHERE kek_version < %(v)s LIMIT %(n)s",
                    {"v": version, "n": batch}).fetchall()
                for tenant, doc_id in docs:
                    self._rewrap_doc(conn, str(doc_id), str(tenant), version, target)
            if len(docs) < batch:
                break
        with self._tx() as conn:
            target = self._kek(conn, version)
            for purpose, old, wrapped in conn.execute(
                    "SELECT purpose, kek_version, wrapped FROM ragseal_secrets"
                    " WHERE kek_version < %s FOR UPDATE", (version,)).fetchall():
                value = self._open_secret(conn, str(purpose), int(old), _b(wrapped))
                conn.execute("UPDATE ragseal_secrets SET kek_version = %s, wrapped = %s"
                             " WHERE purpose = %s",
                             (version, _wrap(target, value, _secret_aad(str(purpose))), purpose))

    def _rewrap_doc(self, conn: Conn, doc_id: str, tenant: str, version: int,
                    target: bytes) -> None:
        self._lock_doc(conn, doc_id, tenant)
        current = self._current(conn, doc_id, tenant)
        row = conn.execute("SELECT kek_version, wrapped FROM ragseal_data_keys"
                           " WHERE tenant = %s AND doc_id = %s AND kek_version < %s",
                           (tenant, doc_id, version)).fetchone()
        if row is not None:
            aad = _dek_aad(doc_id, tenant, current)
            key = self._open_key(conn, int(row[0]), _b(row[1]), aad)
            conn.execute("UPDATE ragseal_data_keys SET kek_version = %s, wrapped = %s"
                         " WHERE tenant = %s AND doc_id = %s",
                         (version, _wrap(target, key, aad), tenant, doc_id))
        for pending, old, wrapped in conn.execute(
                "SELECT version, kek_version, wrapped FROM ragseal_pending_keys"
                " WHERE tenant = %s AND doc_id = %s AND kek_version < %s",
                (tenant, doc_id, version)).fetchall():
            aad = _dek_aad(doc_id, tenant, str(pending))
            key = self._open_key(conn, int(old), _b(wrapped), aad)
            conn.execute("UPDATE ragseal_pending_keys SET kek_version = %s, wrapped = %s"
                         " WHERE tenant = %s AND doc_id = %s AND version = %s",
                         (version, _wrap(target, key, aad), tenant, doc_id, pending))

    @staticmethod
    def _wrapped_by(conn: Conn, op: str, version: int) -> int:
        """How many keys are wrapped by KEK ``version`` (``=``) or older (``<``)."""
        query = (
            "SELECT (SELECT COUNT(*) FROM ragseal_data_keys WHERE kek_version < %(v)s)"
            " + (SELECT COUNT(*) FROM ragseal_pending_keys WHERE kek_version < %(v)s)"
            " + (SELECT COUNT(*) FROM ragseal_secrets WHERE kek_version < %(v)s)"
        ) if op == "<" else (
            "SELECT (SELECT COUNT(*) FROM ragseal_data_keys WHERE kek_version = %(v)s)"
            " + (SELECT COUNT(*) FROM ragseal_pending_keys WHERE kek_version = %(v)s)"
            " + (SELECT COUNT(*) FROM ragseal_secrets WHERE kek_version = %(v)s)")
        row = conn.execute(query, {"v": version}).fetchone()
        return int(row[0]) if row else 0

    def retire(self, version: int) -> None:
        """Destroy an old KEK version; refused while any key is wrapped by it."""
        with self._tx() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_LOCK_ROTATE,))
            state = conn.execute("SELECT state FROM ragseal_keks WHERE version = %s",
                                 (version,)).fetchone()
            if state is None:
                raise KeyringError(f"no key-encryption key v{version}")
            if version >= self._active_version(conn):
                raise KeyringError("the active key-encryption key cannot be retired")
            users = self._wrapped_by(conn, "=", version)
            if users:
                raise KeyringError(
                    f"v{version} still wraps {users} keys; run `ragseal keys rotate`")
            conn.execute("UPDATE ragseal_keks SET state = 'retired', wrapped = NULL"
                         " WHERE version = %s", (version,))
        self._keks.pop(version, None)

    # -- status -----------------------------------------------------------
    def status(self) -> KeyringStatus:
        with self._tx() as conn:
            versions = {int(v): str(s) for v, s in conn.execute(
                "SELECT version, state FROM ragseal_keks ORDER BY version").fetchall()}
            per_version = {int(v): int(n) for v, n in conn.execute(
                "SELECT kek_version, COUNT(*) FROM (SELECT kek_version FROM ragseal_data_keys"
                " UNION ALL SELECT kek_version FROM ragseal_pending_keys) u"
                " GROUP BY kek_version").fetchall()}
            row = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(encryptions), 0), COALESCE(MAX(encryptions), 0)"
                " FROM (SELECT encryptions FROM ragseal_data_keys"
                " UNION ALL SELECT encryptions FROM ragseal_pending_keys) u").fetchone()
            assert row is not None
            return KeyringStatus(
                active_version=self._active_version(conn), versions=versions,
                data_keys_per_version=per_version, data_keys=int(row[0]),
                encryptions=int(row[1]), max_encryptions_one_key=int(row[2]))

    def check(self) -> None:
        """Open the active KEK and every installation secret afresh from the database.

        Raises:
            KeyringError: the database is down, or the master key does not open it.
        """
        with self._tx() as conn:
            version = self._active_version(conn)
            row = conn.execute("SELECT wrapped FROM ragseal_keks WHERE version = %s",
                               (version,)).fetchone()
            try:
                assert row is not None
                kek = _unwrap(self._master, _b(row[0]), _kek_aad(version))
                for purpose, kek_version, blob in conn.execute(
                        "SELECT purpose, kek_version, wrapped FROM ragseal_secrets").fetchall():
                    key = kek if int(kek_version) == version else self._kek(
                        conn, int(kek_version))
                    _unwrap(key, _b(blob), _secret_aad(str(purpose)))
            except (InvalidTag, TypeError, ValueError, AssertionError):
                raise KeyringError("the master key does not open the control-plane keyring, "
                                   "or it is damaged") from None

    def close(self) -> None:
        """Nothing to close: the pool is the process's (closed at exit)."""
