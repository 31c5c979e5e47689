"""Authorization matrix: every route x role x tenant x group reach, each cell asserted.

Rows are principals: no token, or one role (employee, hr, steward, ingestor,
legal) in one tenant (acme, globex), holding either the groups that go
with the role or every group of the corpus (so that the level is the only
thing left to stop it). Columns are routes. Each cell states the expected
status; for retrieve, every returned chunk must also be one the reference
rule (``store.matches`` with ``retrieval.access_filter``) admits: same
tenant, level within clearance, a shared group or the sub among users.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ragseal.api._app import create_app
from ragseal.api._auth import mint_token
from ragseal.api._limits import RateLimiter
from ragseal.retrieval import Principal, access_filter
from ragseal.store import matches

from .conftest import JWT_SECRET, World

ROLES = ("none", "employee", "hr", "steward", "ingestor", "legal")
TENANTS = ("acme", "globex")
REACH = ("own-groups", "all-groups")
OWN_GROUPS = {"employee": ["all-staff"], "hr": ["hr", "all-staff"], "steward": ["all-staff"],
              "ingestor": ["all-staff"], "legal": ["legal", "all-staff"]}
ALL_GROUPS = ["all-staff", "hr", "finance", "legal", "executives", "engineering", "support"]
ROUTES = ("retrieve", "inspect", "upload", "delete_other_tenant", "delete_missing",
          "policy_get", "policy_put", "quarantine_list", "release_other_tenant",
          "release_missing", "healthz", "metrics")
UNAUTHORIZED = {"error": {"code": "unauthorized", "message": "missing or invalid bearer token"}}
QUERIES = ("payroll salary bank account", "board decision project codename",
           "employee social security number", "privileged legal dispute")


@dataclass(frozen=True)
class Caller:
    role: str
    tenant: str
    reach: str

    @property
    def principal(self) -> Principal | None:
        if self.role == "none":
            return None
        groups = ALL_GROUPS if self.reach == "all-groups" else OWN_GROUPS[self.role]
        return Principal(sub=f"{self.role}-{self.reach}@{self.tenant}.example",
                         tenant=self.tenant, groups=tuple(groups), roles=(self.role,))

    def headers(self) -> dict[str, str]:
        p = self.principal
        if p is None:
            return {}
        token = mint_token(JWT_SECRET, sub=p.sub, tenant=p.tenant, groups=p.groups,
                           roles=p.roles)
        return {"Authorization": f"Bearer {token}"}


CALLERS = [Caller(r, t, g) for r in ROLES for t in TENANTS for g in REACH
           if not (r == "none" and g == "all-groups")]


def expected(route: str, caller: Caller) -> int:
    """The matrix itself: the status each caller gets from each route."""
    if route in {"healthz", "metrics"}:
        return 200
    if caller.role == "none":
        return 401
    needs = {"upload": "ingestor", "delete_other_tenant": "ingestor",
             "delete_missing": "ingestor", "policy_get": "steward", "policy_put": "steward",
             "quarantine_list": "steward", "release_other_tenant": "steward",
             "release_missing": "steward"}
    if route in needs and caller.role != needs[route]:
        return 403
    return {"retrieve": 200, "inspect": 200, "upload": 201, "delete_other_tenant": 404,
            "delete_missing": 404, "policy_get": 200, "policy_put": 422,
            "quarantine_list": 200, "release_other_tenant": 404, "release_missing": 404}[route]


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    app = create_app(world.settings, world.services)
    with TestClient(app) as c:
        app.state.rate_limiter = RateLimiter(0)  # the matrix is not about rates
        yield c


@pytest.fixture(scope="module")
def points(world: World) -> dict[str, dict[str, Any]]:
    return {hit.id: dict(hit.payload) for hit in world.services.store.scroll()}


def _other_tenant_doc(world: World, tenant: str) -> str:
    other = "globex" if tenant == "acme" else "acme"
    return world.reports[other].ingested[0].doc_id


def _call(route: str, caller: Caller, client: TestClient, world: World) -> Any:
    h = caller.headers()
    calls: dict[str, Callable[[], Any]] = {
        "retrieve": lambda: client.post("/v1/retrieve", json={"query": QUERIES[0], "top_k": 50},
                                        headers=h),
        "inspect": lambda: client.post("/v1/inspect", json={"answer": "Fine.",
                                                            "retrieval_id": None}, headers=h),
        "upload": lambda: client.post(
            "/v1/documents", headers=h,
            files={"file": ("matrix-note.txt", b"Matrix probe: calibrate the gripper weekly.",
                            "text/plain")},
            data={"acl": json.dumps({"groups": ["all-staff"], "level": "internal"})}),
        "delete_other_tenant": lambda: client.delete(
            f"/v1/documents/{_other_tenant_doc(world, caller.tenant)}", headers=h),
        "delete_missing": lambda: client.delete("/v1/documents/" + "0" * 32, headers=h),
        "policy_get": lambda: client.get("/v1/policy", headers=h),
        "policy_put": lambda: client.put("/v1/policy", content=b"levels: [public]\nbogus: 1\n",
                                         headers=h),
        "quarantine_list": lambda: client.get("/v1/quarantine", headers=h),
        "release_other_tenant": lambda: client.post(
            f"/v1/quarantine/{_other_tenant_doc(world, caller.tenant)}/release", headers=h),
        "release_missing": lambda: client.post(f"/v1/quarantine/{'0' * 32}/release", headers=h),
        "healthz": lambda: client.get("/healthz", headers=h),
        "metrics": lambda: client.get("/metrics", headers=h),
    }
    return calls[route]()


def _assert_error_body(r: Any) -> None:
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert "Traceback" not in r.text


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: f"{c.role}-{c.tenant}-{c.reach}")
def test_when_caller_calls_route_then_matrix_status(
    client: TestClient, world: World, points: dict[str, dict[str, Any]], caller: Caller,
    route: str,
) -> None:
    want = expected(route, caller)
    before = world.services.store.count()
    r = _call(route, caller, client, world)
    assert r.status_code == want, (route, caller, r.text)
    if want == 401:
        assert r.json() == UNAUTHORIZED and r.headers["WWW-Authenticate"] == "Bearer"
    elif want >= 400:
        _assert_error_body(r)
    if route == "upload" and want == 201:
        doc_id = r.json()["doc_id"]
        assert client.delete(f"/v1/documents/{doc_id}", headers=caller.headers()).status_code \
            == 204
    if route.startswith("delete"):
        assert world.services.store.count() == before  # a refused delete erased nothing


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("caller", [c for c in CALLERS if c.role != "none"],
                         ids=lambda c: f"{c.role}-{c.tenant}-{c.reach}")
def test_when_retrieving_then_every_chunk_within_tenant_clearance_and_acl(
    client: TestClient, world: World, points: dict[str, dict[str, Any]], caller: Caller,
    query: str,
) -> None:
    principal = caller.principal
    assert principal is not None
    policy = world.services.policy
    access = access_filter(principal, policy)
    r = client.post("/v1/retrieve", json={"query": query, "top_k": 50},
                    headers=caller.headers())
    assert r.status_code == 200
    chunks = r.json()["chunks"]
    visible = {pid for pid, payload in points.items() if matches(payload, access)}
    assert len(chunks) == min(50, len(visible))  # exact top-k inside the filter
    clearance = policy.clearance(principal.roles)
    for chunk in chunks:
        payload = points[chunk["chunk_id"]]
        assert chunk["chunk_id"] in visible
        assert payload["tenant"] == principal.tenant
        assert policy.rank(chunk["level"]) <= clearance
        assert chunk["doc_id"] == payload["doc_id"]


def test_matrix_covers_every_route_of_the_app(client: TestClient) -> None:
    # From the OpenAPI schema: this FastAPI keeps an included router as one lazy
    # entry of app.routes, so walking the routes would miss its paths.
    schema = client.app.openapi()  # type: ignore[attr-defined]
    paths = {(m.upper(), path) for path, ops in schema["paths"].items() for m in ops}
    covered = {("POST", "/v1/retrieve"), ("POST", "/v1/inspect"), ("POST", "/v1/documents"),
               ("DELETE", "/v1/documents/{doc_id}"), ("GET", "/v1/policy"),
               ("PUT", "/v1/policy"), ("GET", "/v1/quarantine"),
               ("POST", "/v1/quarantine/{doc_id}/release"), ("GET", "/healthz"),
               ("GET", "/metrics"),
               # tests/e2e/test_policy_tenants.py covers these per tenant and role
               ("GET", "/v1/policy/versions"), ("POST", "/v1/policy/rollback"),
               # tests/security/test_upload_jobs.py: a job of another tenant is 404
               ("GET", "/v1/jobs/{job_id}"),
               # tests/security/test_containment.py: steward only, own tenant only
               ("POST", "/v1/quarantine/{doc_id}"),
               # tests/e2e/test_gateway_e2e.py: the caller's own rights, 401 without
               ("POST", "/v1/chat/completions")}
    assert {p for p in paths if p[0] != "HEAD"} == covered


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_when_ingestor_uploads_then_ingest_and_denied_counters_rise(
    client: TestClient, world: World
) -> None:
    before = client.get("/metrics").text
    ingestor = Caller("ingestor", "acme", "own-groups")
    r = _call("upload", ingestor, client, world)
    assert r.status_code == 201
    client.delete(f"/v1/documents/{r.json()['doc_id']}", headers=ingestor.headers())
    assert _call("upload", Caller("employee", "acme", "own-groups"), client, world) \
        .status_code == 403
    after = client.get("/metrics").text
    for name, rise in [("ragseal_documents_ingested_total", 1),
                       ('ragseal_denied_total{reason="forbidden"}', 1)]:
        assert _metric(after, re.escape(name)) - _metric(before, re.escape(name)) == rise, name
    assert _metric(after, "ragseal_chunks_ingested_total") >= \
        _metric(before, "ragseal_chunks_ingested_total") + 1
