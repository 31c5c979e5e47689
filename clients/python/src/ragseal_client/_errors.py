"""One exception class per contract error code, under :class:`RagsealError`.

The server answers every failure with ``{"error": {"code", "message"}}``
(CONTRACT.md). :func:`error_from_response` picks the class by ``code``; a
code this client does not know yet (the server grows) becomes the base
:class:`RagsealError`, carrying its status and code, so callers that catch
the base keep working. A body that is not the contract's shape (a proxy's
HTML page) is never echoed: the message is the HTTP reason phrase.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import httpx

__all__ = [
    "AuditUnavailableError",
    "AuthenticationError",
    "DocumentRefusedError",
    "GatewayDisabledError",
    "InvalidAclError",
    "InvalidPolicyError",
    "InvalidRequestError",
    "InvalidRetrievalIdError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RagsealConnectionError",
    "RagsealError",
    "RateLimitedError",
    "RequestTimeoutError",
    "UnavailableError",
    "UnsupportedTypeError",
    "error_from_response",
]

_MAX_MESSAGE = 500


class RagsealError(Exception):
    """A ragseal API error: HTTP ``status``, contract ``code`` and the server's message.

    ``retry_after`` is the server's ``Retry-After`` in seconds, when it sent one.
    """

    status: int
    code: str
    message: str
    retry_after: float | None

    def __init__(self, status: int, code: str, message: str,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r})"


class RagsealConnectionError(RagsealError):
    """The server could not be reached or did not answer in time (no HTTP status)."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "connection_error", message)


class AuthenticationError(RagsealError):
    """401 ``unauthorized``: missing, malformed, expired or foreign token."""


class PermissionDeniedError(RagsealError):
    """403 ``forbidden``: the principal lacks the role (e.g. ``ingestor``, ``steward``)."""


class NotFoundError(RagsealError):
    """404 ``not_found`` (also a document of another tenant)."""


class GatewayDisabledError(NotFoundError):
    """404 ``gateway_disabled``: the server has no upstream LLM configured."""


class PayloadTooLargeError(RagsealError):
    """413 ``too_large``."""


class InvalidRequestError(RagsealError):
    """422 ``invalid_request``: the body does not fit the route's schema."""


class InvalidPolicyError(InvalidRequestError):
    """422 ``invalid_policy``: the message names the offending key."""


class InvalidAclError(InvalidRequestError):
    """422 ``invalid_acl``."""


class UnsupportedTypeError(InvalidRequestError):
    """422 ``unsupported_type``: the document's file type is not ingested."""


class DocumentRefusedError(InvalidRequestError):
    """422 ``document_refused``: the document could not be ingested."""


class InvalidRetrievalIdError(InvalidRequestError):
    """422 ``invalid_retrieval_id``: altered, expired or another principal's id."""


class RateLimitedError(RagsealError):
    """429 ``rate_limited``; see ``retry_after``."""


class UnavailableError(RagsealError):
    """503 ``unavailable``."""


class RequestTimeoutError(UnavailableError):
    """503 ``timeout``: the server gave up on the request."""


class AuditUnavailableError(UnavailableError):
    """503 ``audit_unavailable``: the request was refused because it could not be audited."""


_BY_CODE: dict[str, type[RagsealError]] = {
    "unauthorized": AuthenticationError,
    "forbidden": PermissionDeniedError,
    "not_found": NotFoundError,
    "gateway_disabled": GatewayDisabledError,
    "too_large": PayloadTooLargeError,
    "invalid_request": InvalidRequestError,
    "invalid_policy": InvalidPolicyError,
    "invalid_acl": InvalidAclError,
    "unsupported_type": UnsupportedTypeError,
    "document_refused": DocumentRefusedError,
    "invalid_retrieval_id": InvalidRetrievalIdError,
    "rate_limited": RateLimitedError,
    "unavailable": UnavailableError,
    "timeout": RequestTimeoutError,
    "audit_unavailable": AuditUnavailableError,
}


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds only; a date is ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds < 1e6 else None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


def error_from_response(response: httpx.Response) -> RagsealError:
    """The exception for an error response (status >= 400)."""
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    code, message = f"http_{status}", _phrase(status)
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        code = error["code"][:64]
        if isinstance(error.get("message"), str):
            message = error["message"][:_MAX_MESSAGE]
        cls = _BY_CODE.get(code, RagsealError)
    else:
        cls = RagsealError
    return cls(status, code, message, retry_after)
