"""Key provider: per-document data keys wrapped by versioned KEKs.

The :class:`KeyProvider` protocol is what ingestion and retrieval use; the
one implementation today is :class:`LocalKeyring`, a SQLite file in its own
folder (``RAGSEAL_KEYRING``), apart from the vector store, so that restoring
a store backup cannot bring back a document whose data key was destroyed.

Hierarchy::

    master key (RAGSEAL_MASTER_KEY, or master.key generated once, mode 0600)
      └─ KEK v1, v2, ... (random 256-bit, wrapped by the master key)
           ├─ data key per document *version* (random 256-bit, AES-GCM
           │    wrapped, AAD = tenant + doc id [+ version], so wrapped keys
           │    cannot be swapped): one current, others pending
           └─ installation secrets (id hashing, pseudonyms, retrieval ids)

Versions (docs/INGEST.md): ingestion seals a new version of a document
under a *pending* key, upserts its points, then :meth:`LocalKeyring.make_current`
switches in ONE transaction: the pending key becomes the document's data
key and the old one is destroyed. Before the switch the new points cannot
be opened (``data_key(..., version=new)`` raises :class:`DataKeyNotFound`),
after it the old ones cannot: no reader ever sees both versions or neither.
Storage: ``data_keys`` holds the current key of each document (its schema
predates versions), ``current_versions`` names the version it belongs to
(no row: an unversioned key), ``pending_keys`` the versions not yet current.

A KMS or Vault transit provider implements the same protocol
(``store/_key_provider.py``): ``wrap`` and ``unwrap`` of the data keys move
to the remote service, and the table of wrapped keys stays local or in a
shared database (docs/KEYS.md).

Why one module of this size: :class:`LocalKeyring` is one class over one
SQLite schema. Every operation (create, switch, shred, count, rotate,
retire) runs in one transaction under the same lock and KEK rules, and its
invariants (one current key per document, pending keys swept, a retired
KEK's wrapped bytes gone from the file and its WAL) are only checkable
read together. What is not the local provider lives elsewhere: the
protocol (``_key_provider.py``), the master key's text (``_master.py``).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ragseal import UnavailableError

from ._errors import StoreError
from ._key_provider import KeyringStatus
from ._master import decode_master_key
from ._private import private_dir
from ._writers import VersionWriters

__all__ = [
    "MAX_ENCRYPTIONS_PER_KEY",
    "DataKeyNotFound",
    "KeyUsageExceeded",
    "KeyringError",
    "LocalKeyring",
]

log = logging.getLogger(__name__)

# Random 96-bit nonces: NIST SP 800-38D caps one key at 2^32 encryptions.
# Per-document keys keep real use far below; this cap keeps it provably so.
MAX_ENCRYPTIONS_PER_KEY = 2**24
_KEY = 32
_NONCE = 12


class KeyringError(UnavailableError):
    """The key provider is unusable (wrong master key, bad permissions...)."""


class DataKeyNotFound(KeyringError):
    """No data key for this document: never ingested, or erased."""

    def __init__(self) -> None:
        super().__init__("no data key for this document")


class KeyUsageExceeded(KeyringError):
    """A data key reached its encryption cap; re-ingest under a new key."""


def _decode_master(value: str) -> bytes:
    try:
        return decode_master_key(value)
    except ValueError:
        raise KeyringError("RAGSEAL_MASTER_KEY must be base64 of 32 bytes") from None


def _load_or_create_master(folder: Path) -> bytes:
    path = folder / "master.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(
                f"{path} is readable by group or others; run: chmod 600 {path}"
            ) from None
        return _decode_master(path.read_text("ascii"))
    key = os.urandom(_KEY)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(base64.b64encode(key).decode("ascii") + "\n")
    log.info("keyring: generated a new master key", extra={"keyring": str(folder)})
    return key


def _wrap(kek: bytes, key: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(kek).encrypt(nonce, key, aad)


def _unwrap(kek: bytes, blob: bytes, aad: bytes) -> bytes:
    return AESGCM(kek).decrypt(blob[:_NONCE], blob[_NONCE:], aad)


def _dek_aad(doc_id: str, tenant: str, version: str | None = None) -> bytes:
    aad = b"ragseal/dek/v1\x00" + tenant.encode() + b"\x00" + doc_id.encode()
    return aad if version is None else aad + b"\x00" + version.encode()


def _secret_aad(purpose: str) -> bytes:
    return b"ragseal/secret/v1\x00" + purpose.encode()


def _kek_aad(version: int) -> bytes:
    return b"ragseal/kek/v1\x00" + str(version).encode()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS keks (
    version INTEGER PRIMARY KEY, wrapped BLOB, state TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS data_keys (
    doc_id TEXT NOT NULL, tenant TEXT NOT NULL, kek_version INTEGER NOT NULL,
    wrapped BLOB NOT NULL, encryptions INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL,
    PRIMARY KEY (tenant, doc_id));
CREATE INDEX IF NOT EXISTS data_keys_version ON data_keys (kek_version);
CREATE TABLE IF NOT EXISTS current_versions (
    tenant TEXT NOT NULL, doc_id TEXT NOT NULL, version TEXT NOT NULL,
    PRIMARY KEY (tenant, doc_id));
CREATE TABLE IF NOT EXISTS pending_keys (
    tenant TEXT NOT NULL, doc_id TEXT NOT NULL, version TEXT NOT NULL,
    kek_version INTEGER NOT NULL, wrapped BLOB NOT NULL,
    encryptions INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL,
    PRIMARY KEY (tenant, doc_id, version));
CREATE INDEX IF NOT EXISTS pending_keys_version ON pending_keys (kek_version);
CREATE TABLE IF NOT EXISTS secrets (
    purpose TEXT PRIMARY KEY, kek_version INTEGER NOT NULL, wrapped BLOB NOT NULL);
"""


# Keys wrapped by one KEK version, or by any older one, in every table that holds
# wrapped keys (data keys, pending keys, installation secrets).
_WRAPPED_UNDER = (
    "SELECT (SELECT COUNT(*) FROM data_keys WHERE kek_version = ?1)"
    " + (SELECT COUNT(*) FROM pending_keys WHERE kek_version = ?1)"
    " + (SELECT COUNT(*) FROM secrets WHERE kek_version = ?1)")
_WRAPPED_UNDER_OLDER = (
    "SELECT (SELECT COUNT(*) FROM data_keys WHERE kek_version < ?1)"
    " + (SELECT COUNT(*) FROM pending_keys WHERE kek_version < ?1)"
    " + (SELECT COUNT(*) FROM secrets WHERE kek_version < ?1)")

_DAMAGED = "the keyring file is damaged; restore keyring.db from a backup (docs/KEYS.md)"


class _GuardedCursor:
    """A cursor whose reads turn SQLite corruption into :class:`KeyringError`."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def fetchone(self) -> Any:
        with _guard():
            return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        with _guard():
            return self._cursor.fetchall()

    def __iter__(self) -> Iterator[Any]:
        with _guard():
            yield from self._cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class _GuardedConnection:
    """The keyring's SQLite connection; a damaged file raises :class:`KeyringError`.

    SQLite reports a corrupt page as ``DatabaseError`` ("database disk image
    is malformed", "file is not a database") on whichever statement meets it;
    unmapped, that was a 500 on every request that opened a key. Busy and
    read-only errors (``OperationalError``) pass through for ``_tx`` to map.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[object] = ()) -> _GuardedCursor:
        with _guard():
            return _GuardedCursor(self._db.execute(sql, params))

    def executescript(self, script: str) -> None:
        with _guard():
            self._db.executescript(script)

    def close(self) -> None:
        self._db.close()


@contextlib.contextmanager
def _guard() -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError:
        raise
    except sqlite3.DatabaseError:
        raise KeyringError(_DAMAGED) from None


class LocalKeyring:
    """The local key provider (one node; see docs/KEYS.md for replicas).

    Args:
        folder: where ``keyring.db`` (and ``master.key`` if generated) live.
        master_key: raw 32-byte master key (from ``RAGSEAL_MASTER_KEY``);
            ``None`` reads or creates ``master.key`` in ``folder``.
    """

    def __init__(self, folder: Path, master_key: bytes | None = None) -> None:
        self._folder = Path(folder)
        try:
            private_dir(self._folder)  # 0700, parents too, whoever creates it
        except StoreError as exc:
            raise KeyringError(str(exc)) from None
        self._master = master_key if master_key is not None else _load_or_create_master(
            self._folder
        )
        if len(self._master) != _KEY:
            raise KeyringError("the master key must be 32 bytes")
        self._lock = threading.RLock()
        self._db = _GuardedConnection(sqlite3.connect(
            self._folder / "keyring.db", timeout=30, check_same_thread=False, isolation_level=None
        ))
        with contextlib.suppress(OSError):
            os.chmod(self._folder / "keyring.db", 0o600)
        # Rollback journal, not WAL: with secure_delete a destroyed key's page is
        # overwritten in keyring.db when the deleting transaction commits; a WAL
        # would keep the old page until a checkpoint that any open reader delays.
        self._db.execute("PRAGMA journal_mode=DELETE")
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(_SCHEMA)
        self._keks: dict[int, bytes] = {}
        self._writers = VersionWriters(self._folder / "writers.lock")
        with self._tx():
            if self._db.execute("SELECT COUNT(*) FROM keks").fetchone()[0] == 0:
                self._add_kek(1)
        self.check()

    def __repr__(self) -> str:
        return f"LocalKeyring(folder={str(self._folder)!r})"

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """Exclusive, across processes: writing one document version (pending key
        to switch), recovering abandoned ones, sweeping (``store/_writers.py``)."""
        return self._writers.hold()

    # -- plumbing ---------------------------------------------------------
    @contextlib.contextmanager
    def _tx(self) -> Iterator[_GuardedConnection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                raise KeyringError("the keyring is busy or not writable; try again") from None
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.OperationalError:
                self._db.execute("ROLLBACK")
                raise KeyringError("the keyring is busy or not writable; try again") from None

    def _add_kek(self, version: int) -> None:
        kek = os.urandom(_KEY)
        self._db.execute(
            "INSERT INTO keks (version, wrapped, state, created) VALUES (?, ?, 'active', ?)",
            (version, _wrap(self._master, kek, _kek_aad(version)), time.time()),
        )
        self._keks[version] = kek

    def _kek(self, version: int) -> bytes:
        # The state is read on every use, the unwrapped KEK only cached: a
        # version another process retired (``ragseal keys retire`` beside a
        # running server) stops opening anything here at once.
        row = self._db.execute(
            "SELECT wrapped, state FROM keks WHERE version = ?", (version,)
        ).fetchone()
        if row is None or row[0] is None or row[1] == "retired":
            self._keks.pop(version, None)
            raise KeyringError(f"key-encryption key v{version} is retired or missing")
        cached = self._keks.get(version)
        if cached is not None:
            return cached
        try:
            kek = _unwrap(self._master, row[0], _kek_aad(version))
        except InvalidTag:
            raise KeyringError("the master key does not open this keyring") from None
        self._keks[version] = kek
        return kek

    def _active_version(self) -> int:
        row = self._db.execute(
            "SELECT MAX(version) FROM keks WHERE state = 'active'"
        ).fetchone()
        if row is None or row[0] is None:
            raise KeyringError("keyring has no active key-encryption key")
        return int(row[0])

    # -- data keys --------------------------------------------------------
    def _current(self, doc_id: str, tenant: str) -> str | None:
        row = self._db.execute(
            "SELECT version FROM current_versions WHERE tenant = ? AND doc_id = ?",
            (tenant, doc_id),
        ).fetchone()
        return None if row is None else str(row[0])

    def _open_key(self, kek_version: int, wrapped: bytes, aad: bytes) -> bytes:
        try:
            return _unwrap(self._kek(kek_version), wrapped, aad)
        except InvalidTag:
            raise KeyringError("a wrapped data key failed to open") from None

    def _pending(self, doc_id: str, tenant: str, version: str) -> tuple[int, bytes] | None:
        row = self._db.execute(
            "SELECT kek_version, wrapped FROM pending_keys"
            " WHERE tenant = ? AND doc_id = ? AND version = ?",
            (tenant, doc_id, version),
        ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def ensure_data_key(self, doc_id: str, tenant: str, version: str | None = None) -> bytes:
        with self._tx():
            if version is None or self._current(doc_id, tenant) == version:
                try:
                    return self.data_key(doc_id, tenant, version)
                except DataKeyNotFound:
                    if version is not None:
                        raise
            else:
                pending = self._pending(doc_id, tenant, version)
                if pending is not None:
                    return self._open_key(*pending, _dek_aad(doc_id, tenant, version))
            kek_version = self._active_version()
            key = os.urandom(_KEY)
            wrapped = _wrap(self._kek(kek_version), key, _dek_aad(doc_id, tenant, version))
            if version is None:
                self._db.execute(
                    "INSERT INTO data_keys (doc_id, tenant, kek_version, wrapped, created)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (doc_id, tenant, kek_version, wrapped, time.time()),
                )
            else:
                self._db.execute(
                    "INSERT INTO pending_keys (tenant, doc_id, version, kek_version, wrapped,"
                    " created) VALUES (?, ?, ?, ?, ?, ?)",
                    (tenant, doc_id, version, kek_version, wrapped, time.time()),
                )
            return key

    def data_key(self, doc_id: str, tenant: str, version: str | None = None) -> bytes:
        with self._lock:
            row = self._db.execute(
                "SELECT kek_version, wrapped FROM data_keys WHERE tenant = ? AND doc_id = ?",
                (tenant, doc_id),
            ).fetchone()
            if row is None:
                raise DataKeyNotFound
            current = self._current(doc_id, tenant)
            if version is not None and current != version:
                raise DataKeyNotFound  # pending, superseded or never ingested
            return self._open_key(int(row[0]), row[1], _dek_aad(doc_id, tenant, current))

    def current_version(self, doc_id: str, tenant: str) -> str | None:
        with self._lock:
            return self._current(doc_id, tenant)

    def make_current(self, doc_id: str, tenant: str, version: str) -> None:
        with self._tx():
            row = self._db.execute(
                "SELECT kek_version, wrapped, encryptions, created FROM pending_keys"
                " WHERE tenant = ? AND doc_id = ? AND version = ?",
                (tenant, doc_id, version),
            ).fetchone()
            if row is None:
                if self._current(doc_id, tenant) == version:
                    return  # already switched (a resumed run)
                raise DataKeyNotFound
            # REPLACE deletes the previous current key's row: with secure_delete
            # its bytes are overwritten when this one transaction commits.
            self._db.execute(
                "INSERT OR REPLACE INTO data_keys"
                " (doc_id, tenant, kek_version, wrapped, encryptions, created)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (doc_id, tenant, *row),
            )
            self._db.execute(
                "INSERT OR REPLACE INTO current_versions (tenant, doc_id, version)"
                " VALUES (?, ?, ?)",
                (tenant, doc_id, version),
            )
            self._db.execute(
                "DELETE FROM pending_keys WHERE tenant = ? AND doc_id = ? AND version = ?",
                (tenant, doc_id, version),
            )

    def pending_versions(self) -> list[tuple[str, str, str]]:
        with self._lock:
            return [(str(t), str(d), str(v)) for t, d, v in self._db.execute(
                "SELECT tenant, doc_id, version FROM pending_keys ORDER BY tenant, doc_id, version"
            )]

    def key_versions(self) -> list[tuple[str, str, str | None, str]]:
        """``(tenant, doc_id, version, "current" | "pending")`` of every data key
        (``version`` is ``None`` for an unversioned key); ids only, no key material."""
        with self._lock:
            current: list[tuple[str, str, str | None, str]] = [
                (str(t), str(d), None if v is None else str(v), "current")
                       for t, d, v in self._db.execute(
                "SELECT k.tenant, k.doc_id, c.version FROM data_keys k LEFT JOIN"
                " current_versions c ON c.tenant = k.tenant AND c.doc_id = k.doc_id")]
            pending: list[tuple[str, str, str | None, str]] = [
                (t, d, v, "pending") for t, d, v in self.pending_versions()]
            return sorted(current + pending, key=lambda r: (r[0], r[1], r[2] or "", r[3]))

    def tenant_of(self, doc_id: str) -> str | None:
        """The tenant a document's data key belongs to (doc ids are per tenant)."""
        with self._lock:
            row = self._db.execute(
                "SELECT tenant FROM data_keys WHERE doc_id = ?"
                " UNION SELECT tenant FROM pending_keys WHERE doc_id = ? LIMIT 1",
                (doc_id, doc_id),
            ).fetchone()
            return None if row is None else str(row[0])

    def destroy_data_key(self, doc_id: str, tenant: str, version: str | None = None) -> bool:
        with self._tx():
            # secure_delete zeroes the freed cells when this transaction commits.
            if version is None:
                gone = self._db.execute(
                    "DELETE FROM data_keys WHERE tenant = ? AND doc_id = ?", (tenant, doc_id)
                ).rowcount
                gone += self._db.execute(
                    "DELETE FROM pending_keys WHERE tenant = ? AND doc_id = ?", (tenant, doc_id)
                ).rowcount
                self._db.execute(
                    "DELETE FROM current_versions WHERE tenant = ? AND doc_id = ?",
                    (tenant, doc_id),
                )
                return gone > 0
            gone = self._db.execute(
                "DELETE FROM pending_keys WHERE tenant = ? AND doc_id = ? AND version = ?",
                (tenant, doc_id, version),
            ).rowcount
            if self._current(doc_id, tenant) == version:
                gone += self._db.execute(
                    "DELETE FROM data_keys WHERE tenant = ? AND doc_id = ?", (tenant, doc_id)
                ).rowcount
                self._db.execute(
                    "DELETE FROM current_versions WHERE tenant = ? AND doc_id = ?",
                    (tenant, doc_id),
                )
            return gone > 0

    def record_encryptions(
        self, doc_id: str, tenant: str, count: int, version: str | None = None
    ) -> None:
        if count < 0:
            raise ValueError("an encryption count cannot be negative")
        with self._tx():
            if version is None or self._current(doc_id, tenant) == version:
                select = "SELECT encryptions FROM data_keys WHERE tenant = ? AND doc_id = ?"
                update = ("UPDATE data_keys SET encryptions = encryptions + ?"
                          " WHERE tenant = ? AND doc_id = ?")
                args: tuple[str, ...] = (tenant, doc_id)
            else:
                select = ("SELECT encryptions FROM pending_keys"
                          " WHERE tenant = ? AND doc_id = ? AND version = ?")
                update = ("UPDATE pending_keys SET encryptions = encryptions + ?"
                          " WHERE tenant = ? AND doc_id = ? AND version = ?")
                args = (tenant, doc_id, version)
            row = self._db.execute(select, args).fetchone()
            if row is None:
                raise DataKeyNotFound
            if int(row[0]) + count > MAX_ENCRYPTIONS_PER_KEY:
                raise KeyUsageExceeded("data key reached its encryption cap; delete and re-ingest")
            self._db.execute(update, (count, *args))

    # -- installation secrets --------------------------------------------
    def secret(self, purpose: str) -> bytes:
        with self._tx():
            row = self._db.execute(
                "SELECT kek_version, wrapped FROM secrets WHERE purpose = ?", (purpose,)
            ).fetchone()
            if row is not None:
                try:
                    return _unwrap(self._kek(int(row[0])), row[1], _secret_aad(purpose))
                except InvalidTag:
                    raise KeyringError("an installation secret failed to open") from None
            version = self._active_version()
            value = os.urandom(_KEY)
            self._db.execute(
                "INSERT INTO secrets (purpose, kek_version, wrapped) VALUES (?, ?, ?)",
                (purpose, version, _wrap(self._kek(version), value, _secret_aad(purpose))),
            )
            return value

    # -- rotation ---------------------------------------------------------
    def rotate(self, batch: int = 500) -> int:
        """Add a KEK version and re-wrap every key under it. Resumable.

        Returns the new active version. Running it again after an
        interruption finishes the re-wrap under the newest version.
        """
        with self._tx():
            newest = int(self._db.execute("SELECT MAX(version) FROM keks").fetchone()[0])
            pending = int(self._db.execute(_WRAPPED_UNDER_OLDER, (newest,)).fetchone()[0])
            if pending == 0:
                self._db.execute(
                    "UPDATE keks SET state = 'decrypt-only' WHERE version < ? AND state = 'active'",
                    (newest,),
                )
                newest += 1
                self._add_kek(newest)
        self._rewrap_to(newest, batch)
        with self._tx():
            self._db.execute(
                "UPDATE keks SET state = 'decrypt-only' WHERE version < ? AND state = 'active'",
                (newest,),
            )
        log.info("keyring: rotated", extra={"kek_version": newest})
        return newest

    def _rewrap_to(self, version: int, batch: int) -> None:
        target = self._kek(version)
        while True:
            with self._tx():
                rows = self._db.execute(
                    "SELECT k.doc_id, k.tenant, k.kek_version, k.wrapped, c.version"
                    " FROM data_keys k LEFT JOIN current_versions c"
                    " ON c.tenant = k.tenant AND c.doc_id = k.doc_id"
                    " WHERE k.kek_version < ? LIMIT ?",
                    (version, batch),
                ).fetchall()
                for doc_id, tenant, old, wrapped, doc_version in rows:
                    aad = _dek_aad(doc_id, tenant, doc_version)
                    try:
                        key = _unwrap(self._kek(int(old)), wrapped, aad)
                    except InvalidTag:
                        raise KeyringError("a wrapped data key failed to open") from None
                    self._db.execute(
                        "UPDATE data_keys SET kek_version = ?, wrapped = ?"
                        " WHERE tenant = ? AND doc_id = ?",
                        (version, _wrap(target, key, aad), tenant, doc_id),
                    )
            if len(rows) < batch:
                break
        with self._tx():
            for tenant, doc_id, doc_version, old, wrapped in self._db.execute(
                "SELECT tenant, doc_id, version, kek_version, wrapped FROM pending_keys"
                " WHERE kek_version < ?",
                (version,),
            ).fetchall():
                aad = _dek_aad(doc_id, tenant, doc_version)
                key = self._open_key(int(old), wrapped, aad)
                self._db.execute(
                    "UPDATE pending_keys SET kek_version = ?, wrapped = ?"
                    " WHERE tenant = ? AND doc_id = ? AND version = ?",
                    (version, _wrap(target, key, aad), tenant, doc_id, doc_version),
                )
        with self._tx():
            for purpose, old, wrapped in self._db.execute(
                "SELECT purpose, kek_version, wrapped FROM secrets WHERE kek_version < ?",
                (version,),
            ).fetchall():
                try:
                    value = _unwrap(self._kek(int(old)), wrapped, _secret_aad(purpose))
                except InvalidTag:
                    raise KeyringError("an installation secret failed to open") from None
                self._db.execute(
                    "UPDATE secrets SET kek_version = ?, wrapped = ? WHERE purpose = ?",
                    (version, _wrap(target, value, _secret_aad(purpose)), purpose),
                )

    def retire(self, version: int) -> None:
        """Destroy an old KEK version; refused while any key is wrapped by it."""
        with self._tx():
            state = self._db.execute(
                "SELECT state FROM keks WHERE version = ?", (version,)).fetchone()
            if state is None:
                raise KeyringError(f"no key-encryption key v{version}")
            if version >= self._active_version():
                raise KeyringError("the active key-encryption key cannot be retired")
            users = int(self._db.execute(_WRAPPED_UNDER, (version,)).fetchone()[0])
            if users:
                raise KeyringError(
                    f"v{version} still wraps {users} keys; run `ragseal keys rotate`")
            self._db.execute(
                "UPDATE keks SET state = 'retired', wrapped = NULL WHERE version = ?", (version,)
            )
            self._keks.pop(version, None)

    # -- status -----------------------------------------------------------
    def status(self) -> KeyringStatus:
        with self._lock:
            versions = {int(v): str(s) for v, s in self._db.execute(
                "SELECT version, state FROM keks ORDER BY version")}
            per_version = {int(v): int(n) for v, n in self._db.execute(
                "SELECT kek_version, COUNT(*) FROM (SELECT kek_version FROM data_keys"
                " UNION ALL SELECT kek_version FROM pending_keys) GROUP BY kek_version")}
            total, enc, top = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(encryptions), 0), COALESCE(MAX(encryptions), 0)"
                " FROM (SELECT encryptions FROM data_keys"
                " UNION ALL SELECT encryptions FROM pending_keys)"
            ).fetchone()
            return KeyringStatus(
                active_version=self._active_version(),
                versions=versions,
                data_keys_per_version=per_version,
                data_keys=int(total),
                encryptions=int(enc),
                max_encryptions_one_key=int(top),
            )

    def check(self) -> None:
        """Check the keyring from disk, not from what this process cached.

        SQLite's integrity check, then the active KEK and every installation
        secret opened afresh: a file damaged or swapped under a running
        server is found here (``/healthz``), not by the next request.

        Raises:
            KeyringError: damaged, or the master key does not open it.
        """
        with self._lock:
            row = self._db.execute("PRAGMA quick_check").fetchone()
            if row is None or row[0] != "ok":
                raise KeyringError(_DAMAGED)
            version = self._active_version()
            wrapped = self._db.execute(
                "SELECT wrapped FROM keks WHERE version = ?", (version,)).fetchone()
            try:
                kek = _unwrap(self._master, wrapped[0], _kek_aad(version))
                for purpose, kek_version, blob in self._db.execute(
                        "SELECT purpose, kek_version, wrapped FROM secrets").fetchall():
                    key = kek if int(kek_version) == version else self._kek(int(kek_version))
                    _unwrap(key, blob, _secret_aad(str(purpose)))
            except (InvalidTag, TypeError, ValueError):
                raise KeyringError("the master key does not open this keyring, or it is "
                                   "damaged") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()
