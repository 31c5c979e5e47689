"""Issue 14, items 4, 5 and 11 in process: bodies before authentication, nesting, duplicates.

The routes in front of the models need no models: the stub composition root
of ``test_limits`` serves them. Each test replays the red team's request
and fails on main 200d81c (body read before the 401, ``RecursionError``
500s, the last of two keys kept, ``exp: 1e20`` accepted).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from ragseal.api._app import create_app
from ragseal.api._auth import AuthError, TokenVerifier
from ragseal.api._policies import PolicyRefused, parse_tenant_text
from ragseal.api._settings import Settings
from ragseal.classification import (
    PolicyError,
    UnsafeInputError,
    check_yaml,
    json_depth,
    loads_json,
    parse_policy_text,
)

from tests.security.test_limits import (
    CANARY,
    EMPLOYEE,
    INGESTOR,
    SECRET,
    STEWARD,
    StubServices,
    assert_error,
    bearer,
    make_app,
)

DEEP = 100_000


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app(max_body_bytes=64 * 1024)) as c:
        yield c


class CountingBody:
    """A streamed request body that counts what the server pulled from it."""

    def __init__(self, chunks: int, chunk: bytes) -> None:
        self.pulled = 0
        self._chunks = chunks
        self._chunk = chunk

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self._chunks):
            self.pulled += 1
            yield self._chunk


# --- item 4: no body is read for an anonymous caller; every stream is cut ---------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"},
                                     {"Authorization": "Basic dXNlcjpwYXNz"}])
@pytest.mark.parametrize(("path", "content_type"), [
    ("/v1/documents", "multipart/form-data; boundary=x"),
    ("/v1/retrieve", "application/json"),
    ("/v1/policy", "application/yaml"),
])
def test_when_anonymous_body_streams_then_401_before_any_byte_is_read(
    client: TestClient, headers: dict[str, str], path: str, content_type: str
) -> None:
    body = CountingBody(1_000, b"x" * 1024)
    method = client.put if path == "/v1/policy" else client.post
    r = method(path, content=iter(body), headers={**headers, "content-type": content_type})
    assert_error(r, 401, "unauthorized")
    assert body.pulled == 0


def test_when_authenticated_chunked_json_exceeds_limit_then_413(client: TestClient) -> None:
    body = CountingBody(1_000, b" " * 1024)  # 1 MB against a 64 KiB limit, no length
    r = client.post("/v1/retrieve", content=iter(body),
                    headers={**bearer(**EMPLOYEE), "content-type": "application/json"})
    assert_error(r, 413, "too_large")


def test_when_authenticated_chunked_multipart_exceeds_limit_then_413(client: TestClient) -> None:
    head = (b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\n")
    chunks = iter([head] + [CANARY.encode() * 64] * 200)
    r = client.post("/v1/documents", content=chunks, headers={
        **bearer(**INGESTOR), "content-type": "multipart/form-data; boundary=x"})
    assert_error(r, 413, "too_large")


def test_when_bodyless_request_without_token_then_route_answers_401(client: TestClient) -> None:
    assert_error(client.get("/v1/policy"), 401, "unauthorized")
    assert client.get("/healthz").status_code in {200, 503}


# --- item 5: depth is bounded before any recursive parser runs --------------------


@pytest.mark.parametrize(("depth", "code"), [
    (DEEP, "invalid_request"),  # the red team's 100,000: over the field's 64 KiB
    (30_000, "invalid_acl"),  # under it: the depth scanner refuses it
])
def test_when_acl_nested_deep_then_422_not_500(depth: int, code: str) -> None:
    acl = "[" * depth + "]" * depth
    with TestClient(make_app()) as c:
        r = c.post("/v1/documents", files={"file": ("n.txt", b"hello", "text/plain")},
                   data={"acl": acl}, headers=bearer(**INGESTOR))
    assert_error(r, 422, code)


@pytest.mark.parametrize("path", ["/v1/retrieve", "/v1/inspect"])
def test_when_json_body_nested_deep_then_422(path: str) -> None:
    with TestClient(make_app()) as c:
        body = '{"query": ' + "[" * DEEP + "]" * DEEP + "}"
        r = c.post(path, content=body, headers={**bearer(**EMPLOYEE),
                                                "content-type": "application/json"})
        assert_error(r, 422, "invalid_request")
        assert "deeper" in r.json()["error"]["message"]


def _deep_levels_yaml(depth: int) -> str:
    lines = ["levels:"]
    lines += [" " * (i + 1) + "- " for i in range(depth - 1)]
    return "\n".join(lines) + "x\n"


@pytest.mark.parametrize("body", [
    "levels: " + "[" * 20_000 + "]" * 20_000,  # YAML flow style
    '{"levels": ' + "[" * 20_000 + "]" * 20_000 + "}",  # JSON, sent as YAML
])
def test_when_policy_nested_20000_deep_then_422_not_500(body: str) -> None:
    services = StubServices()
    services.policies = SimpleNamespace(  # type: ignore[attr-defined]
        push=lambda tenant, text, author, prepare=None: _parse_tenant_policy(text))
    services.classifier_for = lambda policy: None  # type: ignore[attr-defined]
    app = create_app(Settings(jwt_secret=SECRET), services)  # type: ignore[arg-type]
    with TestClient(app) as c:
        r = c.put("/v1/policy", content=body,
                  headers={**bearer(**STEWARD), "content-type": "application/yaml"})
    assert_error(r, 422, "invalid_policy")


def _parse_tenant_policy(text: str) -> Any:
    """The route's real validation (``TenantPolicies.validate``'s parser)."""
    try:
        return parse_tenant_text(text)
    except PolicyError as exc:
        raise PolicyRefused(str(exc)) from None


def test_when_policy_json_nested_deep_then_422_at_the_edge(client: TestClient) -> None:
    body = '{"levels": ' + "[" * 20_000 + "]" * 20_000 + "}"
    r = client.put("/v1/policy", content=body,
                   headers={**bearer(**STEWARD), "content-type": "application/json"})
    assert_error(r, 422, "invalid_request")


def test_when_block_yaml_is_deep_then_refused_before_composing() -> None:
    with pytest.raises(PolicyError, match="deeper"):
        parse_policy_text(_deep_levels_yaml(200))


def test_when_yaml_has_many_aliases_then_refused() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
        for i in range(8))
    with pytest.raises(UnsafeInputError, match="aliases"):
        check_yaml(laughs)


@pytest.mark.parametrize(("text", "depth"), [
    ("{}", 1), ("[[]]", 2), ('{"a": "[[[[[["}', 1), ('["\\"[[[["]', 1), ("7", 0),
])
def test_when_depth_measured_then_brackets_inside_strings_do_not_count(
    text: str, depth: int
) -> None:
    assert json_depth(text) == depth


# --- item 11: duplicate keys and token lifetimes ------------------------------------


def test_when_acl_has_duplicate_keys_then_422(client: TestClient) -> None:
    acl = '{"users": ["bot@acme.example"], "level": "public", "level": "restricted"}'
    r = client.post("/v1/documents", files={"file": ("d.txt", b"hello", "text/plain")},
                    data={"acl": acl}, headers=bearer(**INGESTOR))
    assert_error(r, 422, "invalid_acl")
    assert "duplicate" in r.json()["error"]["message"]


@pytest.mark.parametrize("body", [
    '{"query": "payroll", "query": "salaries"}',
    '{"query": "x", "top_k": 5, "top_k": 50}',
    '{"query": "x", "top_k": NaN}',
])
def test_when_request_body_has_duplicate_keys_or_nan_then_422(
    client: TestClient, body: str
) -> None:
    r = client.post("/v1/retrieve", content=body,
                    headers={**bearer(**EMPLOYEE), "content-type": "application/json"})
    assert_error(r, 422, "invalid_request")


def test_when_strict_json_then_same_rules_as_the_token_parser() -> None:
    assert loads_json('{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}
    for bad in ('{"a": 1, "a": 1}', '{"a": Infinity}', "[" * 65 + "]" * 65):
        with pytest.raises(UnsafeInputError):
            loads_json(bad)


def _token(**claims: Any) -> str:
    now = int(time.time())
    base: dict[str, Any] = {"sub": "u@acme.example", "aud": "ragseal", "iat": now,
                            "exp": now + 600}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, SECRET,
                      algorithm="HS256")


@pytest.mark.parametrize("claims", [
    {"exp": 1e20},
    {"exp": "99999999999"},
    {"exp": int(time.time()) + 30 * 86400},  # over the 24 h default
    {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200},  # issued in the future
    {"iat": int(time.time()) - 3 * 86400, "exp": int(time.time()) + 600},  # lived 3 days
    {"iat": "now"},
    {"exp": True},
])
def test_when_token_lifetime_unbounded_or_mistyped_then_refused(claims: dict[str, Any]) -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET))
    with pytest.raises(AuthError):
        verifier.verify(_token(**claims))


def test_when_token_within_configured_lifetime_then_accepted() -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET, max_token_ttl=7 * 86400))
    week = int(time.time()) + 6 * 86400
    assert verifier.verify(_token(exp=week)).sub == "u@acme.example"
    assert verifier.verify(_token(iat=None)).sub == "u@acme.example"


def test_when_long_token_sent_then_401_with_uniform_body(client: TestClient) -> None:
    token = _token(exp=int(time.time()) + 10 * 86400)
    r = client.post("/v1/retrieve", json={"query": "x"},
                    headers={"Authorization": f"Bearer {token}"})
    assert_error(r, 401, "unauthorized")
    assert json.dumps(r.json()) == json.dumps(
        {"error": {"code": "unauthorized", "message": "missing or invalid bearer token"}})


# --- one verification per request (issue 19, serve2) ----------------------------


def test_when_the_edge_verified_a_token_then_the_route_takes_its_principal_not_a_second_check(
    client: TestClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    verify = TokenVerifier.verify

    def counting(self: TokenVerifier, token: str) -> Any:
        calls.append(token)
        return verify(self, token)

    monkeypatch.setattr(TokenVerifier, "verify", counting)
    r = client.post("/v1/retrieve", json={"query": "q"}, headers=bearer(**EMPLOYEE))
    assert r.status_code == 200, r.text
    assert len(calls) == 1  # the edge's check, reused by the route's dependency
    calls.clear()
    assert_error(client.post("/v1/retrieve", json={"query": "q"},
                             headers={"Authorization": "Bearer x.y.z"}), 401, "unauthorized")
    assert len(calls) == 1  # refused at the edge; nothing reaches the route
    calls.clear()
    assert_error(client.get("/v1/policy", headers=bearer(**EMPLOYEE)), 403, "forbidden")
    assert len(calls) == 1  # no body, so no edge check: the dependency verifies it


def test_when_the_remembered_principal_is_for_another_token_or_verifier_then_it_is_not_used(
    client: TestClient,
) -> None:
    """What the edge keeps answers only the very token and verifier it was checked with."""
    from ragseal.api._auth import _already_verified, remember_verified
    from ragseal.retrieval import Principal
    from starlette.requests import Request

    verifier = client.app.state.verifier  # type: ignore[attr-defined]
    other = TokenVerifier(Settings(jwt_secret=SECRET))
    someone = Principal(sub="s", tenant="t", groups=frozenset(), roles=frozenset({"steward"}))
    state: dict[str, Any] = {}
    remember_verified(state, verifier, "a.b.c", someone)
    request = Request({"type": "http", "state": state, "headers": []})
    assert _already_verified(request, verifier, "a.b.c") is someone
    assert _already_verified(request, verifier, "a.b.d") is None
    assert _already_verified(request, other, "a.b.c") is None
    assert _already_verified(Request({"type": "http", "headers": []}), verifier, "a.b.c") is None
    state["ragseal_verified"] = ("not", "a", "principal")
    assert _already_verified(request, verifier, "a.b.c") is None
