"""ragseal-client's own behaviour, over httpx's MockTransport (no server needed):
retries only on 429/503 honouring Retry-After, error mapping, tolerance of new
fields, the token provider called per request, and nothing secret in reprs."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
from ragseal_client import (
    AsyncRagsealClient,
    AuthenticationError,
    InvalidRetrievalIdError,
    PermissionDeniedError,
    RagsealClient,
    RagsealError,
    RateLimitedError,
    RequestTimeoutError,
    UnavailableError,
)

RETRIEVAL = {"retrieval_id": "rid-1", "context": "ctx", "brand_new_field": 1,
             "chunks": [{"chunk_id": "c1", "doc_id": "d1", "text": "Hello <PERSON_abc123>",
                         "score": 0.5, "level": "internal", "masked": ["PERSON"],
                         "injection": {"flagged": False, "score": 0.0, "signals": []},
                         "future": "ok"}]}


def error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": "m"}},
                          headers=headers)


def client_for(responses: list[httpx.Response], seen: list[httpx.Request],
               **kwargs: object) -> RagsealClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses.pop(0)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    return RagsealClient("http://ragseal.test", http_client=http, **kwargs)  # type: ignore[arg-type]


def test_when_429_with_retry_after_then_retried_once_and_answer_returned() -> None:
    seen: list[httpx.Request] = []
    c = client_for([error(429, "rate_limited", {"Retry-After": "0"}),
                    httpx.Response(200, json=RETRIEVAL)], seen)
    r = c.retrieve("q", token="tok")
    assert len(seen) == 2 and r.chunks[0].masked == ["PERSON"]
    assert r.model_extra == {"brand_new_field": 1}  # new server fields are kept, not fatal


def test_when_retry_after_exceeds_the_cap_then_raised_at_once_with_retry_after() -> None:
    seen: list[httpx.Request] = []
    c = client_for([error(429, "rate_limited", {"Retry-After": "120"})], seen,
                   max_retry_wait=5)
    with pytest.raises(RateLimitedError) as info:
        c.retrieve("q", token="tok")
    assert len(seen) == 1 and info.value.retry_after == 120


def test_when_503_persists_then_retries_are_bounded() -> None:
    seen: list[httpx.Request] = []
    c = client_for([error(503, "timeout", {"Retry-After": "0"})] * 3, seen, max_retries=2)
    with pytest.raises(RequestTimeoutError) as info:
        c.retrieve("q", token="tok")
    assert isinstance(info.value, UnavailableError) and len(seen) == 3


@pytest.mark.parametrize("status,code,cls", [
    (401, "unauthorized", AuthenticationError), (403, "forbidden", PermissionDeniedError),
    (422, "invalid_retrieval_id", InvalidRetrievalIdError), (500, "internal", RagsealError),
])
def test_when_an_error_is_not_retryable_then_one_request_and_its_class(
    status: int, code: str, cls: type[RagsealError],
) -> None:
    seen: list[httpx.Request] = []
    c = client_for([error(status, code)], seen)
    with pytest.raises(cls) as info:
        c.inspect("answer", "rid", token="tok")
    assert len(seen) == 1 and info.value.code == code and info.value.status == status


def test_when_the_code_is_unknown_then_the_base_class() -> None:
    seen: list[httpx.Request] = []
    c = client_for([error(503, "tenant_frozen")], seen, max_retries=0)
    with pytest.raises(RagsealError) as info:
        c.retrieve("q", token="tok")
    assert type(info.value) is RagsealError and info.value.code == "tenant_frozen"


def test_when_a_proxy_answers_html_then_the_body_is_not_echoed() -> None:
    seen: list[httpx.Request] = []
    c = client_for([httpx.Response(502, text="<html>internal host db-7 secret</html>")], seen)
    with pytest.raises(RagsealError) as info:
        c.retrieve("q", token="tok")
    assert "db-7" not in str(info.value) and info.value.code == "http_502"


def test_when_a_provider_is_given_then_it_is_called_for_every_request() -> None:
    seen: list[httpx.Request] = []
    users = iter(["alice-token", "bob-token"])
    c = client_for([httpx.Response(200, json=RETRIEVAL)] * 2, seen, token=lambda: next(users))
    c.retrieve("q")
    c.retrieve("q")
    assert [r.headers["authorization"] for r in seen] == ["Bearer alice-token",
                                                          "Bearer bob-token"]


def test_when_printed_or_logged_then_no_token_query_or_text_shows(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[httpx.Request] = []
    caplog.set_level(logging.DEBUG)
    c = client_for([httpx.Response(200, json=RETRIEVAL)], seen, token="sekrit-token")
    r = c.retrieve("the secret question")
    shown = repr(c) + repr(r) + caplog.text
    assert "sekrit" not in shown and "secret question" not in shown and "Hello" not in shown


def test_when_a_token_holds_whitespace_then_refused_without_echo() -> None:
    c = client_for([], [])
    with pytest.raises(ValueError) as info:
        c.retrieve("q", token="abc\r\nX-Evil: 1")
    assert "Evil" not in str(info.value)


def test_routes_send_the_contract_requests() -> None:
    seen: list[httpx.Request] = []
    policy = {"version": 3, "levels": ["public"]}
    c = client_for([httpx.Response(204), httpx.Response(200, json=policy),
                    httpx.Response(200, json=[{"version": 1, "fingerprint": "f",
                                               "author": "s", "created": "2026-01-01"}]),
                    httpx.Response(200, json=policy),
                    httpx.Response(200, json={"doc_id": "a/b", "released": 2}),
                    httpx.Response(202, json={"job_id": "j1", "status": "queued"})], seen,
                   token="t")
    c.delete("a/b")
    assert c.put_policy("levels: [public]\n").version == 3
    assert c.policy_versions()[0].fingerprint == "f"
    assert c.rollback_policy(1).document["levels"] == ["public"]
    assert c.release("a/b").released == 2
    accepted = c.upload(b"hello", filename="note.txt", acl={"groups": ["hr"]})
    assert getattr(accepted, "job_id", None) == "j1"
    assert [(r.method, r.url.raw_path.decode()) for r in seen] == [
        ("DELETE", "/v1/documents/a%2Fb"), ("PUT", "/v1/policy"), ("GET", "/v1/policy/versions"),
        ("POST", "/v1/policy/rollback"), ("POST", "/v1/quarantine/a%2Fb/release"),
        ("POST", "/v1/documents")]
    assert seen[1].headers["content-type"] == "application/yaml"
    assert json.loads(seen[3].content) == {"version": 1}


def test_async_client_retries_and_maps_errors_like_the_sync_one() -> None:
    seen: list[httpx.Request] = []
    answers = [error(503, "unavailable", {"Retry-After": "0"}),
               httpx.Response(200, json={"verdict": "redact", "answer": "x <US_SSN>",
                                         "findings": [{"type": "US_SSN", "start": 2, "end": 13,
                                                       "action": "redact",
                                                       "reason": "above_clearance"}]})]

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    async def main() -> str:
        async with AsyncRagsealClient(
            "http://ragseal.test", token=lambda: "t",
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        ) as c:
            return (await c.inspect("x 123-45-6789", "rid")).verdict

    assert asyncio.run(main()) == "redact" and len(seen) == 2
