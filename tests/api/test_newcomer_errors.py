"""422s a newcomer can act on (issue 20, items 5 and 6), still echoing nothing.

The route below takes the real ``RetrieveRequest`` body model, so the
limits named in the messages are the contract's (top_k 1..50, query
1..2000 characters).
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from ragseal.api._errors import install_error_handlers
from ragseal.api._routes._models import RetrieveRequest

CANARY = "CANARY-7e2f-user-input-never-echoed"


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/v1/retrieve")
    def retrieve(body: RetrieveRequest) -> dict[str, int]:
        return {"top_k": body.top_k}

    return TestClient(app)


def _message(client: TestClient, **kw: object) -> str:
    response = client.post("/v1/retrieve", **kw)  # type: ignore[arg-type]
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    assert CANARY not in response.text
    return str(response.json()["error"]["message"])


@pytest.mark.parametrize("top_k", [0, 51, "5", True, 2.5, None])
def test_when_top_k_is_out_of_range_or_not_an_integer_then_the_range_is_named(
    client: TestClient, top_k: object,
) -> None:
    message = _message(client, json={"query": "holidays", "top_k": top_k})
    assert message == "invalid request: body.top_k: must be an integer 1..50"


def test_when_the_query_is_too_long_then_the_limit_is_named(client: TestClient) -> None:
    message = _message(client, json={"query": CANARY * 100})
    assert message == "invalid request: body.query: must be a string of 1..2000 characters"


@pytest.mark.parametrize("query", ["", " ", "\n\t  \u00a0"])
def test_when_the_query_is_empty_or_whitespace_then_it_is_refused(
    client: TestClient, query: str,
) -> None:
    message = _message(client, json={"query": query})
    assert message.startswith("invalid request: body.query: ")
    assert "empty" in message or "1..2000" in message


def test_when_the_json_is_malformed_then_the_position_and_reason_are_given(
    client: TestClient,
) -> None:
    body = '{"query": "x", ' + CANARY + "}"
    message = _message(client, content=body, headers={"content-type": "application/json"})
    assert message == (f"invalid request: body: not valid JSON at character {body.index('C')} "
                       "(Expecting property name enclosed in double quotes)")


def test_when_a_field_is_unknown_then_the_allowed_fields_are_listed_without_the_key(
    client: TestClient,
) -> None:
    message = _message(client, json={"query": "x", "x_" + CANARY.replace("-", "_"): 1})
    assert message == ("invalid request: body: unknown field "
                       "(allowed: query, top_k, pseudonymize)")
    assert CANARY.replace("-", "_") not in message


def test_when_the_query_is_missing_then_its_type_and_limits_are_named(
    client: TestClient,
) -> None:
    message = _message(client, json={"top_k": 3})
    assert message == ("invalid request: body.query: required, "
                       "a string of 1..2000 characters")
