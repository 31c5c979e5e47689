"""The owner channel under hostile or broken peers (store/_owner.py, _remote.py).

The peer is trusted only as the same OS user; its frames are still parsed
as bounded, strict JSON, never unpickled, and a bad one costs that request
only. (The VectorStore contract itself runs on RemoteStore in
test_contract.py.)
"""

from __future__ import annotations

import json
import os
import pickle
import stat
import time
from collections.abc import Iterator
from multiprocessing.connection import Client
from pathlib import Path

import pytest
from ragseal.store import EdgeStore, Point, StoreError
from ragseal.store import _channel as wire
from ragseal.store._owner import StoreOwner
from ragseal.store._remote import RemoteStore

DIM = 8
CANARY = "canary-7f3a-payload-value"
TENANT_POINT = {"tenant": "acme", "doc_id": "d", "level": 0, "groups": ["g"], "users": []}


@pytest.fixture
def owned(tmp_path: Path) -> Iterator[tuple[EdgeStore, StoreOwner]]:
    store = EdgeStore(tmp_path / "store", DIM)
    owner = StoreOwner(store, tmp_path / "run" / "s.sock", collection="c", dim=DIM)
    yield store, owner
    owner.close()
    store.close()


def raw(owner: StoreOwner, frame: bytes) -> dict[str, object]:
    conn = Client(str(owner.path), family="AF_UNIX")
    try:
        conn.send_bytes(frame)
        answer: dict[str, object] = json.loads(conn.recv_bytes())
        return answer
    finally:
        conn.close()


def unit(i: int) -> list[float]:
    return [1.0 if j == i % DIM else 0.0 for j in range(DIM)]


def test_when_the_owner_listens_then_its_socket_and_folder_are_closed_to_others(
    owned: tuple[EdgeStore, StoreOwner],
) -> None:
    _, owner = owned
    assert stat.S_IMODE(owner.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(owner.path.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("frame", [
    b"not json", b"[]", b'{"op": "drop_collection"}', b'{"op": "count", "extra": 1}',
    b'{"op": "search", "vector": [1], "access": {"tenant": "a"}, "limit": 5}',
    b'{"op": "retrieve", "ids": "abc"}', b'{"op": "search", "vector": [1], "access": '
    b'{"tenant": "a", "max_level": true, "groups": [], "user": "u"}, "limit": 5}',
])
def test_when_a_frame_is_malformed_then_the_answer_is_an_error_and_the_owner_serves_on(
    owned: tuple[EdgeStore, StoreOwner], frame: bytes,
) -> None:
    _, owner = owned
    assert "error" in raw(owner, frame)
    assert raw(owner, b'{"op":"count"}') == {"ok": 0}


def test_when_a_bad_value_is_refused_then_the_error_does_not_echo_it(
    owned: tuple[EdgeStore, StoreOwner],
) -> None:
    _, owner = owned
    frame = json.dumps({"op": "set_payload", "point_id": CANARY, "payload": {"level": CANARY}})
    answer = raw(owner, frame.encode())
    assert "error" in answer and CANARY not in json.dumps(answer)
    frame = json.dumps({"op": "upsert", "points": [
        {"id": "7b0f0d6e-0000-4000-8000-000000000001", "vector": unit(0),
         "payload": {**TENANT_POINT, "level": CANARY}}]})
    answer = raw(owner, frame.encode())
    assert "error" in answer and CANARY not in json.dumps(answer)


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(Path(os.environ["RAGSEAL_TEST_PICKLE_DIR"])),))


def test_when_a_peer_sends_a_pickle_then_nothing_is_unpickled(
    owned: tuple[EdgeStore, StoreOwner], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, owner = owned
    target = tmp_path / "pwned"
    monkeypatch.setenv("RAGSEAL_TEST_PICKLE_DIR", str(target))
    assert "error" in raw(owner, pickle.dumps(_Boom()))
    assert not target.exists()


def test_when_a_frame_is_over_the_limit_then_that_connection_ends_and_others_go_on(
    owned: tuple[EdgeStore, StoreOwner], monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, owner = owned
    monkeypatch.setattr(wire, "MAX_MESSAGE", 1024)
    conn = Client(str(owner.path), family="AF_UNIX")
    conn.send_bytes(b'{"op":"count","pad":"' + b"x" * 4096 + b'"}')
    with pytest.raises((EOFError, OSError)):
        conn.recv_bytes()
    conn.close()
    assert raw(owner, b'{"op":"count"}') == {"ok": 0}


def test_when_the_client_expects_another_size_then_it_is_refused(
    owned: tuple[EdgeStore, StoreOwner],
) -> None:
    _, owner = owned
    with pytest.raises(StoreError, match="another collection or vector size"):
        RemoteStore(owner.path, "c", DIM + 1)


def test_when_the_owner_goes_away_then_the_client_says_rerun(
    tmp_path: Path,
) -> None:
    store = EdgeStore(tmp_path / "store", DIM)
    owner = StoreOwner(store, tmp_path / "run" / "s.sock", collection="c", dim=DIM)
    remote = RemoteStore(owner.path, "c", DIM)
    owner.close()
    store.close()
    with pytest.raises(StoreError, match="run the command again"):
        remote.count()
    remote.close()


def test_when_a_stale_socket_is_left_then_a_new_owner_replaces_it_and_a_file_is_refused(
    tmp_path: Path,
) -> None:
    import socket

    sock = tmp_path / "run" / "s.sock"
    sock.parent.mkdir()
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(sock))
    stale.close()  # the file stays, nothing listens: a killed owner's leftover
    store = EdgeStore(tmp_path / "store", DIM)
    try:
        StoreOwner(store, sock, collection="c", dim=DIM).close()
        sock.write_text("not a socket")
        with pytest.raises(StoreError, match="not a socket"):
            StoreOwner(store, sock, collection="c", dim=DIM)
    finally:
        store.close()


def test_when_many_cursors_are_open_then_the_oldest_expires_and_the_rest_read(
    owned: tuple[EdgeStore, StoreOwner],
) -> None:
    store, owner = owned
    store.upsert([Point(f"7b0f0d6e-0000-4000-8000-{i:012d}", unit(i), TENANT_POINT)
                  for i in range(3)])
    remote = RemoteStore(owner.path, "c", DIM)
    try:
        scrolls = [remote.scroll("acme") for _ in range(wire.MAX_CURSORS + 1)]
        first = scrolls[0]
        # Generators open their cursor on creation; read the newest fully.
        assert len(list(scrolls[-1])) == 3
        with pytest.raises(StoreError, match="cursor expired"):
            next(first)
        # Writes between pages (relabel does) on the same connection.
        it = remote.scroll("acme")
        hit = next(it)
        remote.set_payload(hit.id, {"level": 1})
        assert len([hit, *it]) == 3
    finally:
        remote.close()


def test_when_a_client_connects_before_the_store_is_open_then_it_is_answered_once_it_is(
    tmp_path: Path,
) -> None:
    """A server listens before it opens the store and loads its models (issue 15):
    a command started meanwhile waits on its hello instead of failing."""
    import threading

    owner = StoreOwner(None, tmp_path / "run" / "s.sock", collection="c", dim=DIM)
    answers: list[object] = []

    def client() -> None:
        try:
            remote = RemoteStore(owner.path, "c", DIM)
            answers.append(remote.count())
            remote.close()
        except StoreError as exc:
            answers.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    store = EdgeStore(tmp_path / "store", DIM)
    store.upsert([Point("00000000-0000-0000-0000-000000000001", unit(1), TENANT_POINT)])
    owner.attach(store, dim=DIM)
    thread.join(timeout=60)
    owner.close()
    store.close()
    assert answers == [1]


def test_when_the_owner_stops_before_its_store_opened_then_a_waiting_client_says_rerun(
    tmp_path: Path,
) -> None:
    import threading

    owner = StoreOwner(None, tmp_path / "run" / "s.sock", collection="c", dim=DIM)
    failures: list[str] = []

    def client() -> None:
        try:
            RemoteStore(owner.path, "c", DIM).close()
        except StoreError as exc:
            failures.append(str(exc))

    thread = threading.Thread(target=client)
    thread.start()
    for _ in range(6000):  # until the owner holds the connection (its hello waits)
        if owner._conns:
            break
        time.sleep(0.01)
    owner.close()
    thread.join(timeout=60)
    assert len(failures) == 1 and "run the command again" in failures[0]


def test_when_a_live_owner_serves_the_socket_then_a_second_owner_is_refused(
    owned: tuple[EdgeStore, StoreOwner],
) -> None:
    store, owner = owned
    with pytest.raises(StoreError, match="already serves"):
        StoreOwner(store, owner.path, collection="c", dim=DIM)
    assert RemoteStore(owner.path, "c", DIM).count() == 0  # the first one still answers


def test_when_a_search_is_sent_then_its_frame_is_the_json_the_owner_reads_and_nan_is_refused(
    owned: tuple[EdgeStore, StoreOwner],
) -> None:
    """serve2: search frames are written by pydantic-core (the fast path of every
    serving worker's retrieve): the owner reads the values json.dumps would have
    sent, and a non-finite vector is still refused before anything is sent."""
    import math

    from pydantic_core import to_json
    from ragseal.store import AccessFilter

    vector = [math.sin(i) / 7 for i in range(384)] + [5e-324, -0.0, 1e300, 0.1]
    request = {"op": "search", "vector": vector, "access": {"tenant": "t", "max_level": 1,
               "groups": ["g"], "user": "u"}, "limit": 3, "tags": ["x"]}
    assert json.loads(to_json(request)) == json.loads(json.dumps(request)) == request
    store, owner = owned
    store.upsert([Point("00000000-0000-0000-0000-000000000001", unit(2), TENANT_POINT)])
    remote = RemoteStore(owner.path, "c", DIM)
    try:
        access = AccessFilter(tenant="acme", max_level=0, groups=("g",), user="u")
        with pytest.raises(StoreError, match="non-finite"):
            remote.search([float("nan")] + unit(2)[1:], access, 3)
        hits = remote.search(unit(2), access, 3)
        assert [(h.id, h.payload["doc_id"]) for h in hits] == [
            ("00000000-0000-0000-0000-000000000001", "d")]
        assert hits == store.search(unit(2), access, 3)
    finally:
        remote.close()
