"""The empty-tenant notice asks the store about one tenant only (issue 20, item 4)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ragseal.api._empty_tenant import tenant_has_documents
from ragseal.classification import Pseudonymizer, default_policy
from ragseal.ingest import Acl, Ingestor
from ragseal.store import EdgeStore, IdHasher, LocalKeyring


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


def test_when_one_tenant_holds_a_document_then_only_that_tenant_is_not_empty(
    tmp_path: Path,
) -> None:
    keys = LocalKeyring(tmp_path / "keys", os.urandom(32))
    store = EdgeStore(tmp_path / "store")
    try:
        assert not tenant_has_documents(store, "acme")
        stub = _Stub()
        Ingestor(policy=default_policy(), classifier=stub, chunker=stub, embedder=stub,
                 store=store, keys=keys, ids=IdHasher(keys.secret("ids")),
                 pseudonyms=Pseudonymizer(keys.secret("pseudonyms")),
                 ).ingest_text("Board minutes, restricted.", source="board/m.md",
                               acl=Acl("acme", ("executives",), (), "restricted"))

        assert tenant_has_documents(store, "acme")
        assert not tenant_has_documents(store, "globex")
        assert not tenant_has_documents(store, "default")
    finally:
        store.close()
        keys.close()
