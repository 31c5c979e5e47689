"""The batch runner for cron jobs and stewards (issue 20, items 8, 9 and 16).

Stub classifier and embedder (the runner's decisions need no model); real
store, keyring, manifest and loaders.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from ragseal.classification import Pseudonymizer, default_policy
from ragseal.ingest import Ingestor, load_manifest
from ragseal.ingest._runner import ingest_paths
from ragseal.store import EdgeStore, IdHasher, LocalKeyring


class _Nothing:
    findings: tuple[()] = ()
    marker_level = None


class _Counting:
    """Stub models that count their calls: an unchanged run must make none."""

    def __init__(self) -> None:
        self.calls = 0

    def classify(self, text: str) -> _Nothing:
        self.calls += 1
        return _Nothing()

    def split(self, text: str) -> list[tuple[int, int]]:
        return [(0, len(text))]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        return [[1.0] + [0.0] * 383 for _ in texts]


@pytest.fixture
def models() -> _Counting:
    return _Counting()


@pytest.fixture
def ingestor(tmp_path: Path, models: _Counting) -> Iterator[Ingestor]:
    keys = LocalKeyring(tmp_path / "keys", os.urandom(32))
    store = EdgeStore(tmp_path / "store")
    yield Ingestor(policy=default_policy(), classifier=models, chunker=models, embedder=models,
                   store=store, keys=keys, ids=IdHasher(keys.secret("ids")),
                   pseudonyms=Pseudonymizer(keys.secret("pseudonyms")))
    store.close()
    keys.close()


MANIFEST = """\
defaults: {tenant: acme, groups: [all-staff], level: internal}
rules:
  - match: "hr/**"
    groups: [hr]
  - match: "board/**"
    groups: [executives]
"""


def _docs(root: Path) -> Path:
    (root / "hr").mkdir(parents=True)
    (root / "handbook").mkdir()
    (root / "hr" / "review.txt").write_text("Annual review notes for the team.\n")
    (root / "handbook" / "travel.md").write_text("# Travel\n\nBook trains early.\n")
    (root / "handbook" / "legacy.txt").write_text("Old notes kept for reference.\n")
    return root


def test_when_the_manifest_lives_elsewhere_then_root_anchors_its_patterns_and_unused_rules_are_named(
    tmp_path: Path, ingestor: Ingestor,
) -> None:
    docs = _docs(tmp_path / "srv" / "docs")
    (tmp_path / "etc").mkdir()
    manifest_path = tmp_path / "etc" / "acl.yaml"
    manifest_path.write_text(MANIFEST)
    manifest = load_manifest(manifest_path)

    report = ingest_paths(ingestor, [docs], manifest, root=docs)

    assert not report.refused
    assert len(report.ingested) == 3
    by_path = {Path(p).name: r.tenant for p, r in zip(report.paths, report.ingested, strict=True)}
    assert set(by_path) == {"review.txt", "travel.md", "legacy.txt"}
    assert report.unmatched_rules == ["rules[1] (board/**)"]
    assert "unmatched_rules=1" in report.summary()


def test_when_no_root_is_given_for_a_manifest_kept_elsewhere_then_every_rule_is_named_unmatched(
    tmp_path: Path, ingestor: Ingestor,
) -> None:
    docs = _docs(tmp_path / "srv" / "docs")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "acl.yaml").write_text(MANIFEST)

    report = ingest_paths(ingestor, [docs], load_manifest(tmp_path / "etc" / "acl.yaml"))

    assert len(report.refused) == 3 and not report.ingested
    assert report.unmatched_rules == ["rules[0] (hr/**)", "rules[1] (board/**)"]


def test_when_a_cron_job_excludes_files_then_they_are_neither_ingested_nor_refused(
    tmp_path: Path, ingestor: Ingestor,
) -> None:
    docs = _docs(tmp_path / "docs")
    (docs / "acl.yaml").write_text(MANIFEST)
    (docs / "handbook" / "broken.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00" * 64)
    manifest = load_manifest(docs / "acl.yaml")

    report = ingest_paths(ingestor, [docs], manifest, exclude=[docs / "acl.yaml"],
                          exclude_patterns=["*.pdf", "handbook/legacy.txt"])

    assert not report.refused
    assert report.excluded == 2
    assert sorted(Path(p).name for p in report.paths) == ["review.txt", "travel.md"]


def test_when_files_change_or_go_then_the_report_names_them_and_the_summary_is_stable(
    tmp_path: Path, ingestor: Ingestor,
) -> None:
    docs = _docs(tmp_path / "docs")
    (docs / "acl.yaml").write_text(MANIFEST)
    manifest = load_manifest(docs / "acl.yaml")
    first = ingest_paths(ingestor, [docs], manifest, exclude=[docs / "acl.yaml"])
    assert len(first.added_paths) == 3 and not first.changed_paths

    (docs / "hr" / "review.txt").write_text("Annual review notes, second draft.\n")
    (docs / "handbook" / "legacy.txt").unlink()
    second = ingest_paths(ingestor, [docs], manifest, exclude=[docs / "acl.yaml"], sync=True)

    assert [Path(p).name for p in second.changed_paths] == ["review.txt"]
    assert second.removed_paths == ["handbook/legacy.txt"]
    assert second.summary() == ("ragseal ingest: added=0 changed=1 unchanged=1 removed=1 "
                                "refused=0 excluded=0 skipped=0 chunks=1 unmatched_rules=1")
    assert re.fullmatch(r"ragseal ingest:( [a-z_]+=\d+)+", second.summary())
    assert second.as_dict()["removed_paths"] == ["handbook/legacy.txt"]


@pytest.mark.slow
def test_when_nothing_changed_then_no_model_runs_and_no_worker_pool_starts(
    tmp_path: Path, ingestor: Ingestor, models: _Counting, monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "acl.yaml").write_text(MANIFEST)
    for i in range(16):  # enough files for a pool of 2 workers (8 per worker)
        (docs / f"note-{i:02}.txt").write_text(f"Note number {i} about the office plants.\n")
    manifest = load_manifest(docs / "acl.yaml")
    first = ingest_paths(ingestor, [docs], manifest, exclude=[docs / "acl.yaml"])
    assert len(first.ingested) == 16
    calls = models.calls

    import ragseal.ingest._workers as workers

    def no_pool(*_a: object, **_k: object) -> None:
        raise AssertionError("a worker pool was started for an unchanged run")

    monkeypatch.setattr(workers, "ParsePool", no_pool)
    again = ingest_paths(ingestor, [docs], manifest, exclude=[docs / "acl.yaml"], workers=2)

    assert len(again.unchanged) == 16 and not again.ingested
    assert models.calls == calls
