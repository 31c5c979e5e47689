"""The audit trail in the shared control plane: one chain per writer, in PostgreSQL.

:class:`PgAuditLog` writes exactly the records :class:`~ragseal.store.AuditLog`
writes (same canonical JSON, hash chain, HMAC seals every ``seal_every``
events, an ``open`` record linking the newest checkpoints of the other
chains; docs/AUDIT.md), as rows ``(replica, seq, line)`` of
``ragseal_audit`` instead of lines of ``<replica>.jsonl``. Each record is
committed on its own (durable when the call returns); a seal and its
checkpoint (``ragseal_audit_checkpoints``) are committed together. A write
that fails (database down) raises :class:`~ragseal.store.AuditError`, so the
operation fails closed; the next write first reads that record's row back
(the commit may have happened before the connection was lost) and the chain
goes on without a gap once the database is back.

:func:`verify_pg_audit` checks every writer's chain with the same code as
the files (:func:`~ragseal.store._audit.verify_records`), then the
checkpoints and the links between chains: ``ragseal audit verify`` covers
every replica that ever wrote. Someone with write access to the database can
still rewrite a chain's unsealed tail, or everything if they hold the seal
key, which lives in the key provider wrapped by the master key.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg

from .._audit import (
    _LINKS,
    _REPLICA,
    AUDIT_SEAL_EVERY,
    GENESIS,
    AuditError,
    EventChain,
    _canonical,
    _digest,
    _mac,
    _now,
    default_replica_id,
)
from .._audit_verify import AuditProblem, AuditReport, verify_records
from ._db import ControlPlaneUnavailable, Database

__all__ = ["PgAuditLog", "read_pg_audit", "verify_pg_audit"]

log = logging.getLogger(__name__)


class PgAuditLog(EventChain):
    """Appends audit records to this writer's chain in the database; thread-safe.

    Args:
        db: the control-plane database.
        seal_key: the HMAC key of seals (``keys.secret("audit-seal")``).
        replica: this chain's id; default :func:`~ragseal.store.default_replica_id`.
        seal_every: events between two seals.

    Raises:
        AuditError: the chain cannot be created (database down, id taken).
    """

    def __init__(self, db: Database, seal_key: bytes, *, replica: str | None = None,
                 seal_every: int = AUDIT_SEAL_EVERY) -> None:
        if len(seal_key) < 16:
            raise ValueError("audit seal key must be at least 16 bytes")
        if seal_every < 1:
            raise ValueError("seal_every must be positive")
        self.replica = replica if replica is not None else default_replica_id()
        if not _REPLICA.match(self.replica):
            raise ValueError("replica id must be 1-128 of [A-Za-z0-9._-]")
        self._db = db
        self._key = seal_key
        self._every = seal_every
        self._lock = threading.Lock()
        self._seq = 0
        self._head = GENESIS
        self._since_seal = 0
        self._closed = False
        self._broken = False
        self._unsettled: tuple[int, str, str] | None = None
        try:
            links = _latest_checkpoints(db, seal_key, _LINKS)
        except ControlPlaneUnavailable:
            raise AuditError("audit: the control-plane database is unavailable") from None
        self._open_record(seal_every, links)

    def __repr__(self) -> str:
        return f"PgAuditLog(replica={self.replica!r}, seq={self._seq})"

    def close(self) -> None:
        """Seal the head (clean shutdown); later records are refused."""
        with self._lock:
            if self._closed:
                return
            try:
                if not self._broken:
                    self._seal("shutdown")
            finally:
                self._closed = True

    # -- under the lock ---------------------------------------------------
    def _build(self, fields: dict[str, object]) -> tuple[dict[str, object], str]:
        if self._broken or self._closed:
            raise AuditError("audit: the chain is closed or failed; records are refused")
        record: dict[str, object] = {"v": 1, "seq": self._seq, "time": _now(),
                                     "replica": self.replica, **fields, "prev": self._head}
        record["hash"] = _digest(record)
        return record, _canonical(record).decode()

    def _append(self, fields: dict[str, object],
                checkpoint_seq: int | None = None) -> str:
        self._settle()
        record, line = self._build(fields)
        # An event is one INSERT (autocommit: one round trip); a seal and its
        # checkpoint are one transaction.
        block = self._db.statement if checkpoint_seq is None else self._db.transaction
        try:
            with block() as conn:
                conn.execute("INSERT INTO ragseal_audit (replica, seq, line) VALUES (%s, %s, %s)",
                             (self.replica, self._seq, line))
                if checkpoint_seq is not None:
                    hash_ = str(record["hash"])
                    conn.execute(
                        "INSERT INTO ragseal_audit_checkpoints (replica, seq, hash, mac)"
                        " VALUES (%s, %s, %s, %s) ON CONFLICT (replica) DO UPDATE SET"
                        " seq = EXCLUDED.seq, hash = EXCLUDED.hash, mac = EXCLUDED.mac,"
                        " at = clock_timestamp()",
                        (self.replica, checkpoint_seq, hash_,
                         _mac(self._key, "checkpoint", self.replica, checkpoint_seq, hash_)))
        except (ControlPlaneUnavailable, psycopg.Error):
            # The commit may or may not have happened (a connection lost at COMMIT):
            # the next append reads the row back before it numbers its own record.
            self._unsettled = (self._seq, str(record["hash"]), line)
            log.error("audit record not written", extra={"replica": self.replica,
                                                         "seq": self._seq})
            raise AuditError("audit: a record could not be written") from None
        self._seq += 1
        self._head = str(record["hash"])
        return self._head

    def _settle(self) -> None:
        """After a failed write: was it committed after all? Continue the chain either way."""
        if self._unsettled is None:
            return
        seq, hash_, line = self._unsettled
        try:
            with self._db.statement() as conn:
                row = conn.execute("SELECT line FROM ragseal_audit WHERE replica = %s"
                                   " AND seq = %s", (self.replica, seq)).fetchone()
        except ControlPlaneUnavailable:
            raise AuditError("audit: the control-plane database is unavailable") from None
        self._unsettled = None
        if row is None:
            return  # not written: the next record takes its number
        if str(row[0]) != line:
            self._broken = True
            raise AuditError("audit: the chain was written by someone else; records are refused")
        self._seq, self._head = seq + 1, hash_

    def _seal(self, reason: str) -> None:
        if self._since_seal == 0 and reason == "explicit":
            return
        self._settle()  # the seal's MAC covers the settled head
        seq = self._seq
        mac = _mac(self._key, "seal", self.replica, seq, self._head)
        self._append({"kind": "seal", "action": "seal", "outcome": "ok", "principal": None,
                      "reason": reason, "mac": mac}, checkpoint_seq=seq)
        self._since_seal = 0


def _checkpoint_ok(key: bytes, replica: str, seq: object, hash_: str, mac: str) -> bool:
    return hmac.compare_digest(mac, _mac(key, "checkpoint", replica, seq, hash_))


def _latest_checkpoints(db: Database, key: bytes, limit: int) -> list[dict[str, object]]:
    with db.transaction() as conn:
        rows = conn.execute("SELECT replica, seq, hash, mac FROM ragseal_audit_checkpoints"
                            " ORDER BY at DESC, replica LIMIT %s", (limit * 4,)).fetchall()
    found = [{"replica": str(r), "seq": int(s), "hash": str(h)} for r, s, h, m in rows
             if _checkpoint_ok(key, str(r), int(s), str(h), str(m))][:limit]
    return sorted(found, key=lambda c: str(c["replica"]))


def _records(db: Database, replica: str) -> Iterator[tuple[int, dict[str, object] | None]]:
    with db.transaction() as conn:
        rows = conn.execute("SELECT line FROM ragseal_audit WHERE replica = %s ORDER BY seq",
                            (replica,)).fetchall()
    for number, (line,) in enumerate(rows):
        try:
            value = json.loads(str(line))
        except ValueError:
            yield number, None
            continue
        yield number, value if isinstance(value, dict) else None


def verify_pg_audit(db: Database, seal_key: bytes) -> AuditReport:
    """Check every writer's chain in the database: hashes, order, seals, checkpoints, links.

    Raises:
        ControlPlaneUnavailable: the database cannot be read.
    """
    report = AuditReport()
    heads: dict[str, dict[int, str]] = {}
    opens: dict[str, list[object]] = {}
    with db.transaction() as conn:
        replicas = [str(r) for (r,) in conn.execute(
            "SELECT DISTINCT replica FROM ragseal_audit ORDER BY replica").fetchall()]
        checkpoints = conn.execute("SELECT replica, seq, hash, mac FROM"
                                   " ragseal_audit_checkpoints ORDER BY replica").fetchall()
    for replica in replicas:
        report.chains += 1
        records = list(_records(db, replica))
        problem, count, seals, since = verify_records(replica, replica, iter(records),
                                                      seal_key, heads)
        report.records += count
        report.seals += seals
        if problem is not None:
            report.problems.append(problem)
            continue
        if since:
            report.unsealed[replica] = since
        first = records[0][1] or {}
        links = first.get("links")
        opens[replica] = links if isinstance(links, list) else []
    names = set(replicas)
    with_checkpoint: set[str] = set()
    for replica, seq, hash_, mac in checkpoints:
        replica = str(replica)
        with_checkpoint.add(replica)
        if not _checkpoint_ok(seal_key, replica, int(seq), str(hash_), str(mac)):
            report.problems.append(AuditProblem(f"checkpoint {replica}", None,
                                                "checkpoint HMAC mismatch"))
            continue
        _check_sealed(report, names, heads, replica, int(seq), str(hash_), "checkpoint")
    for name, links in sorted(opens.items()):
        for link in links:
            if isinstance(link, dict):
                seq = link.get("seq")
                _check_sealed(report, names, heads, str(link.get("replica")),
                              seq if isinstance(seq, int) else None, str(link.get("hash")),
                              f"linked from {name}")
    for replica in sorted(names):
        if heads.get(replica) and replica not in with_checkpoint:
            report.problems.append(AuditProblem(replica, None, "sealed chain without its "
                                                "checkpoint (checkpoint deleted)"))
    return report


def _check_sealed(report: AuditReport, names: set[str], heads: dict[str, dict[int, str]],
                  replica: str, seq: int | None, hash_: str, source: str) -> None:
    if replica not in names:
        report.problems.append(AuditProblem(replica, None, f"chain missing ({source})"))
        return
    if any(p.file == replica for p in report.problems):
        return  # already reported at its first bad record
    if seq is None or heads.get(replica, {}).get(seq) != hash_:
        report.problems.append(AuditProblem(
            replica, seq, f"seal recorded by the {source} is missing (tail truncated or "
                          "rewritten)"))


def read_pg_audit(db: Database, since: datetime | None = None) -> list[dict[str, object]]:
    """Every parseable record of every chain in the database, oldest first."""
    cutoff = since.astimezone(UTC).isoformat(timespec="microseconds") if since else None
    with db.transaction() as conn:
        lines = [str(line) for (line,) in conn.execute(
            "SELECT line FROM ragseal_audit ORDER BY replica, seq").fetchall()]
    records: list[dict[str, object]] = []
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and (cutoff is None or str(rec.get("time", "")) >= cutoff):
            records.append(rec)
    records.sort(key=lambda r: (str(r.get("time", "")), str(r.get("replica", "")),
                                str(r.get("seq", "")).zfill(12)))
    return records
