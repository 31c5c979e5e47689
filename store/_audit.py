"""The audit trail: one hash-chained, periodically sealed JSON-lines file per replica.

Each process that writes audit records owns one chain,
``<folder>/<replica>.jsonl``, created new (``O_EXCL``, mode 0600) when the
:class:`AuditLog` opens. A record is one canonical JSON line carrying
``seq`` (0, 1, ...), ``prev`` (the previous record's hash; 64 zeros for the
first) and ``hash`` (SHA-256 of the canonical JSON of the record without
``hash``). Every ``seal_every`` events, and on :meth:`AuditLog.close`, a
``seal`` record holds ``mac`` = HMAC-SHA256(seal key, replica, seq, prev);
the seal is fsynced and a checkpoint ``<replica>.seal`` (the last seal's
seq and hash, under an HMAC too) is replaced atomically. The first record
of a chain (``open``) links the latest checkpoints of the other chains, so
a whole file removed is noticed by the chains opened after it.

Records hold ids, labels, counts, verdicts, reason codes and keyed hashes,
never document text, queries, answers or tokens: :meth:`AuditLog.record`
accepts only short scalar values under snake_case keys.

Reading the chains back (:func:`verify_audit`, :func:`read_audit`) is
``store/_audit_verify.py``: this module writes.

Errors::

    AuditError             a record could not be written (the caller fails closed)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from ragseal import UnavailableError
from ragseal._keyed import keyed_digest

from ._errors import StoreError
from ._private import private_dir

__all__ = [
    "AUDIT_SEAL_EVERY",
    "Actor",
    "AuditError",
    "AuditLog",
    "default_replica_id",
]

log = logging.getLogger(__name__)

AUDIT_SEAL_EVERY = 100
GENESIS = "0" * 64
_SUFFIX = ".jsonl"
_CHECKPOINT = ".seal"
_LINKS = 8
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_REPLICA = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_MAX_STR = 200
_MAX_LIST = 1000
_RESERVED = frozenset({"v", "seq", "time", "replica", "kind", "action", "outcome",
                       "principal", "prev", "hash", "mac"})

Scalar = str | int | float | bool | None
Value = Scalar | Sequence[Scalar] | Mapping[str, int]


class AuditError(UnavailableError):
    """An audit record could not be written; the operation must fail closed."""


class _Who(Protocol):
    @property
    def sub(self) -> str: ...

    @property
    def tenant(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted, for operator tools that have no token (``cli:<user>``)."""

    sub: str
    tenant: str


def default_replica_id() -> str:
    """``<hostname>-<pid>-<random>``: unique per process start, so chains never collide."""
    host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:64] or "host"
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"


def _canonical(record: Mapping[str, object]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False).encode()


def _digest(record: Mapping[str, object]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(_canonical(body)).hexdigest()


def _mac(key: bytes, *parts: object) -> str:
    return keyed_digest(key, *(str(p) for p in parts)).hex()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _check_value(key: str, value: object) -> Value:
    if not _KEY.match(key) or key in _RESERVED:
        raise ValueError(f"audit field {key!r} is not allowed")
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if len(value) > _MAX_STR:
            raise ValueError(f"audit field {key!r} is too long (ids and codes only)")
        return value
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) and len(k) <= 64 and isinstance(v, int)
                   for k, v in value.items()):
            raise ValueError(f"audit field {key!r} must map names to counts")
        return dict(value)
    if isinstance(value, Sequence) and len(value) <= _MAX_LIST:
        items = list(value)
        for item in items:
            if isinstance(item, str) and len(item) > _MAX_STR:
                raise ValueError(f"audit field {key!r} holds a too long item")
            if not (item is None or isinstance(item, str | bool | int | float)):
                raise ValueError(f"audit field {key!r} holds a non-scalar")
        return items
    raise ValueError(f"audit field {key!r} has an unsupported type")


class EventChain:
    """What every audit chain writer shares (the files here, the database in
    ``store/postgres``): checking an event's fields, appending it under the
    lock, and a seal every ``_every`` events. A writer provides ``_append``
    (one record onto its chain) and ``_seal`` (the seal record and its
    checkpoint), and sets ``_lock``, ``_every`` and ``_since_seal``."""

    _lock: threading.Lock
    _every: int
    _since_seal: int

    def _append(self, fields: dict[str, object]) -> str:
        raise NotImplementedError

    def _seal(self, reason: str) -> None:
        raise NotImplementedError

    def _open_record(self, seal_every: int, links: object) -> None:
        """The chain's first record of this writer's run: its seal interval
        and the checkpoints it links to."""
        with self._lock:
            self._append({"kind": "open", "action": "open", "outcome": "ok",
                          "principal": None, "seal_every": seal_every, "links": links})

    def record(self, action: str, *, principal: _Who | None = None, outcome: str = "ok",
               **fields: object) -> None:
        """Append one event record.

        Args:
            action: what happened (``retrieve``, ``ingest``, ``auth_failed``...).
            principal: who; only ``sub`` and ``tenant`` are kept.
            outcome: ``ok``, ``denied``, ``invalid``, ``not_found``...
            fields: ids, counts, verdicts, codes, keyed hashes: short scalars,
                lists of them, or name -> count maps. Never content.

        Raises:
            AuditError: the record could not be written.
            ValueError: a field is not of an allowed shape (a programming error).
        """
        if not _KEY.match(action) or not _KEY.match(outcome):
            raise ValueError("audit action and outcome must be snake_case codes")
        body: dict[str, object] = {k: _check_value(k, v) for k, v in fields.items()}
        who = None if principal is None else {"sub": principal.sub, "tenant": principal.tenant}
        with self._lock:
            self._append({"kind": "event", "action": action, "outcome": outcome,
                          "principal": who, **body})
            self._since_seal += 1
            if self._since_seal >= self._every:
                self._seal("every")

    def seal(self) -> None:
        """Seal the chain head now (fsync and checkpoint)."""
        with self._lock:
            self._seal("explicit")


class AuditLog(EventChain):
    """Appends audit records to this replica's chain; thread-safe.

    Args:
        folder: the audit folder (``$RAGSEAL_DATA_DIR/audit``), created 0700.
        seal_key: the HMAC key of seals (``keys.secret("audit-seal")``).
        replica: this chain's id (file name); default :func:`default_replica_id`.
        seal_every: events between two seals.

    Raises:
        AuditError: the folder or the chain file cannot be created.
    """

    def __init__(self, folder: Path, seal_key: bytes, *, replica: str | None = None,
                 seal_every: int = AUDIT_SEAL_EVERY) -> None:
        if len(seal_key) < 16:
            raise ValueError("audit seal key must be at least 16 bytes")
        if seal_every < 1:
            raise ValueError("seal_every must be positive")
        self.replica = replica if replica is not None else default_replica_id()
        if not _REPLICA.match(self.replica):
            raise ValueError("replica id must be 1-128 of [A-Za-z0-9._-]")
        self.folder = Path(folder)
        self.path = self.folder / f"{self.replica}{_SUFFIX}"
        self._key = seal_key
        self._every = seal_every
        self._lock = threading.Lock()
        self._seq = 0
        self._head = GENESIS
        self._since_seal = 0
        self._broken = False
        self._fd: int | None = None
        try:
            private_dir(self.folder)  # 0700, parents too, whoever creates it
            links = _latest_checkpoints(self.folder, seal_key, _LINKS)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND,
                               0o600)
        except StoreError as exc:
            raise AuditError(f"audit: {exc}") from None
        except OSError as exc:
            raise AuditError(f"audit: cannot create the chain in {self.folder} "
                             f"({exc.strerror or type(exc).__name__})") from None
        self._open_record(seal_every, links)

    def __repr__(self) -> str:
        return f"AuditLog(replica={self.replica!r}, seq={self._seq})"

    def close(self) -> None:
        """Seal the head (clean shutdown) and close the file."""
        with self._lock:
            if self._fd is None:
                return
            try:
                if not self._broken:
                    self._seal("shutdown")
            finally:
                os.close(self._fd)
                self._fd = None

    # -- under the lock ---------------------------------------------------
    def _append(self, fields: dict[str, object]) -> str:
        if self._broken or self._fd is None:
            raise AuditError("audit: the chain is closed or failed; records are refused")
        record: dict[str, object] = {"v": 1, "seq": self._seq, "time": _now(),
                                     "replica": self.replica, **fields, "prev": self._head}
        record["hash"] = _digest(record)
        line = _canonical(record) + b"\n"
        try:
            written = os.write(self._fd, line)  # O_APPEND, unbuffered: one write per record
            if written != len(line):
                raise OSError("short write")
        except OSError:
            self._broken = True
            log.error("audit record not written", extra={"replica": self.replica,
                                                         "seq": self._seq})
            raise AuditError("audit: a record could not be written") from None
        self._seq += 1
        self._head = str(record["hash"])
        return self._head

    def _seal(self, reason: str) -> None:
        if self._since_seal == 0 and reason == "explicit":
            return
        seq = self._seq
        mac = _mac(self._key, "seal", self.replica, seq, self._head)
        sealed = self._append({"kind": "seal", "action": "seal", "outcome": "ok",
                               "principal": None, "reason": reason, "mac": mac})
        self._since_seal = 0
        assert self._fd is not None
        try:
            os.fsync(self._fd)
            _write_checkpoint(self.folder, self.replica, self._key, seq, sealed)
        except OSError:
            self._broken = True
            raise AuditError("audit: the seal could not be made durable") from None


# -- checkpoints ----------------------------------------------------------

def _write_checkpoint(folder: Path, replica: str, key: bytes, seq: int, hash_: str) -> None:
    data = {"replica": replica, "seq": seq, "hash": hash_,
            "mac": _mac(key, "checkpoint", replica, seq, hash_)}
    tmp = folder / f".{replica}{_CHECKPOINT}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, _canonical(data))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, folder / f"{replica}{_CHECKPOINT}")


def _read_checkpoint(path: Path, key: bytes) -> dict[str, object] | None:
    """A checkpoint whose MAC checks, else None."""
    try:
        data = json.loads(path.read_text("utf-8"))
        ok = hmac.compare_digest(
            str(data["mac"]),
            _mac(key, "checkpoint", data["replica"], data["seq"], data["hash"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not ok or data["replica"] + _CHECKPOINT != path.name:
        return None
    return {"replica": data["replica"], "seq": data["seq"], "hash": data["hash"]}


def _latest_checkpoints(folder: Path, key: bytes, limit: int) -> list[dict[str, object]]:
    paths = sorted(folder.glob(f"*{_CHECKPOINT}"), key=lambda p: p.stat().st_mtime_ns,
                   reverse=True)
    found: list[dict[str, object]] = []
    for path in paths:
        checkpoint = _read_checkpoint(path, key)
        if checkpoint is not None:
            found.append(checkpoint)
        if len(found) == limit:
            break
    return sorted(found, key=lambda c: str(c["replica"]))
