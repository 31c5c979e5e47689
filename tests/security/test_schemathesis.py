"""Property-based API fuzzing from the app's own OpenAPI schema (schemathesis).

Every operation of ``/openapi.json`` gets generated requests: schema-valid
(positive) and schema-violating (negative) data with a token that holds
every role, so the authenticated paths run, and valid data with no token at
all. Every built-in check must hold: no 5xx, every status and body documented
and matching the schema, invalid data refused, valid data accepted (where
validity can be said in a schema at all, see ``SEMANTIC_422``). Slow: CI runs
it (``scripts/test.sh``); ``-m "not slow"`` skips it. ``FUZZ_CASES`` lowers the
count for a quick local look.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from ragseal.api._app import create_app
from ragseal.api._auth import mint_token
from ragseal.api._limits import RateLimiter
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from .conftest import JWT_SECRET, World

CASES_PER_OPERATION = int(os.environ.get("FUZZ_CASES", "1000"))
OPERATIONS = [("POST", "/v1/retrieve"), ("POST", "/v1/inspect"), ("POST", "/v1/documents"),
              ("DELETE", "/v1/documents/{doc_id}"), ("GET", "/v1/policy"),
              ("PUT", "/v1/policy"), ("GET", "/healthz"), ("GET", "/metrics")]
# Valid by the schema, refused by meaning: an unsupported file type or ACL, a
# retrieval id that does not verify, a policy body (not in the schema at all).
SEMANTIC_422 = {("POST", "/v1/inspect"), ("POST", "/v1/documents"), ("PUT", "/v1/policy")}
# Negative data needs something to break: a body (a path parameter is any string).
WITH_BODY = {("POST", "/v1/retrieve"), ("POST", "/v1/inspect"), ("POST", "/v1/documents"),
             ("PUT", "/v1/policy")}
RUNS = [(m, p, mode) for m, p in OPERATIONS for mode in ("positive-auth", "negative-auth",
                                                           "positive-anon")
        if mode != "negative-auth" or (m, p) in WITH_BODY]
SEEN: Counter[str] = Counter()


def _token() -> str:
    return mint_token(JWT_SECRET, sub="fuzzer@acme.example", tenant="acme",
                      groups=["all-staff", "hr"],
                      roles=["employee", "hr", "steward", "ingestor", "legal"])


@pytest.fixture(scope="module")
def api_schema(world: World) -> Iterator[schemathesis.schemas.BaseSchema]:
    app = create_app(world.settings, world.services)
    with TestClient(app):  # the lifespan puts services and the verifier on app.state
        pass
    app.state.rate_limiter = RateLimiter(0)
    policy = world.services.policy
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    if world.services.policy is not policy:  # a generated body that happened to be valid
        world.services.set_policy(policy)


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "mode"), RUNS,
                         ids=[f"{m} {p} {mode}" for m, p, mode in RUNS])
def test_when_fuzzed_then_no_server_error_and_schema_holds(
    api_schema: schemathesis.schemas.BaseSchema, method: str, path: str, mode: str
) -> None:
    operation = api_schema[path][method]
    generation = GenerationMode.NEGATIVE if mode.startswith("negative") else \
        GenerationMode.POSITIVE
    headers = {"Authorization": f"Bearer {_token()}"} if mode.endswith("auth") else {}
    excluded = [positive_data_acceptance] if (method, path) in SEMANTIC_422 else []

    @given(case=operation.as_strategy(generation_mode=generation))
    @settings(max_examples=CASES_PER_OPERATION, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case: schemathesis.Case) -> None:
        SEEN[f"{mode} {method} {path}"] += 1
        response = case.call_and_validate(headers=headers, excluded_checks=excluded)
        assert response.status_code < 500 or response.status_code == 503, response.text
        if mode.endswith("anon") and path.startswith("/v1/"):
            assert response.status_code in {401, 404, 405, 413, 422}, response.text

    fuzz()
    count = SEEN[f"{mode} {method} {path}"]
    print(f"schemathesis {mode} {method} {path}: {count} cases")  # noqa: T201
    if "{" in path or method in {"POST", "PUT"}:
        # Operations with an input space: the case count is a floor. (Hypothesis
        # stops early on operations with nothing to vary, e.g. GET /healthz.)
        assert count >= CASES_PER_OPERATION
