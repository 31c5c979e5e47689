"""Bad input never stops a batch: each bad file is refused with its reason.

The refusals come from the runner and the loaders before any model runs,
so a stub classifier and embedder keep these tests fast; the store and
keyring are real.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from ragseal.classification import Pseudonymizer, default_policy
from ragseal.ingest import Ingestor, load_manifest
from ragseal.ingest._runner import BatchReport, ingest_paths
from ragseal.store import EdgeStore, IdHasher, LocalKeyring

MANIFEST = "defaults: {tenant: acme, groups: [all-staff], level: internal}\n" \
           "rules:\n  - match: \"secret/**\"\n    groups: []\n    users: []\n"


class _Nothing:
    findings: tuple[()] = ()
    marker_level = None


class _StubClassifier:
    def classify(self, text: str) -> _Nothing:
        return _Nothing()


class _StubChunker:
    def split(self, text: str) -> list[tuple[int, int]]:
        return [(0, len(text))]


class _StubEmbedder:
    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[1.0] + [0.0] * 383 for _ in texts]


@pytest.fixture
def ingestor(tmp_path: Path) -> Iterator[Ingestor]:
    keys = LocalKeyring(tmp_path / "keys", os.urandom(32))
    store = EdgeStore(tmp_path / "store")
    yield Ingestor(
        policy=default_policy(), classifier=_StubClassifier(), chunker=_StubChunker(),
        embedder=_StubEmbedder(), store=store, keys=keys, ids=IdHasher(keys.secret("ids")),
        pseudonyms=Pseudonymizer(keys.secret("pseudonyms")),
    )
    store.close()
    keys.close()


def _corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "acl.yaml").write_text(MANIFEST)
    (corpus / "good.txt").write_text("The office opens at 8:30.")
    return corpus


def _run(ingestor: Ingestor, corpus: Path, **kw: object) -> BatchReport:
    manifest = corpus / "acl.yaml"
    return ingest_paths(ingestor, [corpus], load_manifest(manifest), exclude=[manifest],
                        **kw)  # type: ignore[arg-type]


def _reasons(report: BatchReport) -> dict[str, str]:
    return {Path(r.path).name: r.reason for r in report.refused}


def _bad(corpus: Path, name: str) -> None:
    path = corpus / name
    if name == "corrupt.pdf":
        path.write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    elif name == "encrypted.pdf":
        path.write_bytes(b"%PDF-1.4\n1 0 obj<</Filter/Standard/V 2/R 3/O(x)/U(y)/P -4>>endobj\n"
                         b"trailer<</Encrypt 1 0 R/Root 2 0 R>>\n%%EOF\n")
    elif name == "empty.txt":
        path.write_bytes(b"")
    elif name == "junk.txt":
        path.write_bytes(bytes(range(256)) * 8)
    elif name == "huge.txt":
        with path.open("wb") as fh:
            fh.truncate(51 * 2**20)  # sparse: over the 50 MiB cap without writing it
    elif name == "data.xyz":
        path.write_text("plain words in an unknown format")
    elif name == "loop":
        path.symlink_to(path)
    elif name == "secret":
        path.mkdir()
        (path / "nobody.txt").write_text("No group and no user may read this.")


CASES = {
    "corrupt.pdf": "corrupt or encrypted PDF",
    "encrypted.pdf": "corrupt or encrypted PDF",
    "empty.txt": "empty file",
    "junk.txt": "not",  # "not valid UTF-8 text" or "binary data, not text"
    "huge.txt": "file too large",
    "data.xyz": "unsupported file type .xyz",
    "loop": "symlink loop",
    "nobody.txt": "no ACL",  # a rule that names no reader: default deny
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_when_a_file_is_bad_then_it_is_refused_with_its_reason_and_the_run_goes_on(
    ingestor: Ingestor, tmp_path: Path, name: str,
) -> None:
    corpus = _corpus(tmp_path)
    _bad(corpus, "secret" if name == "nobody.txt" else name)
    report = _run(ingestor, corpus)
    assert [Path(p).name for p in report.paths] == ["good.txt"]
    assert list(_reasons(report)) == [name]
    assert CASES[name] in _reasons(report)[name]


def test_when_every_bad_input_is_in_one_folder_then_each_is_listed_and_good_files_ingested(
    ingestor: Ingestor, tmp_path: Path,
) -> None:
    corpus = _corpus(tmp_path)
    for name in CASES:
        _bad(corpus, "secret" if name == "nobody.txt" else name)
    (corpus / "uncovered").mkdir()
    report = _run(ingestor, corpus)
    assert len(report.ingested) == 1
    assert set(_reasons(report)) == set(CASES)
    assert report.as_dict()["refused"] == len(CASES)


def test_when_a_file_is_unreadable_then_it_is_refused(
    ingestor: Ingestor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    corpus = _corpus(tmp_path)
    locked = corpus / "locked.txt"
    locked.write_text("You may not read me.")
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads through chmod 000: stand in for the kernel's answer
        import ragseal.ingest._runner as runner

        real = os.access
        monkeypatch.setattr(runner.os, "access",
                            lambda p, mode: False if Path(p) == locked else real(p, mode))
    report = _run(ingestor, corpus)
    assert _reasons(report) == {"locked.txt": "unreadable file (permission denied)"}
    assert len(report.ingested) == 1


def test_when_no_rule_covers_a_file_then_it_is_refused_by_default(
    ingestor: Ingestor, tmp_path: Path,
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "acl.yaml").write_text("rules:\n  - match: \"hr/**\"\n    tenant: acme\n"
                                     "    groups: [hr]\n")
    (corpus / "stray.txt").write_text("Nobody wrote a rule for me.")
    report = _run(ingestor, corpus)
    assert _reasons(report) == {"stray.txt": "no ACL rule covers this file (default deny)"}


def test_when_run_twice_then_the_second_run_reports_unchanged_and_writes_nothing(
    ingestor: Ingestor, tmp_path: Path,
) -> None:
    corpus = _corpus(tmp_path)
    first = _run(ingestor, corpus)
    second = _run(ingestor, corpus)
    assert len(first.ingested) == 1 and second.ingested == []
    assert [r.doc_id for r in second.unchanged] == [first.ingested[0].doc_id]
    assert second.as_dict()["unchanged"] == 1 and second.as_dict()["written"] == 0


def test_when_a_file_is_gone_then_sync_erases_its_document_and_key(
    ingestor: Ingestor, tmp_path: Path,
) -> None:
    corpus = _corpus(tmp_path)
    (corpus / "old.txt").write_text("Soon to be deleted.")
    first = _run(ingestor, corpus)
    gone = next(r.doc_id for r, p in zip(first.ingested, first.paths, strict=True)
                if p.endswith("old.txt"))
    (corpus / "old.txt").unlink()
    kept = _run(ingestor, corpus)
    assert kept.removed == []
    synced = _run(ingestor, corpus, sync=True)
    assert synced.removed == [gone]
    assert ingestor._store.document_point_ids("acme", gone) == []
    assert ingestor._keys.current_version(gone, "acme") is None


def test_when_a_file_changes_then_only_the_new_version_opens_and_old_points_are_gone(
    ingestor: Ingestor, tmp_path: Path,
) -> None:
    corpus = _corpus(tmp_path)
    first = _run(ingestor, corpus).ingested[0]
    (corpus / "good.txt").write_text("The office now opens at 9:00.")
    second = _run(ingestor, corpus).ingested[0]
    assert second.doc_id == first.doc_id and second.version != first.version
    assert second.removed_points == first.chunks
    hits = ingestor._store.retrieve(ingestor._store.document_point_ids("acme", first.doc_id))
    assert {h.payload["version"] for h in hits} == {second.version}
    keys = ingestor._keys
    assert keys.current_version(first.doc_id, "acme") == second.version
    from ragseal.store import DataKeyNotFound

    with pytest.raises(DataKeyNotFound):
        keys.data_key(first.doc_id, "acme", version=first.version)


@pytest.mark.slow
def test_when_run_with_workers_then_same_outcome_as_one_process_in_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ragseal.ingest import _workers

    submitted: list[Path] = []
    real_submit = _workers.ParsePool.submit

    def counting_submit(self: _workers.ParsePool,  # type: ignore[no-untyped-def]
                        paths: list[Path]):
        submitted.extend(paths)
        return real_submit(self, paths)

    monkeypatch.setattr(_workers.ParsePool, "submit", counting_submit)
    reports = []
    for name, workers in (("one", 1), ("pool", 2)):
        root = tmp_path / name
        root.mkdir()
        corpus = _corpus(root)
        for i in range(20):
            (corpus / f"note-{i:02d}.txt").write_text(
                f"Maintenance note {i}: check the gripper calibration on line {i % 4}.")
        for bad in ("empty.txt", "junk.txt", "data.xyz"):
            _bad(corpus, bad)
        keys = LocalKeyring(root / "keys", os.urandom(32))
        store = EdgeStore(root / "store")
        ingestor = Ingestor(
            policy=default_policy(), classifier=_StubClassifier(), chunker=_StubChunker(),
            embedder=_StubEmbedder(), store=store, keys=keys, ids=IdHasher(keys.secret("ids")),
            pseudonyms=Pseudonymizer(keys.secret("pseudonyms")),
        )
        ticks: list[Path] = []
        report = _run(ingestor, corpus, workers=workers, on_file=ticks.append)
        assert len(ticks) == 24  # every file ticks the progress once, pooled or not
        reports.append((report, store.count()))
        store.close()
        keys.close()
    (one, one_points), (pool, pool_points) = reports
    assert [Path(p).name for p in pool.paths] == [Path(p).name for p in one.paths]
    assert len(pool.paths) == 21 and pool_points == one_points == 21
    assert _reasons(pool) == _reasons(one) and len(pool.refused) == 3
    assert [r.level for r in pool.ingested] == [r.level for r in one.ingested]
    assert len(submitted) == 23  # the pooled run parsed every candidate in a worker


@pytest.mark.slow  # a real classifier warms up in this process
def test_when_a_worker_batch_mixes_refused_and_loaded_files_then_each_answer_keeps_its_slot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ragseal.ingest import _workers

    monkeypatch.setattr(_workers, "_classifier", None)
    _workers._init(default_policy())
    paths = []
    for name, body in (("a.txt", "Call Dana Whitfield at 415-555-0142."), ("empty.txt", ""),
                       ("b.txt", "Nothing sensitive here at all."), ("gone.txt", None)):
        path = tmp_path / name
        if body is not None:
            path.write_text(body)
        paths.append(str(path))
    answers = _workers._parse(paths)
    assert [a[0] for a in answers] == ["Call Dana Whitfield at 415-555-0142.", "",
                                       "Nothing sensitive here at all.", ""]
    assert [a[3] is None for a in answers] == [True, False, True, False]
    assert {span[0] for span in answers[0][1]} >= {"PERSON", "PHONE_NUMBER"}
    assert answers[2][1] == ()
