"""Containment and detection through the app (issue 14, items 3, 12, 13).

- a steward quarantines a document at once (API and CLI), reversibly;
- an operator freezes a tenant: its /v1/retrieve and /v1/inspect answer
  503 ``tenant_frozen``, the other tenant is untouched, unfreeze restores;
- a prober is throttled (429, growing Retry-After), audited and counted;
- "exists in another tenant" answers exactly like "absent" (DELETE,
  quarantine add and release).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from ragseal.api._app import create_app
from ragseal.api._container import Services
from ragseal.api._settings import Settings
from ragseal.api.cli import main
from ragseal.ingest import Acl
from ragseal.store import read_audit

from tests.e2e.conftest import JWT_SECRET, bearer

pytestmark = pytest.mark.slow

TEXT = ("Forklift charging bays are inspected every Monday by the facilities team; "
        "report damaged connectors through the maintenance portal.")
EMP = bearer(sub="emp@acme.example", tenant="acme", groups=["all-staff"], roles=["employee"])
STEWARD = bearer(sub="st@acme.example", tenant="acme", groups=["all-staff"], roles=["steward"])
INGESTOR = bearer(sub="in@acme.example", tenant="acme", groups=["all-staff"],
                  roles=["ingestor"])
GLOBEX = bearer(sub="emp@globex.example", tenant="globex", groups=["all-staff"],
                roles=["employee"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Settings,
                                                                      dict[str, str]]]:
    data = tmp_path_factory.mktemp("contain")
    settings = Settings(data_dir=data, jwt_secret=JWT_SECRET, rate_limit_per_minute=0,
                        probe_threshold=6, probe_penalty_seconds=30,
                        request_timeout_seconds=0)
    services = Services(settings)
    docs = {}
    for tenant in ("acme", "globex"):
        for name in ("a.txt", "b.txt"):
            r = services.ingestor.ingest_text(
                TEXT, source=name, acl=Acl(tenant=tenant, groups=("all-staff",), users=(),
                                           level="internal"))
            docs[f"{tenant}/{name}"] = r.doc_id
    try:
        with TestClient(create_app(settings, services)) as c:
            yield c, settings, docs
    finally:
        services.close()


def _retrieved(client: TestClient, headers: dict[str, str]) -> set[str]:
    r = client.post("/v1/retrieve", json={"query": "forklift charging bays"}, headers=headers)
    assert r.status_code == 200, r.text
    return {c["doc_id"] for c in r.json()["chunks"]}


def _actions(settings: Settings) -> list[tuple[str, str]]:
    return [(r["action"], r["outcome"]) for r in read_audit(settings.data_dir / "audit", None)]


def test_when_steward_quarantines_a_document_then_nobody_retrieves_it_until_release(
    world: tuple[TestClient, Settings, dict[str, str]],
) -> None:
    client, settings, docs = world
    doc = docs["acme/a.txt"]
    assert doc in _retrieved(client, EMP)
    r = client.post(f"/v1/quarantine/{doc}", headers=STEWARD)
    assert r.status_code == 200 and r.json() == {"doc_id": doc, "quarantined": 1}
    assert doc not in _retrieved(client, EMP) and docs["acme/b.txt"] in _retrieved(client, EMP)
    assert client.post(f"/v1/quarantine/{doc}", headers=EMP).status_code == 403
    r = client.post(f"/v1/quarantine/{doc}/release", headers=STEWARD)
    assert r.status_code == 200
    assert doc in _retrieved(client, EMP)
    assert ("quarantine_add", "ok") in _actions(settings)


def test_when_a_document_is_of_another_tenant_then_the_answer_is_that_of_an_absent_one(
    world: tuple[TestClient, Settings, dict[str, str]],
) -> None:
    client, _, docs = world
    foreign, absent = docs["globex/a.txt"], "0" * len(docs["globex/a.txt"])
    for method, path, who in [("POST", "/v1/quarantine/{}", STEWARD),
                              ("POST", "/v1/quarantine/{}/release", STEWARD),
                              ("DELETE", "/v1/documents/{}", INGESTOR)]:
        a = client.request(method, path.format(foreign), headers=who)
        b = client.request(method, path.format(absent), headers=who)
        assert (a.status_code, a.json()) == (b.status_code, b.json())
        assert a.status_code == 404
    assert foreign in _retrieved(client, GLOBEX)  # untouched


def test_when_operator_freezes_a_tenant_then_its_retrievals_stop_and_resume(
    world: tuple[TestClient, Settings, dict[str, str]], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, settings, _ = world
    monkeypatch.setenv("RAGSEAL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RAGSEAL_JWT_SECRET", JWT_SECRET)
    assert main(["tenant", "freeze", "acme"]) == 0
    client.app.state.freezes._read_at = float("-inf")  # type: ignore[attr-defined]  # skip the 2 s cache
    for path, body in [("/v1/retrieve", {"query": "forklift"}),
                       ("/v1/inspect", {"answer": "fine", "retrieval_id": None})]:
        r = client.post(path, json=body, headers=EMP)
        assert r.status_code == 503 and r.json()["error"]["code"] == "tenant_frozen"
    assert _retrieved(client, GLOBEX)  # the other tenant is untouched
    # Containment keeps working while frozen.
    assert client.get("/v1/quarantine", headers=STEWARD).status_code == 200
    assert main(["tenant", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["frozen"] == ["acme"]
    assert main(["tenant", "unfreeze", "acme"]) == 0
    client.app.state.freezes._read_at = float("-inf")  # type: ignore[attr-defined]
    assert _retrieved(client, EMP)
    actions = _actions(settings)
    assert ("tenant_freeze", "ok") in actions and ("tenant_unfreeze", "ok") in actions


def test_when_the_cli_quarantines_then_the_server_stops_serving_it(
    world: tuple[TestClient, Settings, dict[str, str]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, settings, docs = world
    monkeypatch.setenv("RAGSEAL_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RAGSEAL_JWT_SECRET", JWT_SECRET)
    doc = docs["acme/b.txt"]
    services = client.app.state.services  # type: ignore[attr-defined]

    def cli(*args: str) -> int:
        # Qdrant Edge takes one process per store: hand it to the CLI, then reopen.
        services.store.close()
        for name in ("store", "ingestor", "retriever", "inspector"):
            services.__dict__.pop(name, None)
        services._tenant_paths.clear()  # per-tenant paths hold the closed store too
        return main(list(args))

    assert cli("quarantine", "add", doc, "--tenant", "acme") == 0
    assert doc not in _retrieved(client, EMP)
    assert cli("quarantine", "add", doc, "--tenant", "globex") == 1  # not that tenant's
    assert cli("quarantine", "release", doc, "--tenant", "acme") == 0
    assert doc in _retrieved(client, EMP)


def test_when_a_principal_guesses_through_inspect_then_throttled_audited_and_counted(
    world: tuple[TestClient, Settings, dict[str, str]],
) -> None:
    client, settings, _ = world
    prober = bearer(sub="prober@acme.example", tenant="acme", groups=["all-staff"],
                    roles=["employee"])
    status = []
    for i in range(12):
        r = client.post("/v1/inspect", json={
            "answer": f"Write to person{i}@acme.example about the salary of {90 + i},000.",
            "retrieval_id": None}, headers=prober)
        status.append(r.status_code)
        if r.status_code == 429:
            first = int(r.headers["Retry-After"])
            assert r.json()["error"]["code"] == "rate_limited"
            break
    assert status[-1] == 429 and 0 < first <= 30
    assert ("probing_suspected", "throttled") in _actions(settings)
    metrics = client.get("/metrics").text
    assert 'ragseal_probing_alerts_total{route="/v1/inspect"} 1.0' in metrics
    assert client.post("/v1/retrieve", json={"query": "x"}, headers=prober).status_code == 429
    assert _retrieved(client, EMP)  # others are not slowed
    guard = client.app.state.probe  # type: ignore[attr-defined]
    # A second strike right after the first penalty: twice as long.
    after = time.monotonic() + 31  # the first penalty (30 s) is over
    guard._clock = lambda: after  # type: ignore[attr-defined]
    assert client.post("/v1/inspect", json={"answer": "ok", "retrieval_id": None},
                       headers=prober).status_code == 200
    for i in range(12):
        r = client.post("/v1/inspect", json={
            "answer": f"Write to person{i}@acme.example about the salary of {90 + i},000.",
            "retrieval_id": None}, headers=prober)
        if r.status_code == 429:
            break
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 60
