"""The edge: what every HTTP request meets before a route reads its body.

One plain ASGI middleware (Starlette's ``BaseHTTPMiddleware`` costs a task
group and memory streams per request, about half a millisecond each here)
that, in this order:

1. **refuses a body it would have to read for an anonymous caller**: a
   request that carries a body (``Content-Length`` > 0 or any
   ``Transfer-Encoding``) must present a bearer token the verifier accepts
   *before* a byte of the body is read; otherwise it is the uniform 401.
   A red-team run streamed 2 GiB of chunked multipart with no token, and
   the server spooled all of it to disk before answering 401;
2. **cuts every body off at ``max_body_bytes`` while it streams**: a
   declared length over the limit is refused at once, and the bytes that
   arrive are counted whatever the headers say (chunked transfer has no
   length), so no layer above — JSON, multipart, the upload route — ever
   sees more. A 512 MiB chunked JSON had grown RSS by 1.5 GB;
3. **reads JSON bodies strictly**: nested deeper than
   :data:`~ragseal.classification._safe_parse.MAX_DEPTH`, a duplicate key
   or ``NaN`` is a 422 before FastAPI's ``json.loads`` (which recurses and
   keeps the last of two keys) runs; the body is then handed on unchanged;
4. counts the request in the metrics, and audits every 401 before its
   response starts (when the audit trail cannot take the record the
   client gets 503 ``audit_unavailable`` instead: fail closed).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from ragseal.classification import NotJsonError, UnsafeInputError, loads_json
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragseal import RagsealError

from ._auth import AuthError, TokenVerifier, _bearer_token, remember_verified
from ._errors import error_response, http_error

__all__ = ["EdgeMiddleware"]

_JSON_TYPES = ("application/json",)

Auditor = Callable[..., None]


class _TooLarge(HTTPException):
    """Raised by the counting ``receive`` once the body passes the limit."""

    def __init__(self) -> None:
        super().__init__(413)


def _carries_body(headers: Headers) -> bool:
    if "transfer-encoding" in headers:
        return True
    length = headers.get("content-length")
    return length is not None and length != "0"


def _is_json(headers: Headers) -> bool:
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or media.endswith("+json")


class EdgeMiddleware:
    """Body limit, authentication before any body, strict JSON, metrics, 401 audit.

    Args:
        app: the inner ASGI app.
        max_body: the most bytes of body any request may send.
        audit: ``audit(services, action, principal, outcome, **fields)``
            (:func:`ragseal.api._app.audit`); raises :class:`ApiError` when
            the trail is unavailable.
    """

    def __init__(self, app: ASGIApp, max_body: int, audit: Auditor) -> None:
        self.app = app
        self.max_body = max_body
        self._audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope.setdefault("state", {})  # shared with the routes' request.state
        status = 500
        replaced = False
        too_large = False
        received = 0

        async def edge_send(message: Message) -> None:
            nonlocal status, replaced
            if replaced:
                return  # the original response's body: the client has the replacement
            if message["type"] == "http.response.start":
                status = int(message["status"])
                replacement: Response | None = None
                if too_large and status != 413:
                    # Whatever a layer made of the cut-off body (400, 500), it is a 413.
                    replacement = _too_large()
                elif status == 401:
                    replacement = await self._audit_401(scope)
                if replacement is not None:
                    replaced, status = True, replacement.status_code
                    await replacement(scope, receive, send)
                    return
            await send(message)

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    too_large = True
                    raise _TooLarge
            return message

        try:
            headers = Headers(scope=scope)
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_body):
                await _too_large()(scope, receive, edge_send)
                return
            if _carries_body(headers) and not self._authenticated(scope, headers):
                await error_response(401, "unauthorized", "missing or invalid bearer token",
                                     headers={"WWW-Authenticate": "Bearer"})(
                    scope, receive, edge_send)
                return
            inner_receive: Receive = counting_receive
            if _carries_body(headers) and _is_json(headers):
                try:
                    body = await _read_all(counting_receive)
                except _TooLarge:
                    await _too_large()(scope, receive, edge_send)
                    return
                try:
                    loads_json(body)
                except NotJsonError:
                    pass  # the route's own parser answers (PUT /v1/policy also takes YAML)
                except UnsafeInputError as exc:
                    await error_response(422, "invalid_request", f"request body: {exc}")(
                        scope, receive, edge_send)
                    return
                inner_receive = _replay(body, receive)
            try:
                await self.app(scope, inner_receive, edge_send)
            except _TooLarge:
                if status == 500 and not replaced:
                    await _too_large()(scope, receive, edge_send)
        finally:
            path = _route_template(scope)
            scope["app"].state.metrics.observe(scope["method"], path, status,
                                               time.perf_counter() - started)

    @staticmethod
    def _authenticated(scope: Scope, headers: Headers) -> bool:
        """Whether the bearer token is acceptable; the reason is kept for the audit."""
        verifier = getattr(scope["app"].state, "verifier", None)
        if not isinstance(verifier, TokenVerifier):
            scope["state"]["auth_failure"] = "not_ready"
            return False
        try:
            token = _bearer_token(headers.getlist("authorization"))
            principal = verifier.verify(token)
        except AuthError as exc:
            scope["state"]["auth_failure"] = exc.reason
            return False
        # The route's dependency takes this principal instead of verifying the
        # same token again (api/_auth.py, current_principal).
        remember_verified(scope["state"], verifier, token, principal)
        return True

    async def _audit_401(self, scope: Scope) -> Response | None:
        """Audit the uniform 401 (its reason code is in request.state); the 503 if that fails."""
        reason = str(scope["state"].get("auth_failure") or "unknown")
        route = _route_template(scope)
        try:
            await run_in_threadpool(self._audit, scope["app"].state.services, "auth_failed",
                                    None, "denied", reason=reason[:64],
                                    method=scope["method"], route=route)
        except RagsealError as exc:  # AuditError: 503 audit_unavailable
            answer = http_error(exc)
            return error_response(answer.status, answer.code, answer.message)
        return None


def _route_template(scope: Scope) -> str:
    """The route's path template (never the raw path, which the client chose).

    A request refused here was never routed, so the template is looked up.
    """
    route = scope.get("route")
    if route is not None:
        return str(getattr(route, "path", "unmatched"))
    return _template_in(getattr(scope["app"], "routes", ()), scope) or "unmatched"


def _template_in(routes: Iterable[object], scope: Scope) -> str | None:
    # This FastAPI keeps an included router as one entry without a path
    # (docs/TRAPS.md): look inside it for the route that matches.
    for candidate in routes:
        included = getattr(candidate, "original_router", None)
        if included is not None:
            found = _template_in(getattr(included, "routes", ()), scope)
            if found is not None:
                return found
            continue
        matches = getattr(candidate, "matches", None)
        if matches is None:
            continue
        try:
            match, _ = matches(scope)
        except Exception:  # noqa: BLE001, S112 - a lookup for the audit never fails a request
            continue
        if match is Match.FULL:
            return str(getattr(candidate, "path", "unmatched"))
    return None


def _too_large() -> Response:
    return error_response(413, "too_large", "request body too large")


async def _read_all(receive: Callable[[], Awaitable[Message]]) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # a disconnect: what arrived is all there is
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then defers to the real one (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
