"""Error mapping: one body shape, no user input echoed, no traceback."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field
from ragseal.api._errors import ApiError, install_error_handlers

CANARY = "CANARY-4c1d-user-input-never-echoed"


class Query(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(max_length=10)
    top_k: int = Field(default=5, ge=1, le=50)


def make_client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/v1/retrieve")
    def retrieve(body: Query) -> dict[str, str]:
        return {"ok": body.query}

    @app.get("/forbidden")
    def forbidden() -> None:
        raise ApiError(403, "forbidden", "this operation needs the steward role")

    @app.get("/limited")
    def limited() -> None:
        raise ApiError(429, "rate_limited", "too many requests", headers={"Retry-After": "7"})

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError(f"secret document text: {CANARY}")

    return TestClient(app)


def test_when_a_route_raises_api_error_then_the_contract_body_and_headers_are_sent() -> None:
    client = make_client()

    forbidden = client.get("/forbidden")
    limited = client.get("/limited")

    assert forbidden.status_code == 403
    assert forbidden.json() == {
        "error": {"code": "forbidden", "message": "this operation needs the steward role"}
    }
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    assert limited.json()["error"]["code"] == "rate_limited"


@pytest.mark.parametrize(
    "body",
    [
        {"query": CANARY},
        {"query": "ok", "top_k": CANARY},
        {"query": "ok", CANARY: 1},
        {"query": "ok", f"x_{CANARY.replace('-', '_')}": 1},
    ],
    ids=["too_long", "wrong_type", "unexpected_key", "identifier_like_unexpected_key"],
)
def test_when_body_is_invalid_then_422_names_locations_without_echoing_input(
    body: dict[str, object],
) -> None:
    response = make_client().post("/v1/retrieve", json=body)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert response.json()["error"]["message"].startswith("invalid request: body")
    assert CANARY not in response.text
    assert CANARY.replace("-", "_") not in response.text


def test_when_body_is_not_json_then_422_does_not_echo_it() -> None:
    response = make_client().post(
        "/v1/retrieve", content=f"{{{CANARY}", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert CANARY not in response.text


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", f"/nowhere/{CANARY}", 404, "not_found"),
        ("DELETE", "/v1/retrieve", 405, "method_not_allowed"),
    ],
)
def test_when_starlette_raises_http_errors_then_they_take_the_contract_shape(
    method: str, path: str, status: int, code: str
) -> None:
    response = make_client().request(method, path)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert set(response.json()) == {"error"}
    assert CANARY not in response.text


def test_when_a_route_fails_unexpectedly_then_a_bare_500_is_sent_and_only_the_type_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    response = make_client().get("/boom")

    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal", "message": "internal error"}}
    assert "Traceback" not in response.text
    assert CANARY not in caplog.text
    assert any(getattr(r, "error_type", None) == "RuntimeError" for r in caplog.records)


@pytest.mark.parametrize(
    ("status", "code"), [(200, "ok"), (404, "Not Found"), (404, "")], ids=["2xx", "spaces", "empty"]
)
def test_when_api_error_is_misused_then_construction_fails(status: int, code: str) -> None:
    with pytest.raises(ValueError):
        ApiError(status, code, "message")
