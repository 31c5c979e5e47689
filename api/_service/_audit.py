"""One audit record (docs/AUDIT.md), written by the operation that it records."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ragseal.store import AuditLog
    from ragseal.store.postgres import PgAuditLog  # the shared control plane (postgres extra)

__all__ = ["Auditor", "Who"]


class Who(Protocol):
    """Who acted: a verified principal or an operator (only these two are kept)."""

    @property
    def sub(self) -> str: ...

    @property
    def tenant(self) -> str: ...


class Auditor:
    """Writes records to this process's chain with the base policy's fingerprint.

    Args:
        log: the audit chain, resolved on first use (no trail, no operation:
            :class:`~ragseal.store.AuditError` ends it).
        fingerprint: the base policy's fingerprint now (it may be swapped).
    """

    def __init__(self, log: Callable[[], AuditLog | PgAuditLog],
                 fingerprint: Callable[[], str]) -> None:
        self._log = log
        self._fingerprint = fingerprint

    def __repr__(self) -> str:
        return "Auditor()"

    def require(self) -> None:
        """Open the trail now: an operation that cannot be audited does not start."""
        self._log()

    def record(self, action: str, who: Who | None, outcome: str = "ok",
               **fields: object) -> None:
        """Append one record; fields are ids, counts, codes and keyed hashes only.

        Raises:
            AuditError: not written (the caller's operation fails closed).
        """
        self._log().record(action, principal=who, outcome=outcome,
                           policy=self._fingerprint(), **fields)
