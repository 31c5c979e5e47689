"""Request limits the API enforces besides validation: rate and time.

Rate limiting is a token bucket per principal, keyed by ``(tenant, sub)``
of the verified token: ``Settings.rate_limit_per_minute`` tokens, refilled
continuously, so a principal may burst up to one minute's allowance and then
gets one request every ``60 / rate`` seconds. ``0`` turns it off. Buckets
live **in memory, per replica**: behind a load balancer with N replicas a
principal may reach up to N times the rate, unless ``RAGSEAL_DATABASE_URL``
is set: then the buckets are in the shared control plane
(``store/postgres/_limits.py``, docs/CONTROL-PLANE.md) and count once for all.
Unauthenticated requests never reach a bucket (they fail with 401 first);
limiting them by address belongs to the proxy in front.

The request timeout is an ASGI middleware: the rest of the app runs in its
own task and, when the deadline passes first, the client gets a 503 with the
error body at once. Caveat (Starlette): sync routes run in a worker thread
and a thread cannot be interrupted, so the work itself keeps going until it
returns and its result is dropped; the deadline bounds what the client
waits, not what the server spends. A response that has already started
cannot be replaced, so it is let finish.

Errors::

    ApiError(429, "rate_limited")   raised by :func:`rate_limited_principal`
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from ragseal.retrieval import Principal
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._auth import current_principal
from ._errors import ApiError, error_response

__all__ = [
    "DEFAULT_REQUEST_TIMEOUT_S",
    "RateLimiter",
    "TimeoutMiddleware",
    "rate_limited_principal",
]

log = logging.getLogger(__name__)

DEFAULT_REQUEST_TIMEOUT_S = 30.0
_MAX_BUCKETS = 100_000


class RateLimiter:
    """Token buckets keyed by principal; thread-safe (sync routes run in threads).

    Args:
        per_minute: requests a principal may make per minute; 0 disables.
        clock: monotonic seconds (tests pass a fake one).
        max_buckets: buckets kept; the least recently used go first. A
            forgotten bucket comes back full, which only ever errs lenient.
    """

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = _MAX_BUCKETS,
    ) -> None:
        if per_minute < 0:
            raise ValueError("per_minute must be >= 0")
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._max = max_buckets
        self._lock = threading.Lock()
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def acquire(self, key: tuple[str, str]) -> float | None:
        """Take one token for ``key``: None when allowed, else seconds to wait."""
        if not self.enabled:
            return None
        now = self._clock()
        with self._lock:
            tokens, stamp = self._buckets.pop(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - stamp) * self._rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = None
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self._rate
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        return wait


async def rate_limited_principal(
    request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> Principal:
    """The authenticated principal, after it took a token from its bucket.

    Raises:
        ApiError: 429 with ``Retry-After`` (whole seconds) when the bucket is empty.
    """
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        return principal
    wait = limiter.acquire((principal.tenant, principal.sub))
    if wait is not None:
        retry_after = max(1, math.ceil(wait))
        log.info("rate limited", extra={"tenant": principal.tenant,
                                        "retry_after": retry_after})
        raise ApiError(429, "rate_limited", "too many requests; retry later",
                       headers={"Retry-After": str(retry_after)})
    return principal


class TimeoutMiddleware:
    """Answers 503 ``timeout`` when the app does not start answering in time.

    Args:
        app: the inner ASGI app.
        timeout: seconds; ``None`` or ``<= 0`` disables the deadline.
    """

    def __init__(self, app: ASGIApp, timeout: float | None = DEFAULT_REQUEST_TIMEOUT_S) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The app's state may override the deadline (create_app sets it; tests lower it).
        timeout = getattr(getattr(scope.get("app"), "state", None), "request_timeout",
                          self.timeout)
        if scope["type"] != "http" or not timeout or timeout <= 0:
            await self.app(scope, receive, send)
            return
        started = False
        expired = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if expired:
                return  # the client already has its 503
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if done:
            task.result()  # re-raise what the app raised
            return
        if started:
            # Streaming already began; wait for it rather than cut a body short.
            await task
            return
        expired = True
        task.cancel()
        task.add_done_callback(_discard_outcome)
        route = getattr(scope.get("route"), "path", "unmatched")
        log.warning("request timed out", extra={"route": route, "timeout_s": timeout})
        await error_response(503, "timeout", "the request took too long; try again later",
                             headers={"Retry-After": "1"})(scope, receive, send)


def _discard_outcome(task: asyncio.Future[None]) -> None:
    # The abandoned work may still finish or fail; its outcome has no reader.
    if not task.cancelled():
        exc = task.exception()
        if exc is not None:
            log.debug("abandoned request failed", extra={"error_type": type(exc).__name__})
