"""Request limits: rate (429), time (503), size (413), query and top_k (422), uploads.

A stub composition root keeps these fast: the limits sit in front of the
routes and never need the models. Every refusal must carry the contract's
error body and nothing the client sent.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from ragseal.api._app import create_app
from ragseal.api._auth import mint_token
from ragseal.api._limits import RateLimiter
from ragseal.api._settings import Settings

SECRET = "limits-test-secret-" + "k" * 40  # noqa: S105 - test value
STEWARD = dict(sub="steward@acme.example", tenant="acme", groups=["all-staff"], roles=["steward"])
EMPLOYEE = dict(sub="emp@acme.example", tenant="acme", groups=["all-staff"], roles=["employee"])
INGESTOR = dict(sub="bot@acme.example", tenant="acme", groups=["all-staff"], roles=["ingestor"])
CANARY = "CANARY-limits-7f3e"


def bearer(**claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, **claims)}"}


# --- a stub composition root --------------------------------------------------


@dataclass
class _Retrieval:
    retrieval_id: str = "rid"
    chunks: tuple[Any, ...] = ()
    dropped: int = 0
    context: str = ""


class _Retriever:
    def retrieve(self, principal: Any, query: str, top_k: int, **_: Any) -> _Retrieval:
        return _Retrieval()


class _Policy:
    fingerprint = "stub"

    def to_json(self) -> dict[str, object]:
        return {"levels": ["public"]}


class _Audit:
    def record(self, action: str, **fields: Any) -> None: ...


class _Store:
    def scroll(self, tenant: str | None = None) -> Iterator[Any]:
        yield from ()


class _Ids:
    def keyed_hash(self, purpose: str, value: str) -> str:
        return "h"


@dataclass
class StubServices:
    """Just enough of ``Services`` for the routes in front of the models."""

    ingested: list[str] = field(default_factory=list)
    retriever: _Retriever = field(default_factory=_Retriever)
    policy: _Policy = field(default_factory=_Policy)
    audit: _Audit = field(default_factory=_Audit)
    ids: _Ids = field(default_factory=_Ids)
    store: _Store = field(default_factory=_Store)

    def warm_up(self) -> None: ...

    def close(self) -> None: ...

    def erase(self, tenant: str, doc_id: str) -> bool:
        return False

    def policy_for(self, tenant: str) -> Any:  # no MFA requirement
        return SimpleNamespace(admin=SimpleNamespace(require_mfa=()))

    def for_tenant(self, tenant: str) -> Any:  # the same stub paths for every tenant
        return self


def make_app(**overrides: Any) -> FastAPI:
    return create_app(Settings(jwt_secret=SECRET, **overrides), StubServices())  # type: ignore[arg-type]


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"error": {"code": code, "message": response.json()["error"][
        "message"]}}
    assert CANARY not in response.text and "Traceback" not in response.text


# --- rate limiting -----------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_when_bucket_empty_then_wait_is_time_to_next_token() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock)
    key = ("acme", "alice")
    assert [limiter.acquire(key) for _ in range(3)] == [None, None, None]
    wait = limiter.acquire(key)
    assert wait == pytest.approx(20.0)
    clock.now += 19.9
    assert limiter.acquire(key) is not None
    clock.now += 0.2
    assert limiter.acquire(key) is None


def test_when_keys_differ_then_buckets_are_independent() -> None:
    limiter = RateLimiter(1, clock=FakeClock())
    assert limiter.acquire(("acme", "alice")) is None
    assert limiter.acquire(("acme", "alice")) is not None
    assert limiter.acquire(("acme", "bob")) is None
    assert limiter.acquire(("globex", "alice")) is None


def test_when_rate_is_zero_then_never_limited() -> None:
    limiter = RateLimiter(0)
    assert not limiter.enabled
    assert all(limiter.acquire(("acme", "alice")) is None for _ in range(10_000))


def test_when_idle_long_then_bucket_refills_only_to_capacity() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, clock=clock)
    clock.now += 3600
    assert [limiter.acquire(("t", "u")) is None for _ in range(3)] == [True, True, False]


def test_when_many_principals_then_buckets_stay_bounded() -> None:
    limiter = RateLimiter(5, max_buckets=100)
    for i in range(1000):
        limiter.acquire(("acme", f"user{i}"))
    assert len(limiter._buckets) == 100


def test_when_negative_rate_then_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(-1)


def test_when_principal_over_rate_then_429_with_retry_after() -> None:
    with TestClient(make_app(rate_limit_per_minute=2)) as c:
        statuses = [c.post("/v1/retrieve", json={"query": "q"}, headers=bearer(**STEWARD)).status_code
                    for _ in range(2)]
        assert statuses == [200, 200]
        r = c.post("/v1/retrieve", json={"query": "q"}, headers=bearer(**STEWARD))
        assert_error(r, 429, "rate_limited")
        assert 1 <= int(r.headers["Retry-After"]) <= 30
        # Another principal, or the same sub in another tenant, has its own bucket.
        assert c.post("/v1/retrieve", json={"query": "q"}, headers=bearer(**dict(STEWARD, sub="s2"))).status_code == 200
        assert c.post("/v1/retrieve", json={"query": "q"},
                     headers=bearer(**dict(STEWARD, tenant="globex"))).status_code == 200
        # Every principal route draws from the same bucket.
        r = c.post("/v1/retrieve", json={"query": "x"}, headers=bearer(**STEWARD))
        assert_error(r, 429, "rate_limited")
        metrics = c.get("/metrics").text
        assert 'ragseal_denied_total{reason="rate_limited"} 2.0' in metrics


def test_when_unauthenticated_then_401_before_any_bucket() -> None:
    with TestClient(make_app(rate_limit_per_minute=1)) as c:
        for _ in range(3):
            assert_error(c.post("/v1/retrieve", json={"query": "q"}), 401, "unauthorized")
        assert c.post("/v1/retrieve", json={"query": "q"}, headers=bearer(**STEWARD)).status_code == 200


def test_when_rate_limit_off_then_no_429() -> None:
    with TestClient(make_app(rate_limit_per_minute=0)) as c:
        assert all(c.post("/v1/retrieve", json={"query": "q"}, headers=bearer(**STEWARD)).status_code == 200
                   for _ in range(200))


# --- request timeout -----------------------------------------------------------


def _slow_app(timeout: float) -> FastAPI:
    app = make_app()
    app.state.request_timeout = timeout

    @app.get("/slow-sync")
    def slow_sync() -> dict[str, str]:
        time.sleep(0.5)
        return {"text": CANARY}

    @app.get("/slow-async")
    async def slow_async() -> dict[str, str]:
        await asyncio.sleep(0.5)
        return {"text": CANARY}

    @app.get("/fast")
    def fast() -> dict[str, str]:
        return {"ok": "yes"}

    return app


@pytest.mark.parametrize("path", ["/slow-sync", "/slow-async"])
def test_when_route_exceeds_deadline_then_503_with_error_body(path: str) -> None:
    with TestClient(_slow_app(0.05)) as c:
        r = c.get(path)
        assert_error(r, 503, "timeout")
        assert c.get("/fast").json() == {"ok": "yes"}
        metrics = c.get("/metrics").text
        assert f'route="{path}",status="503"' in metrics


def test_when_route_within_deadline_then_answered() -> None:
    with TestClient(_slow_app(5.0)) as c:
        assert c.get("/slow-sync").json() == {"text": CANARY}


def test_when_default_app_then_deadline_is_set() -> None:
    app = make_app()
    assert 0 < app.state.request_timeout <= 60


# --- size, query, top_k, uploads --------------------------------------------


def test_when_body_over_limit_then_413(client: TestClient) -> None:
    size = Settings(jwt_secret=SECRET).max_body_bytes + 1
    r = client.post("/v1/retrieve", content=b"{" + b" " * size + b"}",
                    headers={**bearer(**EMPLOYEE), "content-type": "application/json"})
    assert_error(r, 413, "too_large")


def test_when_content_length_not_a_number_then_413(client: TestClient) -> None:
    r = client.post("/v1/retrieve", content=b"{}", headers={
        **bearer(**EMPLOYEE), "content-type": "application/json", "content-length": "-5"})
    assert r.status_code in {400, 413}


def test_when_query_over_setting_then_422_without_echo() -> None:
    with TestClient(make_app(max_query_chars=20)) as c:
        r = c.post("/v1/retrieve", json={"query": CANARY * 3}, headers=bearer(**EMPLOYEE))
        assert_error(r, 422, "invalid_request")


@pytest.mark.parametrize("top_k", [0, -1, 51, 10**9, 2.5, None, "five", [5], True, "5"])
def test_when_top_k_out_of_range_or_type_then_422(client: TestClient, top_k: object) -> None:
    r = client.post("/v1/retrieve", json={"query": "x", "top_k": top_k},
                    headers=bearer(**EMPLOYEE))
    assert_error(r, 422, "invalid_request")


def test_when_upload_over_limit_without_length_then_413() -> None:
    app = make_app(max_body_bytes=2048)
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.txt\"\r\nContent-Type: text/plain\r\n\r\n").encode() \
        + (CANARY.encode() + b" ") * 400 + f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the route must count
        for i in range(0, len(body), 512):
            yield body[i:i + 512]

    with TestClient(app) as c:
        r = c.post("/v1/documents", content=chunks(), headers={
            **bearer(**INGESTOR), "content-type": f"multipart/form-data; boundary={boundary}"})
        assert_error(r, 413, "too_large")


@pytest.mark.parametrize("name", ["tool.exe", "archive.zip", "noext", "image.png", ".txt.sh"])
def test_when_upload_type_unsupported_then_422(client: TestClient, name: str) -> None:
    files = {"file": (name, CANARY.encode(), "application/octet-stream")}
    r = client.post("/v1/documents", files=files, headers=bearer(**INGESTOR))
    assert_error(r, 422, "unsupported_type")


@pytest.mark.parametrize("acl", ["not json", json.dumps([1, 2]), json.dumps({"level": "secret"}),
                                 json.dumps({"groups": "hr"}), json.dumps({"tenant": "globex",
                                                                          "groups": ["x"]}),
                                 json.dumps({"groups": [], "users": []})])
def test_when_upload_acl_invalid_then_422(client: TestClient, acl: str) -> None:
    files = {"file": ("note.txt", CANARY.encode(), "text/plain")}
    r = client.post("/v1/documents", files=files, data={"acl": acl}, headers=bearer(**INGESTOR))
    assert_error(r, 422, "invalid_acl")
