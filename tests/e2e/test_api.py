"""The HTTP API over the ingested sample corpus, through the real app."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from ragseal.api._auth import mint_token

from .conftest import JWT_SECRET, World, bearer

UNAUTHORIZED = {"error": {"code": "unauthorized", "message": "missing or invalid bearer token"}}


HR = dict(sub="hrp@acme.example", tenant="acme", groups=["hr", "all-staff"], roles=["hr"])
EMPLOYEE = dict(sub="emp@acme.example", tenant="acme", groups=["all-staff"], roles=["employee"])
INGESTOR = dict(sub="bot@acme.example", tenant="acme", groups=["all-staff"], roles=["ingestor"])
STEWARD = dict(sub="steward@acme.example", tenant="acme", groups=["all-staff"], roles=["steward"])


def test_when_valid_token_then_retrieve_returns_contract_shape(client: TestClient) -> None:
    r = client.post("/v1/retrieve", json={"query": "travel expenses", "top_k": 3},
                    headers=bearer(**EMPLOYEE))
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body["retrieval_id"], str) and 1 <= len(body["chunks"]) <= 3
    assert set(body) == {"retrieval_id", "chunks", "context"}  # context: docs/INJECTION.md
    for chunk in body["chunks"]:
        assert set(chunk) == {"chunk_id", "doc_id", "text", "score", "level", "masked",
                              "injection"}
        assert chunk["level"] in {"public", "internal"}


def _rs256_token() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return jwt.encode({"sub": "x", "aud": "ragseal", "exp": int(time.time()) + 60}, pem,
                      algorithm="RS256")


def _alg_none() -> str:
    header = jwt.utils.base64url_encode(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = jwt.utils.base64url_encode(json.dumps(
        {"sub": "x", "aud": "ragseal", "exp": int(time.time()) + 60}).encode())
    return f"{header.decode()}.{body.decode()}."


BAD_TOKENS = {
    "expired": lambda: jwt.encode({"sub": "x", "aud": "ragseal", "exp": int(time.time()) - 120},
                                  JWT_SECRET, algorithm="HS256"),
    "wrong_audience": lambda: mint_token(JWT_SECRET, sub="x", audience="other"),
    "bad_signature": lambda: mint_token("another-secret-" + "q" * 40, sub="x"),
    "alg_none": _alg_none,
    "rs256_when_hs256_pinned": _rs256_token,
    "garbage": lambda: "not.a.token",
}


@pytest.mark.parametrize("case", [None, *BAD_TOKENS], ids=lambda c: c or "missing")
def test_when_token_missing_or_bad_then_401_with_one_body(client: TestClient,
                                                          case: str | None) -> None:
    headers = {} if case is None else {"Authorization": f"Bearer {BAD_TOKENS[case]()}"}
    r = client.post("/v1/retrieve", json={"query": "payroll"}, headers=headers)
    assert r.status_code == 401
    assert r.json() == UNAUTHORIZED


@pytest.mark.parametrize("body", [{"query": ""}, {"query": "x", "top_k": 0},
                                  {"query": "x", "top_k": 51}, {"query": "x" * 2001},
                                  {"query": "x", "filter": {"tenant": "globex"}}])
def test_when_retrieve_body_invalid_then_422_without_echo(client: TestClient,
                                                          body: dict[str, object]) -> None:
    r = client.post("/v1/retrieve", json=body, headers=bearer(**EMPLOYEE))
    assert r.status_code == 422
    assert "error" in r.json() and "globex" not in r.text and "xxxx" not in r.text


def test_when_retrieval_id_of_another_principal_then_inspect_refuses(client: TestClient) -> None:
    rid = client.post("/v1/retrieve", json={"query": "payroll"},
                      headers=bearer(**HR)).json()["retrieval_id"]
    ok = client.post("/v1/inspect", json={"answer": "All good.", "retrieval_id": rid},
                     headers=bearer(**HR))
    assert ok.status_code == 200 and ok.json()["verdict"] == "allow"
    other = client.post("/v1/inspect", json={"answer": "All good.", "retrieval_id": rid},
                        headers=bearer(**EMPLOYEE))
    assert other.status_code == 422


def test_when_answer_leaks_ssn_to_employee_then_inspect_redacts(client: TestClient) -> None:
    answer = "Her SSN is 536-22-8419 and she lives in Ohio."
    r = client.post("/v1/inspect", json={"answer": answer, "retrieval_id": None},
                    headers=bearer(**EMPLOYEE))
    body = r.json()
    assert body["verdict"] in {"redact", "block"}
    assert "536-22-8419" not in body["answer"]
    assert any(f["type"] == "US_SSN" for f in body["findings"])


def test_when_not_ingestor_then_documents_forbidden(client: TestClient) -> None:
    files = {"file": ("note.txt", b"hello", "text/plain")}
    assert client.post("/v1/documents", files=files, headers=bearer(**EMPLOYEE)).status_code == 403
    assert client.delete("/v1/documents/abc", headers=bearer(**EMPLOYEE)).status_code == 403


def test_when_ingestor_uploads_then_201_and_delete_erases(client: TestClient) -> None:
    text = b"Quarterly zeppelin maintenance notes: inspect the gondola hinges weekly."
    files = {"file": ("zeppelin-notes.txt", text, "text/plain")}
    acl = json.dumps({"groups": ["all-staff"], "level": "internal"})
    r = client.post("/v1/documents", files=files, data={"acl": acl}, headers=bearer(**INGESTOR))
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["chunks"] >= 1 and doc["level"] == "internal"
    found = client.post("/v1/retrieve", json={"query": "zeppelin gondola hinges", "top_k": 1},
                        headers=bearer(**EMPLOYEE)).json()["chunks"]
    assert found and found[0]["doc_id"] == doc["doc_id"]
    assert client.delete(f"/v1/documents/{doc['doc_id']}",
                         headers=bearer(**INGESTOR)).status_code == 204
    after = client.post("/v1/retrieve", json={"query": "zeppelin gondola hinges", "top_k": 50},
                        headers=bearer(**EMPLOYEE)).json()["chunks"]
    assert all(c["doc_id"] != doc["doc_id"] for c in after)
    assert client.delete(f"/v1/documents/{doc['doc_id']}",
                         headers=bearer(**INGESTOR)).status_code == 404


def test_when_other_tenant_deletes_then_404(client: TestClient, world: World) -> None:
    doc_id = world.reports["acme"].ingested[0].doc_id
    other = dict(INGESTOR, tenant="globex")
    assert client.delete(f"/v1/documents/{doc_id}", headers=bearer(**other)).status_code == 404


def test_when_upload_type_unsupported_then_422(client: TestClient) -> None:
    files = {"file": ("tool.exe", b"MZ\x90\x00", "application/octet-stream")}
    assert client.post("/v1/documents", files=files, headers=bearer(**INGESTOR)).status_code == 422


def test_when_steward_puts_invalid_policy_then_422_and_old_policy_kept(
    client: TestClient,
) -> None:
    assert client.get("/v1/policy", headers=bearer(**EMPLOYEE)).status_code == 403
    before = client.get("/v1/policy", headers=bearer(**STEWARD))
    assert before.status_code == 200
    bad = "levels: [public]\nentities:\n  PERSON: {level: secret}\n"
    r = client.put("/v1/policy", content=bad, headers=bearer(**STEWARD))
    assert r.status_code == 422 and "entities.PERSON.level" in r.json()["error"]["message"]
    assert client.get("/v1/policy", headers=bearer(**STEWARD)).json() == before.json()


BAD_POLICIES = {
    "duplicate entity": ("levels: [public, internal]\nentities:\n  PERSON: {level: internal}\n"
                         "  PERSON: {level: public}\n", "entities.PERSON: duplicate key at line 4"),
    "catastrophic regex": ("levels: [public, internal]\nrecognizers:\n  - entity: X_ID\n"
                           "    patterns: ['(a+)+$']\n    level: internal\n",
                           "recognizers[0].patterns[0]: regular expression refused"),
    "unknown mask": ('{"levels": ["public"], "entities": {"PERSON": {"level": "public", '
                     '"mask": "blur"}}}', "entities.PERSON.mask:"),
    "role clearance": ("levels: [public]\nroles:\n  hr: {clearance: top}\n",
                       "roles.hr.clearance: unknown level 'top'"),
}


@pytest.mark.parametrize("case", list(BAD_POLICIES))
def test_when_put_policy_is_invalid_then_422_with_key_path_and_the_old_policy_still_decides(
    client: TestClient, case: str,
) -> None:
    body, expected = BAD_POLICIES[case]
    before = client.get("/v1/policy", headers=bearer(**STEWARD)).json()
    asked = {"query": "What is Maria Gonzalez's phone number?", "top_k": 3}
    seen = client.post("/v1/retrieve", json=asked, headers=bearer(**EMPLOYEE)).json()

    r = client.put("/v1/policy", content=body, headers=bearer(**STEWARD))

    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_policy"
    assert expected in r.json()["error"]["message"]
    assert client.get("/v1/policy", headers=bearer(**STEWARD)).json() == before
    again = client.post("/v1/retrieve", json=asked, headers=bearer(**EMPLOYEE)).json()
    assert [(c["chunk_id"], c["text"]) for c in again["chunks"]] == \
           [(c["chunk_id"], c["text"]) for c in seen["chunks"]]


def test_when_the_policy_file_is_invalid_then_the_server_does_not_start(
    tmp_path: Path,
) -> None:
    from ragseal.api._app import create_app
    from ragseal.api._settings import Settings
    from ragseal.classification import PolicyError

    bad = tmp_path / "policy.yaml"
    bad.write_text(BAD_POLICIES["duplicate entity"][0], encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", jwt_secret=JWT_SECRET, policy=bad)
    app = create_app(settings)
    with pytest.raises(PolicyError, match=r"entities\.PERSON: duplicate key"):
        with TestClient(app):
            pass  # startup (the lifespan) must fail before any request is served


def test_when_body_too_large_then_413(client: TestClient, world: World) -> None:
    size = world.settings.max_body_bytes + 1
    r = client.post("/v1/retrieve", content=b"{" + b" " * size + b"}",
                    headers={**bearer(**EMPLOYEE), "content-type": "application/json"})
    assert r.status_code == 413


def test_when_health_and_metrics_requested_then_served(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    r = client.get("/metrics")
    assert r.status_code == 200 and "ragseal_requests_total" in r.text
