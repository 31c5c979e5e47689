"""Documents written in batches (``Ingestor.ingest_batch``, what ``ingest_paths``
runs): one embedder call and one upsert for several documents, every
durable-write rule of the one-at-a-time path kept.

Models are stubs that still tell documents apart (a regex classifier that
finds SSNs, which gate a chunk at restricted; a paragraph chunker; an
embedder whose vector is a hash of the chunk's text), so a vector given to
the wrong chunk, a level given to the wrong document or a key written after
its points shows; the store and keyring are real.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from ragseal.classification import Finding, Pseudonymizer, default_policy
from ragseal.ingest import Acl, Ingestor, IngestResult, load_manifest
from ragseal.ingest._pipeline import BatchItem, FilePlan, IngestError
from ragseal.ingest._runner import ingest_paths
from ragseal.store import DataKeyNotFound, EdgeStore, IdHasher, LocalKeyring, Point

MANIFEST = "defaults: {tenant: acme, groups: [all-staff], level: internal}\n"
SSN = re.compile(r"\d{3}-\d{2}-\d{4}")
IDS_SECRET = b"i" * 32
PSEUDONYM_SECRET = b"p" * 32


class _Found:
    def __init__(self, findings: tuple[Finding, ...]) -> None:
        self.findings = findings
        self.marker_level = None


class _SsnClassifier:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def classify(self, text: str) -> _Found:
        return self.classify_many([text])[0]

    def classify_many(self, texts: Sequence[str]) -> list[_Found]:
        self.batches.append(len(texts))
        return [_Found(tuple(Finding("US_SSN", m.start(), m.end(), 1.0, "stub")
                             for m in SSN.finditer(t))) for t in texts]


class _ParagraphChunker:
    def split(self, text: str) -> list[tuple[int, int]]:
        return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]


class _HashEmbedder:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        out = []
        for t in texts:
            digest = hashlib.sha256(t.encode()).digest()
            out.append([b / 255 + 0.01 for b in digest] * 12)  # 384 floats
        return out


class _RecordingStore(EdgeStore):
    """The real store, remembering what each upsert call wrote."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.upserts: list[list[Point]] = []

    def upsert(self, points: Sequence[Point]) -> None:
        self.upserts.append(list(points))
        super().upsert(points)


def _ingestor(root: Path, checkpoint: Any = None,
              embedder: Any = None) -> tuple[Ingestor, _RecordingStore, LocalKeyring]:
    keys = LocalKeyring(root / "keys", b"m" * 32)
    store = _RecordingStore(root / "store")
    ingestor = Ingestor(
        policy=default_policy(), classifier=_SsnClassifier(), chunker=_ParagraphChunker(),
        embedder=embedder or _HashEmbedder(), store=store, keys=keys,
        ids=IdHasher(IDS_SECRET), pseudonyms=Pseudonymizer(PSEUDONYM_SECRET),
        checkpoint=checkpoint,
    )
    return ingestor, store, keys


def _corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "acl.yaml").write_text(MANIFEST)
    for i in range(7):
        lines = [f"Note {i}, line {j}: the press on line {j} was serviced."
                 for j in range(i % 3 + 1)]
        if i % 3 == 1:
            lines.append(f"Employee SSN 123-45-{6780 + i} is on file.")
        (corpus / f"note-{i}.txt").write_text("\n\n".join(lines) + "\n")
    (corpus / "blank.txt").write_text("   \n\n  \n")  # refused, between batched files
    return corpus


def _run(ingestor: Ingestor, corpus: Path) -> Any:
    manifest = corpus / "acl.yaml"
    return ingest_paths(ingestor, [corpus], load_manifest(manifest), exclude=[manifest])


def _state(store: EdgeStore, keys: LocalKeyring) -> dict[str, Any]:
    """Point ids with their payloads but the ciphertext, and the key states."""
    points = {h.id: {k: v for k, v in h.payload.items() if k != "sealed"}
              for h in store.scroll()}
    return {"points": points, "pending": sorted(keys.pending_versions()),
            "keys": sorted((t, d, s) for t, d, _v, s in keys.key_versions())}


def test_when_files_are_ingested_in_a_batch_then_points_equal_the_one_at_a_time_path(
    tmp_path: Path,
) -> None:
    corpus = _corpus(tmp_path)
    batched, b_store, b_keys = _ingestor(tmp_path / "batched")
    report = _run(batched, corpus)
    single, s_store, s_keys = _ingestor(tmp_path / "single")
    acl = Acl(tenant="acme", groups=("all-staff",), users=(), level="internal")
    results: list[IngestResult] = []
    for name in sorted(p.name for p in corpus.glob("note-*.txt")):
        results.append(single.ingest_file(corpus / name, source=name, acl=acl))

    # One classify_many, one embedder call and one upsert for the 7 documents.
    work: Any = batched.work
    assert work._classifier.batches == [7]
    assert work._embedder.calls == [sum(i % 3 + 1 + (i % 3 == 1) for i in range(7))]
    assert len(b_store.upserts) == 1
    assert [Path(p).name for p in report.paths] == [f"note-{i}.txt" for i in range(7)]
    assert [r.reason for r in report.refused] == ["cannot load document: empty file"]
    # Congruence: same ids, versions, levels, payloads, and each point's vector
    # is its own chunk's (a vector shifted to a neighbour would differ).
    b_vectors = {p.id: list(p.vector) for p in b_store.upserts[0]}
    s_vectors = {p.id: list(p.vector) for call in s_store.upserts for p in call}
    assert b_vectors == s_vectors
    assert _state(b_store, b_keys)["points"] == _state(s_store, s_keys)["points"]
    assert [r.level for r in report.ingested] == [r.level for r in results]
    assert [r.level for r in report.ingested].count("restricted") == 2  # the SSN notes
    assert [(r.doc_id, r.version, r.chunks) for r in report.ingested] == \
        [(r.doc_id, r.version, r.chunks) for r in results]
    assert b_keys.pending_versions() == []
    for r in report.ingested:
        assert b_keys.current_version(r.doc_id, "acme") == r.version
    for store, keys in ((b_store, b_keys), (s_store, s_keys)):
        store.close()
        keys.close()


def _plan(ingestor: Ingestor, source: str, text: str, acl: Acl) -> BatchItem:
    doc_id = ingestor.doc_id(acl.tenant, source)
    version = ingestor.version_id(acl, hashlib.sha256(text.encode()).hexdigest())
    return BatchItem(FilePlan(doc_id, version, 0.0), text, source, acl)


def test_when_a_batch_holds_refused_documents_then_the_others_are_stored_and_no_key_is_left(
    tmp_path: Path,
) -> None:
    ingestor, store, keys = _ingestor(tmp_path)
    acl = Acl(tenant="acme", groups=("all-staff",), users=(), level="internal")
    nobody = Acl(tenant="acme", groups=(), users=(), level="internal")
    items = [_plan(ingestor, "a.txt", "First document.\nSecond line.", acl),
             _plan(ingestor, "empty.txt", "  \n ", acl),
             _plan(ingestor, "locked.txt", "Nobody may read this.", nobody),
             _plan(ingestor, "b.txt", "SSN 123-45-6789 of the last document.", acl)]
    answers = ingestor.ingest_batch(items)
    assert isinstance(answers[0], IngestResult) and answers[0].chunks == 2
    assert isinstance(answers[1], IngestError) and answers[1].reason == "no text to ingest"
    assert isinstance(answers[2], IngestError) and "no ACL group or user" in answers[2].reason
    assert isinstance(answers[3], IngestResult) and answers[3].level == "restricted"
    assert store.count() == 3 and keys.pending_versions() == []
    docs = {h.payload["doc_id"] for h in store.scroll()}
    assert docs == {items[0].plan.doc_id, items[3].plan.doc_id}
    with pytest.raises(ValueError, match="same document"):
        ingestor.ingest_batch([items[0], items[0]])
    store.close()
    keys.close()


def test_when_the_embedder_fails_a_batch_then_every_document_is_refused_and_no_key_is_left(
    tmp_path: Path,
) -> None:
    class _Short(_HashEmbedder):
        def embed(self, texts: Sequence[str]) -> list[list[float]]:
            return super().embed(texts)[:-1]

    ingestor, store, keys = _ingestor(tmp_path, embedder=_Short())
    acl = Acl(tenant="acme", groups=("all-staff",), users=(), level="internal")
    answers = ingestor.ingest_batch([_plan(ingestor, f"{i}.txt", f"Document {i}.", acl)
                                     for i in range(3)])
    assert [isinstance(a, IngestError) for a in answers] == [True] * 3
    assert store.count() == 0 and keys.pending_versions() == []
    store.close()
    keys.close()


class _Crash(Exception):
    pass


def test_when_a_batch_is_interrupted_between_two_documents_then_a_rerun_converges(
    tmp_path: Path,
) -> None:
    corpus = _corpus(tmp_path)
    clean, c_store, c_keys = _ingestor(tmp_path / "clean")
    _run(clean, corpus)
    want = _state(c_store, c_keys)
    c_store.close()
    c_keys.close()

    seen: list[str] = []

    def crash_after_second_switch(name: str) -> None:
        seen.append(name)
        if seen.count("switch") == 2:
            raise _Crash

    state = tmp_path / "crashed"
    ingestor, store, keys = _ingestor(state, checkpoint=crash_after_second_switch)
    with pytest.raises(_Crash):
        _run(ingestor, corpus)
    # Keys before points, one upsert, then switches in file order: two documents
    # are current and open; the other five have stored points but pending keys,
    # which open nothing.
    assert seen.index("upsert") == 14 and seen.count("key") == seen.count("count") == 7
    current = [h for h in store.scroll()
               if keys.current_version(h.payload["doc_id"], "acme") == h.payload["version"]]
    assert len({h.payload["doc_id"] for h in current}) == 2
    assert len(keys.pending_versions()) == 5
    for tenant, doc_id, _version in keys.pending_versions():
        with pytest.raises(DataKeyNotFound):
            keys.data_key(doc_id, tenant)
    store.close()
    keys.close()

    rerun, r_store, r_keys = _ingestor(state)
    report = _run(rerun, corpus)
    assert report.recovered_points > 0
    assert len(report.unchanged) == 2 and len(report.ingested) == 5
    got = _state(r_store, r_keys)
    assert got == want
    r_store.close()
    r_keys.close()
