"""``RagsealClient`` and ``AsyncRagsealClient``: the contract's routes over httpx.

Why a client at all: a chatbot backend needs five routes, not ragseal's ML
stack. Each call carries the **end user's** bearer token — given per call,
or by a token provider the client calls for every request — so one client
object serves many users and never mixes them up; nothing is cached.

Retries happen only on 429 and 503 (the server said "later"), honouring
``Retry-After`` up to ``max_retry_wait`` seconds; a longer wait is the
caller's decision, so the error is raised with ``retry_after`` set. Nothing
is logged: not the query, not the answer, not the token; ``repr`` shows the
base URL only.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Generic, TypeVar
from urllib.parse import quote

import anyio
import httpx

from ._errors import RagsealConnectionError, RagsealError, error_from_response, parse_retry_after
from ._models import (
    Document,
    InspectResult,
    Policy,
    PolicyVersion,
    QuarantineAdd,
    QuarantineList,
    Release,
    Retrieval,
    UploadAccepted,
)

__all__ = ["AsyncRagsealClient", "RagsealClient", "TokenProvider", "AsyncTokenProvider"]

TokenProvider = Callable[[], str]
AsyncTokenProvider = Callable[[], "str | Awaitable[str]"]
FileInput = str | Path | bytes | IO[bytes]

T = TypeVar("T")

_RETRY_STATUSES = frozenset({429, 503})
_USER_AGENT = "ragseal-client/0.1.0"


@dataclass(frozen=True)
class _Call(Generic[T]):
    """One request of a route and how to read its answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    json_body: Any = None
    content: bytes | None = None
    content_type: str | None = None
    files: Mapping[str, tuple[str, bytes]] | None = None
    data: Mapping[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _check_token(token: object) -> str:
    if not isinstance(token, str) or not token or any(c.isspace() for c in token):
        # The value itself is never echoed.
        raise ValueError("the bearer token must be a non-empty string without whitespace")
    return token


def _segment(value: str) -> str:
    if not value:
        raise ValueError("an id must not be empty")
    return quote(value, safe="")


def _document(response: httpx.Response) -> Document | UploadAccepted:
    if response.status_code == 202:
        return UploadAccepted.model_validate(response.json())
    return Document.model_validate(response.json())


def _none(response: httpx.Response) -> None:
    return None


def _policy(response: httpx.Response) -> Policy:
    data = response.json()
    if not isinstance(data, dict):
        raise RagsealError(response.status_code, "unexpected_response",
                           "the policy is not a JSON object")
    return Policy.from_json(data)


def _versions(response: httpx.Response) -> list[PolicyVersion]:
    data = response.json()
    items = data.get("versions", data) if isinstance(data, dict) else data
    return [PolicyVersion.model_validate(v) for v in items]


def _read_file(file: FileInput, filename: str | None) -> tuple[str, bytes]:
    if isinstance(file, str | Path):
        path = Path(file)
        return filename or path.name, path.read_bytes()
    if isinstance(file, bytes):
        if not filename:
            raise ValueError("give filename= with bytes: the server picks the parser by suffix")
        return filename, file
    name = filename or Path(str(getattr(file, "name", ""))).name
    if not name:
        raise ValueError("give filename=: the server picks the parser by suffix")
    return name, file.read()


# -- the routes, shared by both clients ------------------------------------------
def _retrieve(query: str, top_k: int, pseudonymize: bool) -> _Call[Retrieval]:
    body: dict[str, Any] = {"query": query, "top_k": top_k}
    if pseudonymize:
        body["pseudonymize"] = True
    return _Call("POST", "/v1/retrieve", lambda r: Retrieval.model_validate(r.json()),
                 json_body=body)


def _inspect(answer: str, retrieval_id: str | None) -> _Call[InspectResult]:
    return _Call("POST", "/v1/inspect", lambda r: InspectResult.model_validate(r.json()),
                 json_body={"answer": answer, "retrieval_id": retrieval_id})


def _upload(file: FileInput, filename: str | None,
            acl: Mapping[str, Any] | None) -> _Call[Document | UploadAccepted]:
    name, payload = _read_file(file, filename)
    data = {"acl": json.dumps(dict(acl))} if acl is not None else None
    return _Call("POST", "/v1/documents", _document, files={"file": (name, payload)}, data=data)


def _delete(doc_id: str) -> _Call[None]:
    return _Call("DELETE", f"/v1/documents/{_segment(doc_id)}", _none)


def _get_policy() -> _Call[Policy]:
    return _Call("GET", "/v1/policy", _policy)


def _put_policy(policy: str | Mapping[str, Any]) -> _Call[Policy]:
    if isinstance(policy, str):
        return _Call("PUT", "/v1/policy", _policy, content=policy.encode("utf-8"),
                     content_type="application/yaml")
    return _Call("PUT", "/v1/policy", _policy, content=json.dumps(dict(policy)).encode(),
                 content_type="application/json")


def _policy_versions() -> _Call[list[PolicyVersion]]:
    return _Call("GET", "/v1/policy/versions", _versions)


def _rollback(version: int) -> _Call[Policy]:
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError("version must be a non-negative integer")
    return _Call("POST", "/v1/policy/rollback", _policy, json_body={"version": version})


def _quarantine() -> _Call[QuarantineList]:
    return _Call("GET", "/v1/quarantine", lambda r: QuarantineList.model_validate(r.json()))


def _quarantine_add(doc_id: str) -> _Call[QuarantineAdd]:
    return _Call("POST", f"/v1/quarantine/{_segment(doc_id)}",
                 lambda r: QuarantineAdd.model_validate(r.json()))


def _release(doc_id: str) -> _Call[Release]:
    return _Call("POST", f"/v1/quarantine/{_segment(doc_id)}/release",
                 lambda r: Release.model_validate(r.json()))


class _Base:
    def __init__(self, base_url: str, *, timeout: float, max_retries: int,
                 max_retry_wait: float) -> None:
        if max_retries < 0 or max_retry_wait < 0:
            raise ValueError("max_retries and max_retry_wait must be >= 0")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, token=<redacted>)"

    def _request_args(self, call: _Call[Any], token: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {_check_token(token)}", "Accept": "application/json"}
        if call.content_type:
            headers["Content-Type"] = call.content_type
        args: dict[str, Any] = {"headers": headers}
        if call.json_body is not None:
            args["json"] = call.json_body
        if call.content is not None:
            args["content"] = call.content
        if call.files is not None:
            args["files"] = dict(call.files)
        if call.data is not None:
            args["data"] = dict(call.data)
        return args

    def _delay(self, attempt: int, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying, or None to raise now."""
        if response.status_code not in _RETRY_STATUSES or attempt >= self.max_retries:
            return None
        after = parse_retry_after(response.headers.get("retry-after"))
        if after is None:
            after = min(0.25 * 2**attempt, self.max_retry_wait)
        return after if after <= self.max_retry_wait else None

    @staticmethod
    def _finish(call: _Call[T], response: httpx.Response) -> T:
        if response.status_code >= 400:
            raise error_from_response(response)
        try:
            return call.parse(response)
        except ValueError:
            # Not the contract's JSON (a proxy in between): never echo the body.
            raise RagsealError(response.status_code, "unexpected_response",
                               "the server's answer is not the expected JSON") from None


class RagsealClient(_Base):
    """A synchronous client. Thread-safe (one ``httpx.Client`` pool).

    Args:
        base_url: the ragseal server, e.g. ``http://127.0.0.1:8000``.
        token: the default token: a fixed string (a single-user script), or
            a callable returning the current end user's token, called for
            every request (e.g. from your request context). Each method also
            takes ``token=``, which wins.
        timeout: seconds for connect, read and write of one attempt.
        max_retries: retries on 429/503 (0 disables them).
        max_retry_wait: the longest ``Retry-After`` honoured, in seconds.
        http_client: an ``httpx.Client`` to use (its base URL is ignored).
    """

    def __init__(self, base_url: str, *, token: str | TokenProvider | None = None,
                 timeout: float = 30.0, max_retries: int = 2, max_retry_wait: float = 10.0,
                 http_client: httpx.Client | None = None) -> None:
        super().__init__(base_url, timeout=timeout, max_retries=max_retries,
                         max_retry_wait=max_retry_wait)
        if token is not None and not (callable(token) or isinstance(token, str)):
            raise TypeError("token must be a string or a callable returning one")
        self._provider = token
        self._owns = http_client is None
        self._http = http_client or httpx.Client(
            timeout=timeout, headers={"User-Agent": _USER_AGENT}, follow_redirects=False)

    def __enter__(self) -> RagsealClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns:
            self._http.close()

    def _token(self, token: str | None) -> str:
        if token is not None:
            return token
        if self._provider is None:
            raise ValueError("no token: pass token= or give the client a token provider")
        if isinstance(self._provider, str):
            return self._provider
        return self._provider()

    def _send(self, call: _Call[T], token: str | None) -> T:
        args = self._request_args(call, self._token(token))
        url = self.base_url + call.path
        attempt = 0
        while True:
            try:
                response = self._http.request(call.method, url, timeout=self.timeout, **args)
            except httpx.TimeoutException:
                raise RagsealConnectionError("the request to ragseal timed out") from None
            except httpx.TransportError as exc:
                raise RagsealConnectionError(
                    f"could not reach ragseal ({type(exc).__name__})") from None
            delay = self._delay(attempt, response)
            if delay is None:
                return self._finish(call, response)
            response.close()
            time.sleep(delay)
            attempt += 1

    def retrieve(self, query: str, *, top_k: int = 5, pseudonymize: bool = False,
                 token: str | None = None) -> Retrieval:
        """Chunks the user may see for ``query``, best first."""
        return self._send(_retrieve(query, top_k, pseudonymize), token)

    def inspect(self, answer: str, retrieval_id: str | None = None, *,
                token: str | None = None) -> InspectResult:
        """Inspect a generated answer; show ``result.answer``, never the original."""
        return self._send(_inspect(answer, retrieval_id), token)

    def upload(self, file: FileInput, *, filename: str | None = None,
               acl: Mapping[str, Any] | None = None,
               token: str | None = None) -> Document | UploadAccepted:
        """Ingest a document (role ``ingestor``); ``acl``: groups, users, level."""
        return self._send(_upload(file, filename, acl), token)

    def delete(self, doc_id: str, *, token: str | None = None) -> None:
        """Erase a document (role ``ingestor``)."""
        self._send(_delete(doc_id), token)

    def get_policy(self, *, token: str | None = None) -> Policy:
        """The caller tenant's policy in force (role ``steward``)."""
        return self._send(_get_policy(), token)

    def put_policy(self, policy: str | Mapping[str, Any], *, token: str | None = None) -> Policy:
        """Store a new policy version: YAML text or a JSON-able mapping (role ``steward``)."""
        return self._send(_put_policy(policy), token)

    def policy_versions(self, *, token: str | None = None) -> list[PolicyVersion]:
        """The tenant's policy versions (role ``steward``)."""
        return self._send(_policy_versions(), token)

    def rollback_policy(self, version: int, *, token: str | None = None) -> Policy:
        """Make a copy of ``version`` the newest (role ``steward``)."""
        return self._send(_rollback(version), token)

    def quarantine(self, *, token: str | None = None) -> QuarantineList:
        """Documents with quarantined chunks (role ``steward``)."""
        return self._send(_quarantine(), token)

    def quarantine_document(self, doc_id: str, *, token: str | None = None) -> QuarantineAdd:
        """Quarantine a document now (role ``steward``; reversible with :meth:`release`)."""
        return self._send(_quarantine_add(doc_id), token)

    def release(self, doc_id: str, *, token: str | None = None) -> Release:
        """Release a document's quarantined chunks (role ``steward``)."""
        return self._send(_release(doc_id), token)


class AsyncRagsealClient(_Base):
    """The asynchronous client; same methods as :class:`RagsealClient`, awaited.

    ``token`` may be a plain or an async callable.
    """

    def __init__(self, base_url: str, *, token: str | AsyncTokenProvider | None = None,
                 timeout: float = 30.0, max_retries: int = 2, max_retry_wait: float = 10.0,
                 http_client: httpx.AsyncClient | None = None) -> None:
        super().__init__(base_url, timeout=timeout, max_retries=max_retries,
                         max_retry_wait=max_retry_wait)
        if token is not None and not (callable(token) or isinstance(token, str)):
            raise TypeError("token must be a string or a callable returning one")
        self._provider = token
        self._owns = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=timeout, headers={"User-Agent": _USER_AGENT}, follow_redirects=False)

    async def __aenter__(self) -> AsyncRagsealClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns:
            await self._http.aclose()

    async def _token(self, token: str | None) -> str:
        if token is not None:
            return token
        if self._provider is None:
            raise ValueError("no token: pass token= or give the client a token provider")
        if isinstance(self._provider, str):
            return self._provider
        value = self._provider()
        if inspect.isawaitable(value):
            value = await value
        return value

    async def _send(self, call: _Call[T], token: str | None) -> T:
        args = self._request_args(call, await self._token(token))
        url = self.base_url + call.path
        attempt = 0
        while True:
            try:
                response = await self._http.request(call.method, url, timeout=self.timeout,
                                                    **args)
            except httpx.TimeoutException:
                raise RagsealConnectionError("the request to ragseal timed out") from None
            except httpx.TransportError as exc:
                raise RagsealConnectionError(
                    f"could not reach ragseal ({type(exc).__name__})") from None
            delay = self._delay(attempt, response)
            if delay is None:
                return self._finish(call, response)
            await response.aclose()
            await anyio.sleep(delay)
            attempt += 1

    async def retrieve(self, query: str, *, top_k: int = 5, pseudonymize: bool = False,
                       token: str | None = None) -> Retrieval:
        """Chunks the user may see for ``query``, best first."""
        return await self._send(_retrieve(query, top_k, pseudonymize), token)

    async def inspect(self, answer: str, retrieval_id: str | None = None, *,
                      token: str | None = None) -> InspectResult:
        """Inspect a generated answer; show ``result.answer``, never the original."""
        return await self._send(_inspect(answer, retrieval_id), token)

    async def upload(self, file: FileInput, *, filename: str | None = None,
                     acl: Mapping[str, Any] | None = None,
                     token: str | None = None) -> Document | UploadAccepted:
        """Ingest a document (role ``ingestor``); ``acl``: groups, users, level."""
        return await self._send(_upload(file, filename, acl), token)

    async def delete(self, doc_id: str, *, token: str | None = None) -> None:
        """Erase a document (role ``ingestor``)."""
        await self._send(_delete(doc_id), token)

    async def get_policy(self, *, token: str | None = None) -> Policy:
        """The caller tenant's policy in force (role ``steward``)."""
        return await self._send(_get_policy(), token)

    async def put_policy(self, policy: str | Mapping[str, Any], *,
                         token: str | None = None) -> Policy:
        """Store a new policy version: YAML text or a JSON-able mapping (role ``steward``)."""
        return await self._send(_put_policy(policy), token)

    async def policy_versions(self, *, token: str | None = None) -> list[PolicyVersion]:
        """The tenant's policy versions (role ``steward``)."""
        return await self._send(_policy_versions(), token)

    async def rollback_policy(self, version: int, *, token: str | None = None) -> Policy:
        """Make a copy of ``version`` the newest (role ``steward``)."""
        return await self._send(_rollback(version), token)

    async def quarantine(self, *, token: str | None = None) -> QuarantineList:
        """Documents with quarantined chunks (role ``steward``)."""
        return await self._send(_quarantine(), token)

    async def quarantine_document(self, doc_id: str, *,
                                  token: str | None = None) -> QuarantineAdd:
        """Quarantine a document now (role ``steward``; reversible with :meth:`release`)."""
        return await self._send(_quarantine_add(doc_id), token)

    async def release(self, doc_id: str, *, token: str | None = None) -> Release:
        """Release a document's quarantined chunks (role ``steward``)."""
        return await self._send(_release(doc_id), token)
