"""The shared control plane's database: one PostgreSQL pool per process, a schema.

``RAGSEAL_DATABASE_URL=postgresql://...`` moves what a replica shares (keys,
policy versions, freezes, the audit trail, rate limits, probing counters)
from the keyring folder into one PostgreSQL database (docs/CONTROL-PLANE.md).
:func:`database` returns the process's :class:`Database` for a URL: one
``psycopg_pool.ConnectionPool`` per URL and process, opened on first use,
closed at exit. The schema is created idempotently by versioned migrations
(table ``ragseal_schema``) under a transaction-scoped advisory lock, so two
replicas starting at once apply each migration once.

The URL's password never leaves this module: ``repr``, logs and errors show
:func:`redact_url`'s form, and driver errors are reported by type only
(their messages can hold the host, the role or a statement).

Errors::

    ControlPlaneUnavailable   the database cannot be reached or refused a statement
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
from collections.abc import Iterator

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolTimeout

from .._errors import StoreError
from .._pg_url import redact_url

__all__ = [
    "ADVISORY_MIGRATE",
    "MIGRATIONS",
    "ControlPlaneUnavailable",
    "Database",
    "close_all",
    "database",
    "redact_url",
]

log = logging.getLogger(__name__)

# pg_advisory_xact_lock keys (one 64-bit space per database): the first
# half of "ragseal" in ASCII, then a purpose number.
ADVISORY_MIGRATE = 0x7261677365_01
POOL_MAX = 10
CONNECT_TIMEOUT_S = 5
ACQUIRE_TIMEOUT_S = 10.0


class ControlPlaneUnavailable(StoreError):
    """The control-plane database cannot be used; the operation is refused (fail closed).

    A :class:`~ragseal.store.StoreError`, so the CLI ends with one line and exit 2;
    the API answers 503 ``control_plane_unavailable``.
    """

    def __init__(self, what: str = "the control-plane database is unavailable") -> None:
        super().__init__(what)


MIGRATIONS: tuple[str, ...] = (
    # 1: every part of the control plane (docs/CONTROL-PLANE.md has the map).
    """
    CREATE TABLE ragseal_keks (
        version INTEGER PRIMARY KEY, wrapped BYTEA, state TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL);
    CREATE TABLE ragseal_data_keys (
        tenant TEXT NOT NULL, doc_id TEXT NOT NULL, kek_version INTEGER NOT NULL,
        wrapped BYTEA NOT NULL, encryptions BIGINT NOT NULL DEFAULT 0,
        created DOUBLE PRECISION NOT NULL, PRIMARY KEY (tenant, doc_id));
    CREATE INDEX ragseal_data_keys_kek ON ragseal_data_keys (kek_version);
    CREATE INDEX ragseal_data_keys_doc ON ragseal_data_keys (doc_id);
    CREATE TABLE ragseal_current_versions (
        tenant TEXT NOT NULL, doc_id TEXT NOT NULL, version TEXT NOT NULL,
        PRIMARY KEY (tenant, doc_id));
    CREATE TABLE ragseal_pending_keys (
        tenant TEXT NOT NULL, doc_id TEXT NOT NULL, version TEXT NOT NULL,
        kek_version INTEGER NOT NULL, wrapped BYTEA NOT NULL,
        encryptions BIGINT NOT NULL DEFAULT 0, created DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (tenant, doc_id, version));
    CREATE INDEX ragseal_pending_keys_kek ON ragseal_pending_keys (kek_version);
    CREATE TABLE ragseal_secrets (
        purpose TEXT PRIMARY KEY, kek_version INTEGER NOT NULL, wrapped BYTEA NOT NULL);
    CREATE TABLE ragseal_policy_versions (
        tenant TEXT NOT NULL, version INTEGER NOT NULL, fingerprint TEXT NOT NULL,
        author TEXT NOT NULL, created DOUBLE PRECISION NOT NULL, text TEXT NOT NULL,
        PRIMARY KEY (tenant, version));
    CREATE TABLE ragseal_freezes (
        seq BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL, frozen BOOLEAN NOT NULL,
        actor TEXT NOT NULL, reason TEXT NOT NULL, at DOUBLE PRECISION NOT NULL);
    CREATE INDEX ragseal_freezes_tenant ON ragseal_freezes (tenant, seq);
    CREATE TABLE ragseal_audit (
        replica TEXT NOT NULL, seq BIGINT NOT NULL, line TEXT NOT NULL,
        PRIMARY KEY (replica, seq));
    CREATE TABLE ragseal_audit_checkpoints (
        replica TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL, mac TEXT NOT NULL,
        at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp());
    CREATE TABLE ragseal_rate_limits (
        tenant TEXT NOT NULL, sub TEXT NOT NULL, tokens DOUBLE PRECISION NOT NULL,
        stamp DOUBLE PRECISION NOT NULL, allowed BOOLEAN NOT NULL,
        PRIMARY KEY (tenant, sub));
    CREATE TABLE ragseal_probe_counters (
        tenant TEXT NOT NULL, sub TEXT NOT NULL,
        score DOUBLE PRECISION NOT NULL DEFAULT 0, stamp DOUBLE PRECISION NOT NULL DEFAULT 0,
        strikes INTEGER NOT NULL DEFAULT 0,
        last_strike DOUBLE PRECISION NOT NULL DEFAULT '-Infinity',
        until DOUBLE PRECISION NOT NULL DEFAULT 0, signals JSONB NOT NULL DEFAULT '{}',
        PRIMARY KEY (tenant, sub));
    CREATE TABLE ragseal_probe_recent (
        id BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL, sub TEXT NOT NULL,
        kind TEXT NOT NULL, skeleton TEXT NOT NULL, text_hash TEXT NOT NULL);
    CREATE INDEX ragseal_probe_recent_key ON ragseal_probe_recent (tenant, sub, id);
    """,
)


class Database:
    """One connection pool on the control-plane database, schema migrated.

    :meth:`transaction` lends a connection inside one transaction (committed
    when the block ends, rolled back on an exception); :meth:`statement` lends
    one in autocommit mode, for a block of ONE statement (a read, or a write
    atomic by itself): one round trip instead of three (``BEGIN`` and
    ``COMMIT`` are round trips of their own), which is most of what the
    control plane adds to a request (benchmarks/control_plane.py). Driver and
    pool failures become :class:`ControlPlaneUnavailable`.
    """

    def __init__(self, url: str, *, max_size: int = POOL_MAX) -> None:
        self._url = url
        self.redacted = redact_url(url)
        self._pool = ConnectionPool(
            url, min_size=1, max_size=max_size, open=False, timeout=ACQUIRE_TIMEOUT_S,
            kwargs={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "ragseal",
                    "autocommit": True},
            name="ragseal-control-plane")
        try:
            # One direct connection first: a refused or unreachable server fails
            # now, in connect_timeout, instead of after the pool's retries.
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
            self._pool.open(wait=True, timeout=ACQUIRE_TIMEOUT_S)
        except (PoolTimeout, psycopg.Error):
            self._pool.close()
            raise ControlPlaneUnavailable(
                f"cannot connect to the control-plane database {self.redacted}; "
                "check RAGSEAL_DATABASE_URL and that PostgreSQL is up") from None
        try:
            self.migrate()
        except BaseException:
            self._pool.close()
            raise

    def __repr__(self) -> str:
        return f"Database(url={self.redacted!r})"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[TupleRow]]:
        """A pooled connection inside one transaction (committed at the end)."""
        with self.statement() as conn, conn.transaction():
            yield conn

    @contextlib.contextmanager
    def statement(self) -> Iterator[psycopg.Connection[TupleRow]]:
        """A pooled connection in autocommit mode: each statement commits alone."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except (PoolTimeout, psycopg.OperationalError, psycopg.InterfaceError) as exc:
            log.error("control-plane database unavailable",
                      extra={"error_type": type(exc).__name__, "database": self.redacted})
            raise ControlPlaneUnavailable() from None
        except psycopg.Error as exc:
            log.error("control-plane statement failed",
                      extra={"error_type": type(exc).__name__})
            raise ControlPlaneUnavailable(
                f"the control-plane database refused a statement ({type(exc).__name__})"
            ) from None

    def migrate(self) -> int:
        """Apply the migrations this database lacks; the schema version after."""
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_MIGRATE,))
            conn.execute("CREATE TABLE IF NOT EXISTS ragseal_schema ("
                         "version INTEGER PRIMARY KEY,"
                         " applied TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())")
            row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM ragseal_schema").fetchone()
            have = int(row[0]) if row else 0
            if have > len(MIGRATIONS):
                raise ControlPlaneUnavailable(
                    f"the control-plane database has schema v{have}, newer than this "
                    f"ragseal knows (v{len(MIGRATIONS)}); upgrade ragseal")
            for number, script in enumerate(MIGRATIONS[have:], start=have + 1):
                conn.execute(script.encode())
                conn.execute("INSERT INTO ragseal_schema (version) VALUES (%s)", (number,))
                log.info("control plane: schema migrated", extra={"schema_version": number})
            return len(MIGRATIONS)

    def check(self) -> None:
        """Raise :class:`ControlPlaneUnavailable` unless a statement runs now."""
        with self.transaction() as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        self._pool.close()


_LOCK = threading.Lock()
_OPEN: dict[str, Database] = {}


def database(url: str) -> Database:
    """The process's :class:`Database` for ``url`` (one pool per URL and process)."""
    with _LOCK:
        found = _OPEN.get(url)
        if found is None:
            found = _OPEN[url] = Database(url)
        return found


def close_all() -> None:
    """Close every pool this process opened (at exit; tests between cases)."""
    with _LOCK:
        opened = list(_OPEN.values())
        _OPEN.clear()
    for db in opened:
        with contextlib.suppress(Exception):
            db.close()


atexit.register(close_all)
