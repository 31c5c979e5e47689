"""Two ingest runs at once on one keyring and store (issue 15): both succeed.

Each run is an :class:`Ingestor` with its own keyring connection, as two
``ragseal ingest`` processes beside one server are (the store is the
server's, shared). Run B starts (and recovers) while run A is between its
upsert and its switch: B's recovery must not take A's pending version for
a killed run's leftover (store/_writers.py). The stub models keep it fast;
the store and keyring are real.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ragseal.classification import default_policy
from ragseal.classification import Pseudonymizer
from ragseal.ingest import Acl, Ingestor
from ragseal.store import EdgeStore, IdHasher, LocalKeyring

from tests.ingest.test_runner import _StubChunker, _StubClassifier, _StubEmbedder

ACL = Acl(tenant="acme", groups=("all-staff",), users=(), level="internal")


class Shared:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.master = os.urandom(32)
        self.store = EdgeStore(root / "store")
        self.rings: list[LocalKeyring] = []

    def ingestor(self, checkpoint: Callable[[str], None] | None = None) -> Ingestor:
        keys = LocalKeyring(self.root / "keys", self.master)  # one per "process"
        self.rings.append(keys)
        return Ingestor(
            policy=default_policy(), classifier=_StubClassifier(), chunker=_StubChunker(),
            embedder=_StubEmbedder(), store=self.store, keys=keys,
            ids=IdHasher(keys.secret("ids")), pseudonyms=Pseudonymizer(keys.secret("pseudonyms")),
            checkpoint=checkpoint,
        )


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[Shared]:
    s = Shared(tmp_path)
    yield s
    for ring in s.rings:
        ring.close()
    s.store.close()


def test_when_a_second_run_recovers_while_the_first_writes_then_both_documents_land(
    shared: Shared,
) -> None:
    b = shared.ingestor()
    recovered: list[int] = []
    started = threading.Event()

    def recover_meanwhile(name: str) -> None:
        if name != "upsert" or started.is_set():
            return
        started.set()  # A's points are upserted, its key still pending
        thread = threading.Thread(target=lambda: recovered.append(b.recover()))
        thread.start()
        # Give B every chance to run; with the writers' lock it waits for A instead.
        thread.join(timeout=2)
        threads.append(thread)

    threads: list[threading.Thread] = []
    a = shared.ingestor(checkpoint=recover_meanwhile)
    first = a.ingest_text("The office opens at 8:30 every weekday.", source="a.txt", acl=ACL)
    for thread in threads:
        thread.join()
    second = b.ingest_text("Expenses are filed within thirty days.", source="b.txt", acl=ACL)

    assert started.is_set() and recovered == [0]  # nothing of A's was a leftover
    for result in (first, second):
        keys = shared.rings[0]
        assert keys.current_version(result.doc_id, "acme") == result.version
        points = shared.store.retrieve(shared.store.document_point_ids("acme", result.doc_id))
        assert len(points) == result.chunks > 0
        assert {p.payload["version"] for p in points} == {result.version}
    assert shared.rings[0].pending_versions() == []


def test_when_a_run_was_killed_mid_write_then_the_next_run_still_recovers_it(
    shared: Shared,
) -> None:
    class Killed(Exception):
        pass

    def die(name: str) -> None:
        if name == "upsert":
            raise Killed  # leaves a pending version, as SIGKILL would (the lock is released)

    with pytest.raises(Killed):
        shared.ingestor(checkpoint=die).ingest_text("Lunch is at noon.", source="c.txt", acl=ACL)
    assert len(shared.rings[0].pending_versions()) == 1
    assert shared.ingestor().recover() == 1
    assert shared.rings[0].pending_versions() == []
    assert shared.store.count() == 0
