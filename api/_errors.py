"""One error shape for every HTTP failure: ``{"error": {"code", "message"}}``.

Routes and dependencies raise :class:`ApiError` or let a
:class:`~ragseal.RagsealError` of the services below them propagate;
:func:`install_error_handlers` maps both, FastAPI's request validation
errors, Starlette's HTTP exceptions (404, 405, 413, ...) and anything
unexpected to that shape. The tree is mapped to HTTP here and nowhere else
(:func:`http_error`, table ``_MAPPING``; the CLI's one mapping is
``api/cli/_errors.py``). Messages are
fixed strings chosen by the server: a client's input (a query, a document,
a token, an unexpected JSON key) never comes back in an error, and an
unexpected exception becomes a bare 500 whose log line names its type only.

Errors::

    ApiError               an HTTP error with a status, a code and a safe message
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from functools import cache
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragseal import RagsealError

__all__ = ["ApiError", "error_body", "error_response", "http_error", "install_error_handlers"]

logger = logging.getLogger(__name__)

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Only names that look like field names are echoed in a 422; anything else
# (an unexpected JSON key, a dict key) may be user input and is not.
_SAFE_LOC = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MAX_LOCATIONS = 10

# Codes and messages for errors that Starlette or FastAPI raise themselves.
_STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}


class ApiError(RagsealError):
    """An error to answer with ``status`` and ``{"error": {"code", "message"}}``.

    Args:
        status: the HTTP status (4xx or 5xx).
        code: a short snake_case code clients can branch on.
        message: a fixed, human-readable sentence. It must never include
            user input (query or document text, tokens, ids sent by the
            client): it is sent to the client as is.
        headers: extra response headers, e.g. ``WWW-Authenticate``.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not 400 <= status <= 599:
            raise ValueError("ApiError status must be a 4xx or 5xx code")
        if not _CODE.match(code):
            raise ValueError("ApiError code must be snake_case")
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})

    def __repr__(self) -> str:
        return f"ApiError(status={self.status}, code={self.code!r})"


# The tree mapped to HTTP, most specific first: (type, status, code, message).
# A message of None is the error's own, for types whose messages are written
# for the caller (a policy's key path); every other message is fixed here.
_Row = tuple[type[RagsealError], int, str, str | None]
_RETRY = {"Retry-After": "30"}
_RETRY_CODES = frozenset({"keys_unavailable", "store_unavailable", "unavailable"})


@cache
def _mapping() -> tuple[_Row, ...]:
    # Imported here: these modules import this one (routes raise ApiError).
    from ragseal.retrieval import RetrievalIdError
    from ragseal.store import AuditError, KeyringError, StoreError

    from ragseal import InvalidInputError, NotFoundError, UnavailableError

    from ._policies import PolicyRefused, PolicyUnavailable, PolicyVersionNotFound

    return (
        (AuditError, 503, "audit_unavailable",
         "the audit trail is unavailable; the request was not served"),
        (KeyringError, 503, "keys_unavailable",
         "the key provider is unavailable; the request was not served"),
        (StoreError, 503, "store_unavailable",
         "the vector store is unavailable; the request was not served"),
        (PolicyUnavailable, 503, "policy_unavailable",
         "the policy of this tenant cannot be read; ask an operator"),
        (PolicyRefused, 422, "invalid_policy", None),
        (PolicyVersionNotFound, 404, "not_found", "no such version of this tenant's policy"),
        (RetrievalIdError, 422, "invalid_retrieval_id",
         "retrieval_id is invalid, expired or not yours"),
        (InvalidInputError, 422, "invalid_request", "invalid request"),
        (NotFoundError, 404, "not_found", "not found"),
        (UnavailableError, 503, "unavailable", "temporarily unavailable; retry later"),
        (RagsealError, 500, "internal", "internal error"),
    )


def http_error(exc: RagsealError) -> ApiError:
    """The HTTP answer to any error of the tree: the one mapping (see ``_mapping``).

    Args:
        exc: an :class:`ApiError` (returned as is) or any other :class:`RagsealError`;
            a subclass may name its own answer with ``http_code``/``http_message``
            class attributes (the service layer's not-found errors do).
    """
    if isinstance(exc, ApiError):
        return exc
    for kind, status, code, message in _mapping():
        if isinstance(exc, kind):
            code = getattr(exc, "http_code", code)
            message = getattr(exc, "http_message", message)
            return ApiError(status, code, str(exc) if message is None else message,
                            headers=_RETRY if code in _RETRY_CODES else None)
    raise AssertionError("RagsealError is the last row")  # pragma: no cover


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The JSON body of every error response."""
    return {"error": {"code": code, "message": message}}


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An error response, for middleware that cannot raise :class:`ApiError`."""
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def _status_code(status: int) -> str:
    return _STATUS_CODES.get(status, "error" if status < 500 else "internal")


def _status_message(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


def _locations(errors: Iterable[Mapping[str, Any]]) -> list[str]:
    seen: list[str] = []
    for error in errors:
        loc = list(error.get("loc", ()))
        if error.get("type") == "extra_forbidden" and loc:
            loc[-1] = "<unexpected field>"
        parts = [
            str(part)
            if isinstance(part, int)
            or (isinstance(part, str) and (_SAFE_LOC.match(part) or part.startswith("<")))
            else "?"
            for part in loc
        ]
        location = ".".join(parts) or "request"
        if location not in seen:
            seen.append(location)
    return seen


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers or None)


async def _on_ragseal_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RagsealError)
    answer = http_error(exc)
    if answer.status >= 500:
        # The type only, as for any 5xx: what failed, never what it held.
        logger.error("request refused", extra={"error_type": type(exc).__name__})
    return error_response(answer.status, answer.code, answer.message, answer.headers or None)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # include_input would echo the client's values: each problem is described
    # from the route's own model (type, limits), never from what was sent.
    from ._validation import describe_errors

    locations = describe_errors(exc.errors(), request.scope.get("route"))
    shown = ", ".join(locations[:_MAX_LOCATIONS])
    if len(locations) > _MAX_LOCATIONS:
        shown += f" and {len(locations) - _MAX_LOCATIONS} more"
    return error_response(422, "invalid_request", f"invalid request: {shown}")


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    # The detail is ignored: Starlette and FastAPI sometimes put request
    # details in it, and the status alone says enough.
    return error_response(
        exc.status_code,
        _status_code(exc.status_code),
        _status_message(exc.status_code),
        exc.headers,
    )


def _log_internal(exc: BaseException) -> None:
    # The type only: an exception's message or traceback may carry content.
    logger.error("unhandled error", extra={"error_type": type(exc).__name__})


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log_internal(exc)
    return error_response(500, "internal", "internal error")


class _InternalErrorMiddleware:
    """Answers an unexpected exception with the bare 500 and stops it there.

    Starlette's outermost error middleware re-raises after answering, which
    makes the server log the traceback; this one sits inside it and does not.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # the last line of defence
            _log_internal(exc)
            if started:
                # Too late for a clean answer; the server closes the connection.
                return
            await error_response(500, "internal", "internal error")(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Map every error a request can meet to the contract's error body.

    Call once while building the app, before it starts.
    """
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RagsealError, _on_ragseal_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
    app.add_middleware(_InternalErrorMiddleware)
