"""Errors of the service layer (joined to the tree in ``ragseal/_errors.py``).

``http_code``/``http_message`` name the HTTP answer (``api/_errors.py``
reads them); the message is the CLI's line. Neither holds a client's input.
"""

from __future__ import annotations

from ragseal import InvalidInputError, NotFoundError

__all__ = ["DocumentNotFound", "NotInTenant", "NothingQuarantined", "QueryTooLong"]


class DocumentNotFound(NotFoundError):
    """No such document in that tenant (another tenant's is absent too)."""

    http_code = "not_found"
    http_message = "no such document"
    exit_code = 2

    def __init__(self, message: str = "no such document") -> None:
        super().__init__(message)


class NotInTenant(DocumentNotFound):
    """``quarantine add``: the tenant has no such document (the CLI exits 1)."""

    exit_code = 1

    def __init__(self) -> None:
        super().__init__("no such document in that tenant")


class NothingQuarantined(NotFoundError):
    """Nothing of that document is held (the CLI exits 1: a failed check)."""

    http_code = "not_found"
    http_message = "no quarantined chunk for that document"
    exit_code = 1

    def __init__(self) -> None:
        super().__init__("no quarantined chunk for that document")


class QueryTooLong(InvalidInputError):
    """A query over ``RAGSEAL_MAX_QUERY_CHARS``."""

    http_code = "invalid_request"

    def __init__(self, limit: int) -> None:
        super().__init__(f"query is too long: at most {limit} characters")
        self.http_message = str(self)
