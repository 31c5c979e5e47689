"""``quarantine list`` has headers and, for one tenant, the source path (issue 20, item 11).

The data folder is the one the CLI opens (same Services); the document is
ingested with stub models (no NER, no embedding model) and its chunk is
then held, as the injection scorer would hold it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from ragseal.api._container import Services
from ragseal.api._settings import Settings
from ragseal.api.cli import main
from ragseal.ingest import Acl, Ingestor
from ragseal.store import read_audit


class _Nothing:
    findings: tuple[()] = ()
    marker_level = None


class _Stub:
    def classify(self, text: str) -> _Nothing:
        return _Nothing()

    def split(self, text: str) -> list[tuple[int, int]]:
        return [(0, len(text))]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[1.0] + [0.0] * 383 for _ in texts]


@pytest.fixture
def held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("RAGSEAL_DATA_DIR", str(data_dir))
    services = Services(Settings())
    try:
        stub = _Stub()
        ingestor = Ingestor(policy=services.policy, classifier=stub, chunker=stub, embedder=stub,
                            store=services.store, keys=services.keys, ids=services.ids,
                            pseudonyms=services.pseudonyms)
        acl = Acl(tenant="acme", groups=("hr",), users=(), level="internal")
        result = ingestor.ingest_text("Onboarding notes for the next cohort.",
                                      source="hr/onboarding/notes.txt", acl=acl)
        for point_id in services.store.document_point_ids("acme", result.doc_id):
            services.store.set_payload(point_id, {"quarantined": 1})
    finally:
        services.close()
    return data_dir, result.doc_id


def test_when_a_steward_lists_one_tenant_then_headers_and_the_source_path_are_shown_and_audited(
    held: tuple[Path, str], capsys: pytest.CaptureFixture[str],
) -> None:
    data_dir, doc_id = held
    capsys.readouterr()

    assert main(["quarantine", "list", "--tenant", "acme"]) == 0
    lines = capsys.readouterr().out.splitlines()

    assert lines[0].split() == ["TENANT", "DOC_ID", "SCORE", "CHUNKS", "SIGNALS", "PATH"]
    assert lines[1].split()[0] == "acme" and lines[1].split()[1] == doc_id
    assert lines[1].endswith("hr/onboarding/notes.txt")
    reveals = [r for r in read_audit(data_dir / "audit") if r.get("action") == "source_reveal"]
    assert len(reveals) == 1
    assert "hr/onboarding" not in str(reveals[0])  # the audit names ids, never the path


def test_when_no_tenant_is_given_then_no_path_is_opened(
    held: tuple[Path, str], capsys: pytest.CaptureFixture[str],
) -> None:
    data_dir, _ = held
    capsys.readouterr()

    assert main(["quarantine", "list"]) == 0
    out = capsys.readouterr().out

    assert "hr/onboarding" not in out
    assert "(give --tenant)" in out
    assert not [r for r in read_audit(data_dir / "audit") if r.get("action") == "source_reveal"]
