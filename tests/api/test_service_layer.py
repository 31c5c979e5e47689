"""The service layer: the CLI and the routes call the same operations, which audit.

The CLI's records used to drift from the API's (no ``retrieval_hash`` on a
CLI retrieve; every ingest record written after the whole run). These run
the real CLI against a private data dir.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ragseal.api._routes._models import RetrieveRequest, retrieve_request
from ragseal.api._settings import Settings
from ragseal.api.cli import main
from ragseal.store import read_audit

MANIFEST = "defaults: {tenant: acme, groups: [staff], level: public}\n"


def _records(action: str) -> list[dict[str, object]]:
    audit = Path(os.environ["RAGSEAL_DATA_DIR"]) / "audit"
    return [r for r in read_audit(audit, None)
            if r.get("kind") == "event" and r.get("action") == action]


def _corpus(root: Path) -> Path:
    root.mkdir()
    for name in ("a-first.txt", "b-second.txt", "c-third.txt"):
        (root / name).write_text(f"Notes {name}: the rollout checklist is reviewed weekly.\n",
                                 encoding="utf-8")
    manifest = root / "acl.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    return manifest


def test_when_an_ingest_dies_midway_then_the_documents_it_committed_are_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from ragseal.ingest import Ingestor

    manifest = _corpus(tmp_path / "docs")
    original = Ingestor.switch  # each document's version switch (its commit)
    calls: list[int] = []

    def dies_on_the_second(self: Ingestor, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the machine went away")
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Ingestor, "switch", dies_on_the_second)

    code = main(["ingest", str(tmp_path / "docs"), "--manifest", str(manifest),
                 "--workers", "1"])

    assert code == 1  # the unexpected error, in one line
    assert "unexpected error (RuntimeError)" in capsys.readouterr().err
    records = _records("ingest")
    assert len(records) == 1 and records[0]["outcome"] == "ok"  # written as it committed


def test_when_the_cli_retrieves_then_its_record_has_the_retrieval_hash_like_the_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    manifest = _corpus(tmp_path / "docs")
    assert main(["ingest", str(tmp_path / "docs"), "--manifest", str(manifest)]) == 0
    capsys.readouterr()

    assert main(["query", "rollout checklist", "--user", "u", "--groups", "staff",
                 "--tenant", "acme", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)

    (record,) = _records("retrieve")
    assert record["via"] == "cli" and answer["chunks"]
    assert isinstance(record["retrieval_hash"], str) and len(record["retrieval_hash"]) >= 16
    assert answer["retrieval_id"] not in json.dumps(record)


def test_when_the_query_is_over_the_setting_then_the_cli_refuses_it_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    manifest = _corpus(tmp_path / "docs")
    assert main(["ingest", str(tmp_path / "docs"), "--manifest", str(manifest)]) == 0
    monkeypatch.setenv("RAGSEAL_MAX_QUERY_CHARS", "10")
    capsys.readouterr()

    code = main(["query", "a question longer than ten", "--user", "u", "--tenant", "acme"])

    assert code == 2
    assert capsys.readouterr().err.strip() == \
        "ragseal: query is too long: at most 10 characters"
    (record,) = _records("retrieve")
    assert record["outcome"] == "invalid" and record["reason"] == "query_too_long"


def test_when_max_query_chars_is_set_then_the_request_model_and_its_schema_follow() -> None:
    assert retrieve_request(Settings()) is RetrieveRequest
    raised = retrieve_request(Settings(max_query_chars=3000))
    schema = raised.model_json_schema()
    assert schema["properties"]["query"]["maxLength"] == 3000
    assert raised(query="x" * 2500).query == "x" * 2500
    with pytest.raises(ValueError, match="whitespace"):
        raised(query="   ")  # the base model's validators still hold
