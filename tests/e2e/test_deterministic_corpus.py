"""Fresh ingests of the sample corpus give the same chunks (issue 20, item 17).

Six fresh ingests of ``samples/corpus`` gave 79 or 78 chunks: the
new-hire form was cut in 3 or 2 depending on the installation's pseudonym
key. Here the corpus is ingested twice with the real models (shared,
loaded once) into fresh stores under two pseudonym keys that cut that form
differently before the fix; with the id key fixed, every file's chunk ids,
levels and groups must be identical.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ragseal.api._container import Services
from ragseal.api._settings import Settings
from ragseal.classification import Pseudonymizer
from ragseal.ingest import Ingestor, ingest_paths, load_manifest
from ragseal.store import EdgeStore, IdHasher, LocalKeyring

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parents[2] / "samples" / "corpus"

Chunks = dict[str, list[tuple[str, str, tuple[str, ...]]]]


def _ingest(models: Services, root: Path, pseudonym_key: bytes) -> Chunks:
    """Per file: (chunk id, level, groups) of each of its points.

    A fresh keyring draws its own secrets: the id key is fixed here so that
    chunk ids (MAC(doc id, version, index)) can be compared between stores.
    """
    keys = LocalKeyring(root / "keys", os.urandom(32))
    store = EdgeStore(root / "store")
    try:
        ingestor = Ingestor(
            policy=models.policy, classifier=models.classifier, chunker=models.chunker,
            embedder=models.embedder, store=store, keys=keys, ids=IdHasher(b"i" * 32),
            pseudonyms=Pseudonymizer(pseudonym_key),
        )
        manifest = CORPUS / "acl.yaml"
        report = ingest_paths(ingestor, [CORPUS], load_manifest(manifest), exclude=[manifest])
        out: Chunks = {}
        for path, result in zip(report.paths, report.ingested, strict=True):
            hits = store.retrieve(store.document_point_ids(result.tenant, result.doc_id))
            out[Path(path).relative_to(CORPUS).as_posix()] = sorted(
                (str(h.payload["chunk_id"]), str(h.payload["level"]),
                 tuple(h.payload.get("groups", ()))) for h in hits)
        return out
    finally:
        store.close()
        keys.close()


def test_when_the_sample_corpus_is_ingested_afresh_then_every_file_gives_the_same_chunks(
    tmp_path: Path,
) -> None:
    models = Services(Settings(data_dir=tmp_path / "models", jwt_secret="x" * 48))
    try:
        # These two keys cut hr/onboarding/new-hire-form-jonas-weber.pdf into 3 and
        # 2 chunks before the fix.
        first = _ingest(models, tmp_path / "a", bytes([0]) * 32)
        other = _ingest(models, tmp_path / "b", bytes([2]) * 32)
    finally:
        models.close()
    assert len(first) > 20, "the corpus was not ingested"
    assert len(first["hr/onboarding/new-hire-form-jonas-weber.pdf"]) >= 2
    # Same id key: equal chunk ids mean the same cuts; levels and groups too.
    assert other == first
