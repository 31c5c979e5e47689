"""The same bytes always give the same chunks, whatever the installation's keys.

Chunks used to be cut on the masked text, whose keyed pseudonyms
(``<PERSON_3f9a2b>``) tokenize into a key-dependent number of WordPiece
tokens: the sample corpus's new-hire form gave 3 chunks under one master
key and 2 under another (issue 20, item 17). The chunker here is the real
one (MiniLM's tokenizer); classification is a stub that finds fixed names,
so the test is fast and the findings are the same in every run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
from ragseal.classification import Finding, Pseudonymizer, default_policy
from ragseal.ingest import Ingestor
from ragseal.ingest._chunking import Chunker
from ragseal.ingest._manifest import Acl
from ragseal.store import EdgeStore, IdHasher, LocalKeyring

_NAME = re.compile(r"Jonas Weber|Maria Gonzalez|Aisha Patel")
TEXT = " ".join(
    f"Item {i}: {name} signed form {i} and {other} countersigned it on arrival."
    for i, (name, other) in enumerate(
        [("Jonas Weber", "Maria Gonzalez"), ("Aisha Patel", "Jonas Weber")] * 60)
)


class _Names:
    def __init__(self, text: str) -> None:
        self.findings = tuple(Finding("PERSON", m.start(), m.end(), 0.9)
                              for m in _NAME.finditer(text))
        self.marker_level = None


class _NameClassifier:
    def classify(self, text: str) -> _Names:
        return _Names(text)


class _Embedder:
    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[1.0] + [0.0] * 383 for _ in texts]


_CHUNKER = Chunker()


def _ingest(root: Path, key: bytes, ids_key: bytes = b"i" * 32) -> list[tuple[str, str]]:
    """Ingest TEXT into a fresh store with pseudonym ``key``; (chunk id, level) per chunk.

    A fresh keyring draws its own secrets; the id and pseudonym keys are
    given here so that two installations can be compared.
    """
    keys = LocalKeyring(root / "keys", os.urandom(32))
    store = EdgeStore(root / "store")
    try:
        ingestor = Ingestor(
            policy=default_policy(), classifier=_NameClassifier(), chunker=_CHUNKER,
            embedder=_Embedder(), store=store, keys=keys, ids=IdHasher(ids_key),
            pseudonyms=Pseudonymizer(key),
        )
        acl = Acl(tenant="acme", groups=("hr",), users=(), level="confidential")
        result = ingestor.ingest_text(TEXT, source="hr/form.txt", acl=acl)
        hits = store.retrieve(store.document_point_ids("acme", result.doc_id))
        return sorted((str(h.payload["chunk_id"]), str(h.payload["level"])) for h in hits)
    finally:
        store.close()
        keys.close()


def test_when_installations_differ_only_in_their_pseudonym_keys_then_chunks_are_cut_alike(
    tmp_path: Path,
) -> None:
    """Same id key: equal chunk ids mean equal cuts (ids are MAC(doc, version, index))."""
    runs = [_ingest(tmp_path / f"k{i}", bytes([i + 1]) * 32) for i in range(6)]
    counts = sorted({len(r) for r in runs})
    assert counts == [len(runs[0])], f"chunk counts differ between keys: {counts}"
    assert all(r == runs[0] for r in runs)
    assert len(runs[0]) > 2


@pytest.mark.parametrize("index", range(3))
def test_when_pseudonyms_are_shaped_for_chunking_then_every_chunk_still_fits_the_window(
    index: int,
) -> None:
    """The constant digest tokenizes to the worst case: real chunks never overflow."""
    from ragseal.classification import mask
    from ragseal.ingest._pipeline import _key_free

    findings = _Names(TEXT).findings
    masked = mask(TEXT, findings, default_policy(), Pseudonymizer(bytes([index + 7]) * 32),
                  "acme")
    shape = _key_free(masked)
    assert len(shape) == len(masked.text)
    for start, end in _CHUNKER.split(shape):
        assert _CHUNKER.token_count(masked.text[start:end]) <= _CHUNKER.max_tokens
