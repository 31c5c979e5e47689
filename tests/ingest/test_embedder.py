"""Embedder: packaged model, offline, normalised 384-d vectors that carry meaning,
the same vectors (within a measured tolerance) from every backend."""

from __future__ import annotations

import logging
import math
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from ragseal.ingest import _onnx_export
from ragseal.ingest._chunking import Chunker
from ragseal.ingest._embedder import Backend, Embedder

BACKENDS: tuple[Backend, ...] = ("torch", "onnx", "onnx-int8")
# Measured on SciFact abstracts and short sentences: onnx >= 0.99999, int8 >= 0.976.
MIN_COSINE = {"torch": 0.99999, "onnx": 0.99, "onnx-int8": 0.97}
# Dynamic int8 quantizes activations per batch: a text embedded alone and in a
# batch differs (cosine ~0.99); float backends agree to rounding.
SAME_TEXT_TOLERANCE = {"torch": 1e-5, "onnx": 1e-5, "onnx-int8": 5e-2}

SENTENCES = [
    "The employee's annual salary was raised by ten percent.",
    "Her yearly pay increased by 10%.",
    "Heavy rain is expected in the mountains tomorrow.",
    "ok",
    "[PERSON_1] wrote to [EMAIL_ADDRESS_1] about invoice [IBAN_CODE_1].",
    "中文 text",
    " ".join(["Alveolar macrophages regulate the inflammatory response to inhaled "
              "particles through TLR4 signalling and IL-10 release."] * 12),
]


def _refuse_network(mp: pytest.MonkeyPatch, attempts: list[object]) -> None:
    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setattr(socket.socket, "connect", refuse)
    mp.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture(scope="module")
def export_attempts(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, list[object]]]:
    """One ONNX export for the module, done with the network refused."""
    cache = tmp_path_factory.mktemp("embedder-cache")
    attempts: list[object] = []
    with pytest.MonkeyPatch.context() as mp:
        _refuse_network(mp, attempts)
        embedder = Embedder(backend="onnx-int8", cache_dir=cache)
        embedder.warm_up()
        # int8 passes its check only where the CPU's int8 kernels are exact
        # enough (VNNI); elsewhere the export keeps fp32 alone (docs/TRAPS.md).
        (folder,) = [p for p in cache.iterdir() if not p.name.startswith(".")]
        rejected = (folder / "int8-rejected.json").is_file()
        assert embedder.active_backend == ("onnx" if rejected else "onnx-int8")
        assert (folder / "model-int8.onnx").is_file() != rejected
    yield cache, attempts


@pytest.fixture(scope="module")
def cache(export_attempts: tuple[Path, list[object]]) -> Path:
    return export_attempts[0]


@pytest.fixture(scope="module")
def embedders(cache: Path) -> dict[str, Embedder]:
    out = {}
    for backend in BACKENDS:
        embedder = Embedder(backend=backend, cache_dir=cache)
        embedder.warm_up()
        assert embedder.active_backend == _effective(backend, cache)
        out[backend] = embedder
    return out


def _effective(backend: Backend, cache: Path) -> Backend:
    if backend == "onnx-int8" and any(cache.glob("*/int8-rejected.json")):
        return "onnx"
    return backend


def test_when_int8_was_rejected_on_this_cpu_then_fp32_onnx_serves_not_torch(
    cache: Path, tmp_path: Path
) -> None:
    import shutil

    (folder,) = [p for p in cache.iterdir() if not p.name.startswith(".")]
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    (copy / "model-int8.onnx").unlink(missing_ok=True)
    (copy / "int8-rejected.json").write_text('{"cosine": 0.95}')
    embedder = Embedder(backend="onnx-int8", cache_dir=tmp_path)
    embedder.warm_up()
    assert embedder.active_backend == "onnx"


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("backend", BACKENDS)
def test_when_texts_are_embedded_then_each_is_a_unit_vector_of_384_floats(
    embedders: dict[str, Embedder], backend: str,
) -> None:
    embedder = embedders[backend]
    vectors = embedder.embed(["Jane Doe signed the contract.", "ok", "中文 text"])
    assert len(vectors) == 3
    for vector in vectors:
        assert len(vector) == embedder.dim == 384
        assert all(isinstance(x, float) for x in vector)
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, abs_tol=1e-4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_when_sentences_mean_the_same_then_they_are_closer_than_unrelated_ones(
    embedders: dict[str, Embedder], backend: str,
) -> None:
    salary, pay, weather = embedders[backend].embed(SENTENCES[:3])
    assert cosine(salary, pay) > 0.6
    assert cosine(salary, pay) > cosine(salary, weather) + 0.3


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_when_a_faster_backend_embeds_then_it_agrees_with_torch_per_text(
    embedders: dict[str, Embedder], backend: str,
) -> None:
    reference = embedders["torch"].embed(SENTENCES)
    fast = embedders[backend].embed(SENTENCES)
    for a, b in zip(reference, fast, strict=True):
        assert cosine(a, b) >= MIN_COSINE[backend]


@pytest.mark.parametrize("backend", BACKENDS)
def test_when_embedding_twice_then_vectors_match_and_order_is_kept(
    embedders: dict[str, Embedder], backend: str,
) -> None:
    embedder = embedders[backend]
    tolerance = SAME_TEXT_TOLERANCE[backend]
    texts = [f"sentence number {i} about payroll" for i in range(40)]
    first = embedder.embed(texts)
    again = embedder.embed(list(reversed(texts)))
    for a, b in zip(again, reversed(first), strict=True):
        assert a == pytest.approx(b, abs=tolerance)
    alone = embedder.embed(texts[3:4])[0]
    assert alone == pytest.approx(first[3], abs=tolerance)
    assert cosine(alone, first[3]) > 0.98


@pytest.mark.parametrize("backend", BACKENDS)
def test_when_a_text_is_longer_than_the_window_then_it_is_truncated_not_refused(
    embedders: dict[str, Embedder], backend: str,
) -> None:
    (vector,) = embedders[backend].embed(["word " * 5000])
    assert len(vector) == 384


def test_when_no_texts_then_no_vectors(embedders: dict[str, Embedder]) -> None:
    assert all(e.embed([]) == [] for e in embedders.values())


def test_when_given_one_string_then_type_error(embedders: dict[str, Embedder]) -> None:
    with pytest.raises(TypeError):
        embedders["onnx-int8"].embed("not a list")  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", BACKENDS)
def test_when_a_chunk_fills_the_window_then_the_model_reads_all_of_it(
    embedders: dict[str, Embedder], backend: str,
) -> None:
    # the chunker's 256-token guarantee is the model's own window
    assert embedders[backend].max_tokens == Chunker().max_tokens == 256


def test_when_constructed_then_nothing_loads_until_first_use(
    monkeypatch: pytest.MonkeyPatch, cache: Path,
) -> None:
    built: list[int] = []
    original = Embedder._build

    def counting(self: Embedder) -> object:
        built.append(1)
        return original(self)

    monkeypatch.setattr(Embedder, "_build", counting)
    embedder = Embedder(batch_size=4, cache_dir=cache)
    assert built == []
    assert repr(embedder) == "Embedder(dim=384, batch_size=4, not loaded)"
    embedder.embed(["x"])
    assert built == [1]
    assert repr(embedder) == "Embedder(dim=384, batch_size=4, loaded)"


@pytest.mark.parametrize("backend", BACKENDS)
def test_when_many_threads_embed_at_once_then_the_model_loads_once(
    monkeypatch: pytest.MonkeyPatch, cache: Path, backend: Backend,
) -> None:
    built: list[int] = []
    original = Embedder._build

    def counting(self: Embedder) -> object:
        built.append(1)
        return original(self)

    monkeypatch.setattr(Embedder, "_build", counting)
    embedder = Embedder(backend=backend, cache_dir=cache)
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


def test_when_onnx_is_exported_then_the_network_is_never_touched(
    export_attempts: tuple[Path, list[object]],
) -> None:
    cache, attempts = export_attempts
    assert attempts == []
    assert len(list(cache.glob("*/model.onnx"))) == 1
    assert len(list(cache.glob("*/model-int8.onnx")) + list(cache.glob("*/int8-rejected.json"))) == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_when_offline_and_network_is_unreachable_then_the_model_still_loads(
    monkeypatch: pytest.MonkeyPatch, cache: Path, backend: Backend,
) -> None:
    attempts: list[object] = []
    _refuse_network(monkeypatch, attempts)
    embedder = Embedder(backend=backend, cache_dir=cache)
    embedder.warm_up()
    assert len(embedder.embed(["offline works"])[0]) == 384
    assert attempts == []


def test_when_the_export_is_cached_then_it_is_not_redone(
    monkeypatch: pytest.MonkeyPatch, cache: Path,
) -> None:
    def no_export(path: Path, out: Path) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(_onnx_export, "_export", no_export)
    embedder = Embedder(backend="onnx", cache_dir=cache)
    embedder.warm_up()
    assert embedder.active_backend == "onnx"


def test_when_the_export_fails_then_torch_is_used_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(path: Path, out: Path) -> None:
        raise RuntimeError("exporter broke")

    monkeypatch.setattr(_onnx_export, "_export", broken)
    embedder = Embedder(backend="onnx-int8", cache_dir=tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger="ragseal.ingest._embedder"):
        embedder.warm_up()
    assert embedder.active_backend == "torch"
    assert "falling back to torch" in caplog.text
    assert len(embedder.embed(["still works"])[0]) == 384
    # the failed attempt leaves nothing half-written behind
    assert not list((tmp_path / "cache").glob("*/model*.onnx"))


def test_when_model_folder_is_missing_then_error_without_hub_lookup(tmp_path: Path) -> None:
    embedder = Embedder(model_path=tmp_path / "nothing-here", cache_dir=tmp_path)
    with pytest.raises(RuntimeError, match="no sentence-transformers model"):
        embedder.warm_up()


def test_when_batch_size_is_not_positive_then_construction_fails() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        Embedder(batch_size=0)


def test_when_backend_is_unknown_then_construction_fails() -> None:
    with pytest.raises(ValueError, match="backend"):
        Embedder(backend="tensorrt")  # type: ignore[arg-type]


def test_when_the_process_may_use_fewer_cpus_than_the_host_then_ort_gets_that_many(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from ragseal.ingest import _embedder

    monkeypatch.setattr(_embedder, "host_cpus", lambda: 16)
    monkeypatch.setattr(_embedder, "usable_cpus", lambda: 2)  # a pin, a cpuset or a quota
    assert _embedder.default_threads() == 2
    monkeypatch.setattr(_embedder, "usable_cpus", lambda: 16)
    assert _embedder.default_threads() is None  # the whole host: ORT's own choice


_PINNED_PROBE = """
import os, sys
cpu = min(os.sched_getaffinity(0))
os.sched_setaffinity(0, {cpu})
from ragseal.ingest._embedder import Embedder
embedder = Embedder(backend="onnx")
embedder.warm_up()
embedder.embed(["one pinned process"])
tasks = os.listdir("/proc/self/task")
outside = [t for t in tasks if os.sched_getaffinity(int(t)) != {cpu}]
print(len(tasks), len(outside))
"""


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs CPU affinity and two CPUs")
def test_when_the_process_is_pinned_to_one_cpu_then_no_onnx_thread_runs_elsewhere() -> None:
    # ONNX Runtime left to choose starts a thread per physical core and pins
    # each to its core, escaping the process's affinity (docs/TRAPS.md).
    done = subprocess.run([sys.executable, "-c", _PINNED_PROBE], capture_output=True,  # noqa: S603
                          text=True, check=True, timeout=600)
    threads, outside = map(int, done.stdout.split())
    assert threads >= 1
    assert outside == 0
