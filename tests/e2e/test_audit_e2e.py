"""The audit trail through the real app and CLI over the ingested sample corpus.

Placed under tests/e2e (not tests/api) to reuse the session ``world``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ragseal.api._auth import mint_token
from ragseal.api.cli import main

from .conftest import World, bearer

CANARY = "CANARY-5be1 who approved the payroll change for Maria Gonzalez"
EMPLOYEE = dict(sub="emp@acme.example", tenant="acme", groups=["all-staff"], roles=["employee"])
INGESTOR = dict(sub="bot@acme.example", tenant="acme", groups=["all-staff"], roles=["ingestor"])
STEWARD = dict(sub="steward@acme.example", tenant="acme", groups=["all-staff"],
               roles=["steward"])


def new_records(world: World, action: Callable[[], object]) -> list[dict[str, object]]:
    """The event records ``action`` appended to this process's chain."""
    path = world.services.audit.path
    before = len(path.read_text().splitlines())
    action()
    lines = path.read_text().splitlines()[before:]
    return [r for r in map(json.loads, lines) if r["kind"] == "event"]


def one(world: World, action: Callable[[], object]) -> dict[str, object]:
    records = new_records(world, action)
    assert len(records) == 1, records
    return records[0]


def test_when_retrieve_then_one_record_with_chunk_ids_and_no_query(
        world: World, client: TestClient) -> None:
    answer: dict[str, object] = {}

    def call() -> None:
        r = client.post("/v1/retrieve", json={"query": CANARY, "top_k": 3},
                        headers=bearer(**EMPLOYEE))
        assert r.status_code == 200
        answer.update(r.json())

    rec = one(world, call)
    assert rec["action"] == "retrieve" and rec["outcome"] == "ok"
    assert rec["principal"] == {"sub": "emp@acme.example", "tenant": "acme"}
    assert rec["chunk_ids"] == [c["chunk_id"] for c in answer["chunks"]]  # type: ignore[union-attr]
    assert rec["policy"] == world.services.policy.fingerprint
    assert rec["query_hash"] == world.services.ids.keyed_hash("query", CANARY)


def test_when_inspect_then_one_record_with_verdict(world: World, client: TestClient) -> None:
    def call() -> None:
        r = client.post("/v1/inspect", json={"answer": CANARY + " card 4111 1111 1111 1111"},
                        headers=bearer(**EMPLOYEE))
        assert r.status_code == 200

    rec = one(world, call)
    assert rec["action"] == "inspect" and rec["verdict"] in {"allow", "redact", "block"}


def test_when_upload_and_delete_then_one_record_each(world: World, client: TestClient) -> None:
    doc: dict[str, object] = {}

    def upload() -> None:
        r = client.post("/v1/documents", headers=bearer(**INGESTOR),
                        files={"file": ("audit-note.txt", b"Quarterly travel policy note.")},
                        data={"acl": json.dumps({"groups": ["all-staff"], "level": "internal"})})
        assert r.status_code == 201, r.text
        doc.update(r.json())

    rec = one(world, upload)
    assert rec["action"] == "ingest" and rec["doc_id"] == doc["doc_id"]
    assert rec["chunks"] == doc["chunks"]

    def delete() -> None:
        assert client.delete(f"/v1/documents/{doc['doc_id']}",
                             headers=bearer(**INGESTOR)).status_code == 204

    rec = one(world, delete)
    assert rec["action"] == "delete" and rec["doc_id"] == doc["doc_id"]


def test_when_policy_put_then_one_record_with_fingerprints(
        world: World, client: TestClient) -> None:
    current = client.get("/v1/policy", headers=bearer(**STEWARD)).json()

    def put() -> None:
        r = client.put("/v1/policy", content=json.dumps(current),
                       headers={**bearer(**STEWARD), "content-type": "application/json"})
        assert r.status_code == 200, r.text

    rec = one(world, put)
    assert rec["action"] == "policy_update" and rec["outcome"] == "ok"
    assert rec["previous"] == rec["policy"] == world.services.policy.fingerprint

    def bad() -> None:
        r = client.put("/v1/policy", content=b"levels: 3",
                       headers={**bearer(**STEWARD), "content-type": "application/yaml"})
        assert r.status_code == 422

    assert one(world, bad)["outcome"] == "invalid"


def test_when_bad_token_then_auth_failed_with_reason_only(
        world: World, client: TestClient) -> None:
    token = mint_token("x" * 40, sub="mallory", tenant="acme")

    def call() -> None:
        r = client.post("/v1/retrieve", json={"query": CANARY},
                        headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401

    rec = one(world, call)
    assert rec["action"] == "auth_failed" and rec["reason"] == "signature"
    assert rec["principal"] is None and rec["route"] == "/v1/retrieve"
    assert token not in world.services.audit.path.read_text()

    def missing() -> None:
        assert client.get("/v1/policy").status_code == 401

    assert one(world, missing)["reason"] == "missing"


def test_when_role_missing_then_access_denied(world: World, client: TestClient) -> None:
    def call() -> None:
        assert client.get("/v1/policy", headers=bearer(**EMPLOYEE)).status_code == 403

    rec = one(world, call)
    assert rec["action"] == "access_denied" and rec["required_role"] == "steward"
    assert rec["principal"] == {"sub": "emp@acme.example", "tenant": "acme"}


def test_when_audit_cannot_write_then_request_fails_closed(
        world: World, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from ragseal.store import AuditError

    def broken(*_a: object, **_k: object) -> None:
        raise AuditError("audit: a record could not be written")

    monkeypatch.setattr(world.services.audit, "record", broken)
    r = client.post("/v1/retrieve", json={"query": CANARY}, headers=bearer(**EMPLOYEE))
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "audit_unavailable" and "chunks" not in r.json()
    r = client.get("/v1/policy")
    assert r.status_code == 503


def _verify(world: World, audit_dir: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.setenv("RAGSEAL_DATA_DIR", str(audit_dir.parent))
    monkeypatch.setenv("RAGSEAL_KEYRING", str(world.settings.keyring_dir))
    capsys.readouterr()
    code = main(["audit", "verify"])
    out, err = capsys.readouterr()
    return code, out, err


def test_when_verify_then_0_and_1_after_a_byte_edit_and_no_canary(
        world: World, client: TestClient, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    client.post("/v1/retrieve", json={"query": CANARY}, headers=bearer(**EMPLOYEE))
    copy = tmp_path / "data" / "audit"
    shutil.copytree(world.data_dir / "audit", copy)
    for path in copy.iterdir():
        assert "CANARY" not in path.read_text()
    code, out, err = _verify(world, copy, monkeypatch, capsys)
    assert code == 0, err
    chain = copy / world.services.audit.path.name
    data = bytearray(chain.read_bytes())
    data[data.index(b'"retrieve"') + 2] ^= 0x01
    chain.write_bytes(bytes(data))
    code, out, err = _verify(world, copy, monkeypatch, capsys)
    assert code == 1
    assert chain.name in err and "seq" in err


def test_when_export_since_then_json_lines_with_chain_fields(
        world: World, client: TestClient, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    client.post("/v1/retrieve", json={"query": CANARY}, headers=bearer(**EMPLOYEE))
    monkeypatch.setenv("RAGSEAL_DATA_DIR", str(world.data_dir))
    capsys.readouterr()
    assert main(["audit", "export", "--since", "1h"]) == 0
    out = capsys.readouterr().out
    records = [json.loads(line) for line in out.splitlines()]
    assert any(r["action"] == "retrieve" for r in records)
    assert all({"seq", "prev", "hash", "replica", "time"} <= r.keys() for r in records)
    assert "CANARY" not in out
    assert main(["audit", "export", "--since", "yesterday-ish"]) == 2
