"""One request reads each data key once (a database round trip per key otherwise)."""

from __future__ import annotations

import pytest
from ragseal.retrieval._views import RequestKeys
from ragseal.store import DataKeyNotFound


class CountingKeys:
    def __init__(self) -> None:
        self.reads: list[tuple[str, str, str | None]] = []

    def data_key(self, doc_id: str, tenant: str, version: str | None = None) -> bytes:
        self.reads.append((doc_id, tenant, version))
        if doc_id == "erased":
            raise DataKeyNotFound
        return f"{tenant}/{doc_id}/{version}".encode()


def test_when_chunks_of_one_document_are_opened_then_its_key_is_read_once() -> None:
    keys = CountingKeys()
    request = RequestKeys(keys)
    assert request.data_key("d", "acme", "v1") == request.data_key("d", "acme", "v1")
    assert request.data_key("d", "globex", "v1") != request.data_key("d", "acme", "v1")
    assert request.data_key("d", "acme", "v2") == b"acme/d/v2"
    assert keys.reads == [("d", "acme", "v1"), ("d", "globex", "v1"), ("d", "acme", "v2")]


def test_when_a_key_is_missing_then_every_chunk_of_it_is_refused_with_one_read() -> None:
    keys = CountingKeys()
    request = RequestKeys(keys)
    for _ in range(3):
        with pytest.raises(DataKeyNotFound):
            request.data_key("erased", "acme")
    assert keys.reads == [("erased", "acme", None)]


def test_when_a_new_request_starts_then_keys_are_read_again() -> None:
    keys = CountingKeys()
    RequestKeys(keys).data_key("d", "acme")
    RequestKeys(keys).data_key("d", "acme")
    assert len(keys.reads) == 2  # nothing outlives a request: an erasure applies at once
