"""The OpenAI-compatible gateway, driven by the official ``openai`` SDK.

ragseal runs under a real uvicorn over the ingested sample corpus; the
upstream is a scripted OpenAI-compatible server on loopback
(tests/e2e/_upstream.py). Whatever the upstream says, the caller never
receives a leaked value: not in a plain answer, not in any stream chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from fastapi.testclient import TestClient
from ragseal.api._app import create_app
from ragseal.api._auth import mint_token
from ragseal.api._settings import Settings
from ragseal.retrieval import BLOCKED_NOTICE

from ._live import serve
from ._upstream import AWS_KEY, EVIL, SCRIPTS, SSN, Upstream
from .conftest import JWT_SECRET, World

pytestmark = pytest.mark.slow

EMPLOYEE = dict(sub="emp@acme.example", tenant="acme", groups=["all-staff"], roles=["employee"])
HR = dict(sub="hrp@acme.example", tenant="acme", groups=["hr", "all-staff"], roles=["hr"])
QUESTION = "What does the employee roster say about the chief executive officer?"


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[Upstream, str]]:
    up = Upstream()
    with serve(up.app) as url:
        yield up, url


@pytest.fixture(scope="module")
def gateway(world: World, upstream: tuple[Upstream, str]) -> Iterator[str]:
    settings = Settings(data_dir=world.data_dir, jwt_secret=JWT_SECRET,
                        upstream_url=upstream[1] + "/v1", rate_limit_per_minute=0)
    with serve(create_app(settings, world.services)) as url:
        yield url


def sdk(gateway: str, who: dict[str, Any]) -> openai.OpenAI:
    token = mint_token(JWT_SECRET, **who)
    return openai.OpenAI(base_url=gateway + "/v1", api_key=token, max_retries=0)


def ask(gateway: str, who: dict[str, Any], script: str,
        stream: bool) -> tuple[str, str | None, dict[str, Any], list[str]]:
    """(content, finish_reason, ragseal extra, the stream's pieces)."""
    client = sdk(gateway, who)
    messages: Any = [{"role": "user", "content": QUESTION}]
    if not stream:
        raw = client.chat.completions.with_raw_response.create(model=script, messages=messages)
        completion = raw.parse()
        extra = dict(completion.model_extra or {})["ragseal"]
        assert raw.headers["x-ragseal-verdict"] == extra["verdict"]
        assert raw.headers["x-ragseal-retrieval-id"] == extra["retrieval_id"]
        choice = completion.choices[0]
        return choice.message.content or "", choice.finish_reason, extra, []
    pieces: list[str] = []
    finish, extra = None, {}
    with client.chat.completions.create(model=script, messages=messages, stream=True) as events:
        for chunk in events:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
            if chunk.choices and chunk.choices[0].finish_reason:
                finish = chunk.choices[0].finish_reason
            extra = dict(chunk.model_extra or {}).get("ragseal", extra)
    return "".join(pieces), finish, extra, pieces


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_when_the_upstream_answer_is_clean_then_it_passes_unchanged(
    gateway: str, upstream: tuple[Upstream, str], stream: bool,
) -> None:
    content, finish, extra, pieces = ask(gateway, EMPLOYEE, "clean", stream)
    assert content == "".join(SCRIPTS["clean"])
    assert finish == "stop" and extra["verdict"] == "allow" and extra["retrieval_id"]
    # What ragseal sent upstream: the fenced context first, then the user's message.
    sent = upstream[0].requests[-1]["messages"]
    assert sent[0]["role"] == "system" and "<<chunk-" in sent[0]["content"]
    assert sent[-1] == {"role": "user", "content": QUESTION}
    assert SSN not in sent[0]["content"]  # the employee's context is masked


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_when_the_answer_leaks_an_ssn_above_clearance_then_no_chunk_carries_it(
    gateway: str, stream: bool,
) -> None:
    content, finish, extra, pieces = ask(gateway, EMPLOYEE, "ssn", stream)
    assert extra["verdict"] == "redact" and finish == "stop"
    for text in [content, *pieces]:
        assert "6604" not in text and "143-8" not in text and "82-66" not in text
    assert content.startswith("According to the roster, the CEO's SSN is <")
    assert content.endswith("Ask HR for anything else you need about her record.")


@pytest.mark.parametrize("script,leak", [("secret", AWS_KEY[:8]), ("image", EVIL)])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_when_the_answer_carries_a_secret_or_an_exfiltrating_image_then_it_is_blocked(
    gateway: str, script: str, leak: str, stream: bool,
) -> None:
    content, finish, extra, pieces = ask(gateway, EMPLOYEE, script, stream)
    assert finish == "content_filter" and extra["verdict"] == "block"
    assert BLOCKED_NOTICE in content
    for text in [content, *pieces]:
        assert leak not in text and "AKIA" not in text and "8841" not in text


def test_when_streamed_then_the_text_arrives_in_several_chunks(gateway: str) -> None:
    content, finish, extra, pieces = ask(gateway, EMPLOYEE, "long", True)
    assert content == "".join(SCRIPTS["long"]) and finish == "stop"
    assert len(pieces) >= 2  # streamed, not buffered to the end


def test_when_the_token_is_bad_then_the_sdk_raises_authentication_error(gateway: str) -> None:
    client = openai.OpenAI(base_url=gateway + "/v1", api_key="not-a-token", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="clean",
                                       messages=[{"role": "user", "content": "hi"}])


def test_when_the_upstream_fails_then_502_without_its_body(gateway: str) -> None:
    token = mint_token(JWT_SECRET, **EMPLOYEE)  # type: ignore[arg-type]
    r = httpx.post(gateway + "/v1/chat/completions", headers={"Authorization": f"Bearer {token}"},
                   json={"model": "broken", "messages": [{"role": "user", "content": "hi"}]},
                   timeout=60)
    assert r.status_code == 502 and r.json()["error"]["code"] == "upstream_error"
    assert "secret detail" not in r.text


def test_when_tools_are_asked_for_then_422(gateway: str) -> None:
    token = mint_token(JWT_SECRET, **EMPLOYEE)  # type: ignore[arg-type]
    r = httpx.post(gateway + "/v1/chat/completions", headers={"Authorization": f"Bearer {token}"},
                   json={"model": "clean", "messages": [{"role": "user", "content": "hi"}],
                         "tools": [{"type": "function", "function": {"name": "f"}}]}, timeout=60)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unsupported_feature"


def test_when_no_upstream_is_configured_then_404_gateway_disabled(world: World) -> None:
    token = mint_token(JWT_SECRET, **EMPLOYEE)  # type: ignore[arg-type]
    with TestClient(create_app(world.settings, world.services)) as c:
        anonymous = c.post("/v1/chat/completions",
                           json={"model": "x", "messages": [{"role": "user", "content": "hi"}]})
        r = c.post("/v1/chat/completions", headers={"Authorization": f"Bearer {token}"},
                   json={"model": "x", "messages": [{"role": "user", "content": "hi"}]})
    assert anonymous.status_code == 401  # the edge reads no anonymous body, route or not
    assert r.status_code == 404 and r.json()["error"]["code"] == "gateway_disabled"


def test_the_context_sent_upstream_is_the_callers_view(
    gateway: str, upstream: tuple[Upstream, str],
) -> None:
    ask(gateway, EMPLOYEE, "clean", False)
    as_employee = upstream[0].requests[-1]["messages"][0]["content"]
    ask(gateway, HR, "clean", False)
    as_hr = upstream[0].requests[-1]["messages"][0]["content"]
    assert "Helen Zhao" not in as_employee  # the roster is HR's; names masked elsewhere
    assert "Helen Zhao" in as_hr and SSN not in as_hr  # HR unmasks PERSON, not US_SSN
