"""Embedder: packaged model, offline, normalised 384-d vectors that carry meaning."""

from __future__ import annotations

import math
import socket
import threading
from pathlib import Path

import pytest

from ingest._chunking import Chunker
from ingest._embedder import Embedder


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    embedder = Embedder()
    embedder.warm_up()
    return embedder


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_when_texts_are_embedded_then_each_is_a_unit_vector_of_384_floats(
    embedder: Embedder,
) -> None:
    vectors = embedder.embed(["Jane Doe signed the contract.", "ok", "中文 text"])
    assert len(vectors) == 3
    for vector in vectors:
        assert len(vector) == embedder.dim == 384
        assert all(isinstance(x, float) for x in vector)
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, abs_tol=1e-4)


def test_when_sentences_mean_the_same_then_they_are_closer_than_unrelated_ones(
    embedder: Embedder,
) -> None:
    salary, pay, weather = embedder.embed(
        [
            "The employee's annual salary was raised by ten percent.",
            "Her yearly pay increased by 10%.",
            "Heavy rain is expected in the mountains tomorrow.",
        ]
    )
    assert cosine(salary, pay) > 0.6
    assert cosine(salary, pay) > cosine(salary, weather) + 0.3


def test_when_embedding_twice_then_vectors_match_and_order_is_kept(
    embedder: Embedder,
) -> None:
    texts = [f"sentence number {i} about payroll" for i in range(40)]
    first = embedder.embed(texts)
    again = embedder.embed(list(reversed(texts)))
    for a, b in zip(again, reversed(first), strict=True):
        assert a == pytest.approx(b, abs=1e-5)
    assert embedder.embed(texts[3:4])[0] == pytest.approx(first[3], abs=1e-5)


def test_when_no_texts_then_no_vectors(embedder: Embedder) -> None:
    assert embedder.embed([]) == []


def test_when_given_one_string_then_type_error(embedder: Embedder) -> None:
    with pytest.raises(TypeError):
        embedder.embed("not a list")  # type: ignore[arg-type]


def test_when_a_chunk_fills_the_window_then_the_model_reads_all_of_it(
    embedder: Embedder,
) -> None:
    # the chunker's 256-token guarantee is the model's own window
    assert embedder.max_tokens == Chunker().max_tokens == 256


def test_when_constructed_then_nothing_loads_until_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[int] = []
    original = Embedder._build

    def counting(self: Embedder) -> object:
        built.append(1)
        return original(self)

    monkeypatch.setattr(Embedder, "_build", counting)
    embedder = Embedder(batch_size=4)
    assert built == []
    assert repr(embedder) == "Embedder(dim=384, batch_size=4, not loaded)"
    embedder.embed(["x"])
    assert built == [1]
    assert repr(embedder) == "Embedder(dim=384, batch_size=4, loaded)"


def test_when_many_threads_embed_at_once_then_the_model_loads_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[int] = []
    original = Embedder._build

    def counting(self: Embedder) -> object:
        built.append(1)
        return original(self)

    monkeypatch.setattr(Embedder, "_build", counting)
    embedder = Embedder()
    start = threading.Barrier(4)
    results: list[list[list[float]]] = []

    def work() -> None:
        start.wait()
        results.append(embedder.embed(["same sentence"]))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert built == [1]
    assert len(results) == 4
    assert all(r[0] == pytest.approx(results[0][0], abs=1e-5) for r in results)


def test_when_offline_and_network_is_unreachable_then_the_model_still_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    embedder = Embedder()
    embedder.warm_up()
    assert len(embedder.embed(["offline works"])[0]) == 384
    assert attempts == []


def test_when_model_folder_is_missing_then_error_without_hub_lookup(tmp_path: Path) -> None:
    embedder = Embedder(model_path=tmp_path / "nothing-here")
    with pytest.raises(RuntimeError, match="no sentence-transformers model"):
        embedder.warm_up()


def test_when_batch_size_is_not_positive_then_construction_fails() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        Embedder(batch_size=0)
