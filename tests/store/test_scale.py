"""The scale benchmark (benchmarks/scale.py) at 50,000 points, asserting recall.

The vectors grow from the project's own sample corpus (its sentences
embedded with the packaged MiniLM, then perturbed: benchmarks/scale.py
``grow``); held-out sentences are the queries. EXACT_MAX_VISIBLE is lowered
so that the 10 %, 50 % and 100 % classes take the approximate path (HNSW,
int8 with rescoring) the store uses above it at a million points; every
class must keep recall@10 >= 0.99 against a numpy brute force over the same
visible set. Nothing here is timed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import ragseal.store._edge as edge_module

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import scale  # noqa: E402

pytestmark = pytest.mark.slow


def test_when_50k_chunks_are_searched_then_every_visibility_class_keeps_recall_at_10(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ragseal.ingest import Embedder

    sentences = scale.sample_sentences()
    assert len(sentences) > 300
    embedded = np.asarray(Embedder().embed(sentences), dtype=np.float32)
    held_out = np.arange(len(sentences)) % 5 == 0
    vectors = scale.grow(embedded[~held_out], 50_000, seed=5, cache=tmp_path)
    monkeypatch.setattr(edge_module, "EXACT_MAX_VISIBLE", 1_000)
    monkeypatch.setattr(edge_module, "INDEX_QUIET_SECONDS", 0.2)
    # Every held-out sentence is a query (~99 a class): over 40 of them the
    # widest class once read 0.985 at ef 256, where 11 builds read
    # 0.993-1.000 over all 99 (benchmarks/README.md, fifth round).
    results = scale.run(vectors, embedded[held_out], queries=200, seed=5, workdir=tmp_path)
    assert sorted(results) == sorted(scale.TARGETS)
    for target, row in results.items():
        recall = sum(row.recalls) / len(row.recalls)
        assert recall >= 0.99, f"recall@10 {recall:.3f} for the {target:.1%} class"

