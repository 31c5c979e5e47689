"""The VectorStore contract, run on every backend (Qdrant Edge, qdrant-client)."""

# ruff: noqa: S311  (seeded test data, not secrets)

from __future__ import annotations

import logging
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import ragseal.store._client as client_module
import ragseal.store._edge as edge_module
from qdrant_client import QdrantClient
from ragseal.store import (
    AccessFilter,
    ClientStore,
    EdgeStore,
    Hit,
    Point,
    StoreError,
    VectorStore,
    matches,
    open_store,
)

from .conftest import (
    DIM,
    GROUPS,
    TENANTS,
    USERS,
    clustered_vectors,
    labelled_points,
    new_id,
    random_access,
    random_payload,
)

CANARY = "canary-Zq81-secret-text"
ROOT = Path(__file__).resolve().parents[2]


def unit(seed: int, dim: int = DIM) -> list[float]:
    return [float(x) for x in clustered_vectors(seed, 1, dim, clusters=1)[0]]


def payload(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "tenant": "acme", "doc_id": "d1", "level": 1, "groups": ["hr"], "users": [], "sealed": "x",
    }
    return {**base, **overrides}


def everyone(tenant: str = "acme") -> AccessFilter:
    return AccessFilter(tenant=tenant, max_level=3, groups=("hr", "eng"), user="ceo")


# -- writes and reads ---------------------------------------------------------


def test_when_points_are_upserted_then_retrieve_returns_their_payloads(store: VectorStore) -> None:
    rng = random.Random(1)
    points = [Point(new_id(rng), unit(i), payload(doc_id=f"d{i}")) for i in range(5)]
    store.upsert(points)
    hits = store.retrieve([p.id for p in reversed(points)])
    assert [h.id for h in hits] == [p.id for p in reversed(points)]
    assert [dict(h.payload) for h in hits] == [dict(p.payload) for p in reversed(points)]
    assert all(h.score == 0.0 for h in hits)
    assert store.count() == 5


def test_when_unknown_ids_are_retrieved_then_they_are_skipped(store: VectorStore) -> None:
    rng = random.Random(2)
    known = Point(new_id(rng), unit(1), payload())
    store.upsert([known])
    assert [h.id for h in store.retrieve([new_id(rng), known.id, new_id(rng)])] == [known.id]
    assert store.retrieve([]) == []


def test_when_an_id_is_upserted_twice_then_the_second_replaces_the_first(
    store: VectorStore,
) -> None:
    pid = new_id(random.Random(3))
    store.upsert([Point(pid, unit(1), payload(level=0, doc_id="old"))])
    store.upsert([Point(pid, unit(2), payload(level=2, doc_id="new"))])
    assert store.count() == 1
    (hit,) = store.retrieve([pid])
    assert hit.payload["doc_id"] == "new" and hit.payload["level"] == 2
    (found,) = store.search(unit(2), everyone(), 1)
    assert found.id == pid and found.score == pytest.approx(1.0, abs=1e-5)


def test_when_points_are_deleted_then_they_are_gone_and_missing_ids_are_ignored(
    store: VectorStore,
) -> None:
    rng = random.Random(4)
    points = [Point(new_id(rng), unit(i), payload()) for i in range(4)]
    store.upsert(points)
    store.delete_points([points[0].id, points[2].id, new_id(rng)])
    store.delete_points([])
    assert {h.id for h in store.scroll()} == {points[1].id, points[3].id}
    assert store.retrieve([points[0].id]) == []
    assert points[0].id not in {h.id for h in store.search(unit(0), everyone(), 10)}


def test_when_a_document_has_points_then_document_point_ids_lists_exactly_them(
    store: VectorStore,
) -> None:
    rng = random.Random(5)
    mine = [Point(new_id(rng), unit(i), payload(doc_id="doc-a")) for i in range(3)]
    other_doc = Point(new_id(rng), unit(7), payload(doc_id="doc-b"))
    other_tenant = Point(new_id(rng), unit(8), payload(doc_id="doc-a", tenant="globex"))
    store.upsert([*mine, other_doc, other_tenant])
    assert sorted(store.document_point_ids("acme", "doc-a")) == sorted(p.id for p in mine)
    assert store.document_point_ids("globex", "doc-a") == [other_tenant.id]
    assert store.document_point_ids("acme", "nope") == []


def test_when_payload_is_set_then_those_fields_change_and_the_others_stay(
    store: VectorStore,
) -> None:
    pid = new_id(random.Random(6))
    store.upsert([Point(pid, unit(1), payload(level=3, groups=["hr"]))])
    store.set_payload(pid, {"level": 0, "groups": ["eng", "all"]})
    (hit,) = store.retrieve([pid])
    assert hit.payload == payload(level=0, groups=["eng", "all"])
    low = AccessFilter(tenant="acme", max_level=0, groups=("all",), user="x")
    assert [h.id for h in store.search(unit(1), low, 5)] == [pid]


def test_when_level_and_seal_are_set_together_then_the_vector_is_kept(
    store: VectorStore,
) -> None:
    """What ``ragseal relabel`` relies on: one call rewrites level and seal, no re-embedding."""
    pid, other = new_id(random.Random(61)), new_id(random.Random(62))
    store.upsert([Point(pid, unit(1), payload(level=1, sealed="b2xk")),
                  Point(other, unit(2), payload(level=1))])
    store.set_payload(pid, {"level": 3, "sealed": "bmV3"})
    (hit,) = store.retrieve([pid])
    assert hit.payload == payload(level=3, sealed="bmV3")
    top = AccessFilter(tenant="acme", max_level=3, groups=("hr",), user="x")
    best = store.search(unit(1), top, 2)
    assert [h.id for h in best] == [pid, other]
    assert best[0].score == pytest.approx(1.0, abs=1e-5)
    low = AccessFilter(tenant="acme", max_level=2, groups=("hr",), user="x")
    assert [h.id for h in store.search(unit(1), low, 5)] == [other]


def test_when_payload_is_set_on_a_missing_point_then_store_error(store: VectorStore) -> None:
    with pytest.raises(StoreError, match="no point"):
        store.set_payload(new_id(random.Random(7)), {"level": 0})


def test_when_scrolling_then_every_point_comes_once_in_id_order(store: VectorStore) -> None:
    points = labelled_points(seed=8, n=700, dim=DIM)  # more than two scroll pages
    store.upsert(points)
    ids = [h.id for h in store.scroll()]
    assert ids == sorted(p.id for p in points)
    acme = [h for h in store.scroll("acme")]
    assert [h.id for h in acme] == sorted(p.id for p in points if p.payload["tenant"] == "acme")
    assert all(h.payload["tenant"] == "acme" and "sealed" in h.payload for h in acme)


# -- refused input --------------------------------------------------------------


@pytest.mark.parametrize("bad_id", ["chunk-1", "", "1234"])
def test_when_an_id_is_not_a_uuid_then_store_error(store: VectorStore, bad_id: str) -> None:
    with pytest.raises(StoreError, match="UUID"):
        store.upsert([Point(bad_id, unit(1), payload())])
    with pytest.raises(StoreError, match="UUID"):
        store.delete_points([bad_id])


def test_when_a_vector_has_the_wrong_size_then_store_error(store: VectorStore) -> None:
    with pytest.raises(StoreError, match="dimensions"):
        store.upsert([Point(new_id(random.Random(9)), [1.0] * (DIM + 1), payload())])
    with pytest.raises(StoreError, match="dimensions"):
        store.search([1.0] * (DIM - 1), everyone(), 3)
    assert store.count() == 0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_when_a_vector_is_not_finite_then_store_error(store: VectorStore, bad: float) -> None:
    with pytest.raises(StoreError, match="non-finite"):
        store.upsert([Point(new_id(random.Random(9)), [bad] + [0.5] * (DIM - 1), payload())])
    with pytest.raises(StoreError, match="non-finite"):
        store.search([0.5] * (DIM - 1) + [bad], everyone(), 3)
    assert store.count() == 0


@pytest.mark.parametrize(
    "labels",
    [{"level": 1.0}, {"level": "1"}, {"level": True}, {"groups": "hr"}, {"users": [1]},
     {"tenant": 7}, {"extra": {1, 2}}, {"extra": float("nan")}, {"extra": b"raw"},
     {"quarantined": True}, {"quarantined": 2}, {"quarantined": "1"}],
)
def test_when_label_fields_have_wrong_types_then_store_error_without_payload(
    store: VectorStore, labels: dict[str, Any],
) -> None:
    with pytest.raises(StoreError) as caught:
        store.upsert([Point(new_id(random.Random(10)), unit(1), payload(sealed=CANARY, **labels))])
    assert CANARY not in str(caught.value)
    assert store.count() == 0


def test_when_closed_then_calls_fail_with_store_error_and_close_is_idempotent(
    store: VectorStore,
) -> None:
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.count()
    with pytest.raises(StoreError, match="closed"):
        store.search(unit(1), everyone(), 1)


# -- the access filter inside the search ------------------------------------------


def test_when_principal_has_no_groups_then_only_user_grants_make_points_visible(
    store: VectorStore,
) -> None:
    rng = random.Random(11)
    by_user = Point(new_id(rng), unit(1), payload(groups=["hr"], users=["ann"]))
    by_group = Point(new_id(rng), unit(2), payload(groups=["hr"], users=[]))
    store.upsert([by_user, by_group])
    ann = AccessFilter(tenant="acme", max_level=3, groups=(), user="ann")
    assert [h.id for h in store.search(unit(1), ann, 10)] == [by_user.id]
    nobody = AccessFilter(tenant="acme", max_level=3, groups=(), user="bob")
    assert store.search(unit(1), nobody, 10) == []


def test_when_a_level_is_negative_then_nobody_sees_the_point(store: VectorStore) -> None:
    # A tampered level of -1 would pass a bare `level <= clearance` condition.
    rng = random.Random(12)
    tampered = Point(new_id(rng), unit(3), payload(level=-1))
    store.upsert([tampered])
    for max_level in (0, 3):
        access = AccessFilter(tenant="acme", max_level=max_level, groups=("hr",), user="ceo")
        assert store.search(unit(3), access, 10) == []
        assert not matches(tampered.payload, access)


def test_when_a_point_is_quarantined_then_no_principal_finds_it_until_released(
    store: VectorStore,
) -> None:
    rng = random.Random(13)
    held = Point(new_id(rng), unit(4), payload(quarantined=1))
    released = Point(new_id(rng), unit(4), payload(quarantined=0))
    legacy = Point(new_id(rng), unit(4), payload())  # a store written before quarantine
    store.upsert([held, released, legacy])
    for access in (everyone(), AccessFilter(tenant="acme", max_level=0, groups=(), user="x"),
                   AccessFilter(tenant="acme", max_level=3, groups=("hr",), user="ceo")):
        found = {h.id for h in store.search(unit(4), access, 10)}
        assert held.id not in found
        assert not matches(held.payload, access)
        assert found == {p.id for p in (released, legacy) if matches(p.payload, access)}
    # Stewards still see it outside search (listing, release).
    assert [h.id for h in store.retrieve([held.id])] == [held.id]
    assert held.id in {h.id for h in store.scroll("acme")}
    store.set_payload(held.id, {"quarantined": 0})
    assert held.id in {h.id for h in store.search(unit(4), everyone(), 10)}


def test_when_limit_exceeds_the_visible_set_then_every_visible_point_comes_back(
    store: VectorStore,
) -> None:
    rng = random.Random(12)
    points = [Point(new_id(rng), unit(i), payload(level=i % 4)) for i in range(12)]
    store.upsert(points)
    access = AccessFilter(tenant="acme", max_level=1, groups=("hr",), user="x")
    hits = store.search(unit(0), access, 50)
    assert {h.id for h in hits} == {p.id for p in points if p.payload["level"] <= 1}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert store.search(unit(0), access, 0) == []


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_when_payloads_and_principals_are_random_then_engine_and_reference_agree(
    store: VectorStore, seed: int,
) -> None:
    """Congruence: the engine's filter lets through exactly what ``matches`` does."""
    points = labelled_points(seed=seed, n=600, dim=DIM)
    store.upsert(points)
    rng = random.Random(seed * 7)
    principals = [random_access(rng) for _ in range(40)]
    principals += [  # edges: no groups, every group, lowest and highest clearance
        AccessFilter(tenant="acme", max_level=0, groups=(), user=USERS[0]),
        AccessFilter(tenant="globex", max_level=3, groups=GROUPS, user="nobody"),
        AccessFilter(tenant="nowhere", max_level=3, groups=GROUPS, user=USERS[1]),
    ]
    for access in principals:
        expected = {p.id for p in points if matches(p.payload, access)}
        got = {h.id for h in store.search(unit(seed), access, len(points))}
        assert got == expected, access


# -- true top-k -------------------------------------------------------------------


def ranking(
    points: list[Point], vectors: np.ndarray, query: np.ndarray, access: AccessFilter,
) -> list[tuple[str, float]]:
    """Every visible point by cosine similarity to ``query``, best first (numpy)."""
    visible = [i for i, p in enumerate(points) if matches(p.payload, access)]
    scores = vectors[visible] @ (query / np.linalg.norm(query)) if visible else np.zeros(0)
    return [(points[visible[i]].id, float(scores[i])) for i in np.argsort(-scores, kind="stable")]


def assert_true_top_k(hits: list[Hit], ranked: list[tuple[str, float]], k: int) -> None:
    """The brute-force top k; ids may differ only between float32 ties at the boundary."""
    truth = ranked[:k]
    assert len(hits) == len(truth)
    assert [h.score for h in hits] == pytest.approx([s for _, s in truth], abs=1e-5)
    if truth:
        kth = truth[-1][1]
        assert {i for i, s in truth if s > kth + 1e-5} <= {h.id for h in hits}
        assert {h.id for h in hits} <= {i for i, s in ranked if s >= kth - 1e-5}


def test_when_principals_are_random_then_search_returns_the_brute_force_top_k(
    store384: VectorStore,
) -> None:
    n, dim = 3000, 384
    points = labelled_points(seed=31, n=n, dim=dim)
    store384.upsert(points)
    vectors = np.asarray([p.vector for p in points], dtype=np.float64)
    rng = random.Random(32)
    queries = clustered_vectors(33, 30, dim).astype(np.float64)
    for q in range(30):
        access = random_access(rng)
        k = rng.choice((1, 5, 10, 25))
        hits = store384.search(queries[q].tolist(), access, k)
        assert_true_top_k(hits, ranking(points, vectors, queries[q], access), k)


# -- hygiene ----------------------------------------------------------------------


def test_when_storing_and_searching_then_no_payload_or_vector_reaches_logs_or_reprs(
    store: VectorStore, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    rng = random.Random(41)
    point = Point(new_id(rng), unit(1), payload(sealed=CANARY, doc_id="doc-canary"))
    store.upsert([point])
    hits = store.search(unit(1), everyone(), 3)
    store.set_payload(point.id, {"level": 0})
    list(store.scroll())
    shown = caplog.text + repr(store) + repr(hits) + repr(point) + str(hits)
    assert CANARY not in shown


def test_when_random_payloads_are_generated_then_they_cover_every_label_shape() -> None:
    """Guards the congruence data: both visible and invisible cases occur."""
    rng = random.Random(51)
    payloads = [random_payload(rng) for _ in range(300)]
    assert {p["tenant"] for p in payloads} == set(TENANTS)
    assert any(not p["groups"] and not p["users"] for p in payloads)
    assert any(p["users"] and not p["groups"] for p in payloads)
    assert {p.get("quarantined", "absent") for p in payloads} == {"absent", 0, 1}


# -- Qdrant Edge only ---------------------------------------------------------------

_HOLD_STORE = """
import sys, time
from pathlib import Path
from ragseal.store import EdgeStore
store = EdgeStore(Path(sys.argv[1]), 32)
print("open", flush=True)
time.sleep(30)
"""

_WRITE_AND_DIE = """
import os, sys
from pathlib import Path
from ragseal.store import EdgeStore, Point
store = EdgeStore(Path(sys.argv[1]), 32)
store.upsert([Point(sys.argv[2], [1.0] + [0.0] * 31, {"tenant": "acme", "level": 0})])
store.delete_points([sys.argv[3]])
os._exit(0)  # no close(), no flush(): only the WAL has the writes
"""


def _python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )


def test_when_an_edge_store_is_reopened_then_points_payloads_and_indexes_persist(
    tmp_path: Path,
) -> None:
    points = labelled_points(seed=61, n=50, dim=DIM)
    first = EdgeStore(tmp_path / "s", DIM)
    first.upsert(points)
    first.close()
    again = EdgeStore(tmp_path / "s", DIM)
    try:
        assert again.count() == 50
        assert [dict(h.payload) for h in again.scroll()] == [
            dict(p.payload) for p in sorted(points, key=lambda p: p.id)
        ]
        access = random_access(random.Random(62))
        expected = {p.id for p in points if matches(p.payload, access)}
        assert {h.id for h in again.search(unit(1), access, 50)} == expected
    finally:
        again.close()


def test_when_a_second_store_opens_the_same_path_in_process_then_store_error_in_use(
    tmp_path: Path,
) -> None:
    first = EdgeStore(tmp_path / "s", DIM)
    with pytest.raises(StoreError, match="is in use by another ragseal process"):
        EdgeStore(tmp_path / "s", DIM)
    first.close()
    EdgeStore(tmp_path / "s", DIM).close()  # the lock goes with close()


def test_when_another_process_holds_the_store_then_open_fails_until_it_exits(
    tmp_path: Path,
) -> None:
    holder = _python(_HOLD_STORE, str(tmp_path / "s"))
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match=f"store at {tmp_path / 's'} is in use"):
            EdgeStore(tmp_path / "s", DIM)
    finally:
        holder.kill()
        holder.wait()
    EdgeStore(tmp_path / "s", DIM).close()  # a killed holder leaves no stale lock


def test_when_the_process_dies_without_close_then_its_writes_survive(tmp_path: Path) -> None:
    rng = random.Random(63)
    kept, doomed = new_id(rng), new_id(rng)
    seed = EdgeStore(tmp_path / "s", DIM)
    seed.upsert([Point(doomed, unit(1), payload())])
    seed.close()
    assert _python(_WRITE_AND_DIE, str(tmp_path / "s"), kept, doomed).wait() == 0
    again = EdgeStore(tmp_path / "s", DIM)
    try:
        assert [h.id for h in again.scroll()] == [kept]
    finally:
        again.close()


def test_when_an_edge_store_is_reopened_with_another_size_then_store_error(
    tmp_path: Path,
) -> None:
    EdgeStore(tmp_path / "s", DIM).close()
    with pytest.raises(StoreError, match="another vector configuration"):
        EdgeStore(tmp_path / "s", DIM * 2)
    EdgeStore(tmp_path / "s", DIM).close()  # a failed open releases the lock


class _QuerySpy:
    """Records whether each engine query was exact; can cut HNSW answers short."""

    def __init__(self, store: EdgeStore, cut_hnsw_to: int | None = None) -> None:
        self.exact: list[bool] = []
        self._inner = store._query
        self._cut = cut_hnsw_to

    def __call__(self, vector: Any, flt: Any, limit: int, params: Any) -> list[Hit]:
        self.exact.append(bool(params.exact))
        hits = self._inner(vector, flt, limit, params)
        return hits if params.exact or self._cut is None else hits[: self._cut]


@pytest.fixture(scope="module")
def indexed_edge(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EdgeStore, list[Point]]]:
    """8,000 labelled 384-d points with a built HNSW graph.

    Edge builds no graph below its indexing threshold (~6.7k vectors of 384
    floats): optimize() on 3,000 points is a no-op.
    """
    points = labelled_points(seed=71, n=8000, dim=384)
    store = EdgeStore(tmp_path_factory.mktemp("hnsw") / "s", 384, background_index=False)
    store.upsert(points)
    assert store.optimize()
    yield store, points
    store.close()


def _estimate(store: EdgeStore, access: AccessFilter) -> int:
    from qdrant_edge import CountRequest

    flt = edge_module.edge_access_filter(access)
    return int(store._shard.count(CountRequest(exact=False, filter=flt)))


@pytest.mark.parametrize("cut_hnsw_to", [None, 3])
def test_when_an_hnsw_graph_exists_then_narrow_is_exact_and_wide_is_complete(
    indexed_edge: tuple[EdgeStore, list[Point]],
    monkeypatch: pytest.MonkeyPatch,
    cut_hnsw_to: int | None,
) -> None:
    """At or below EXACT_MAX_VISIBLE (estimated) the search is exact; above
    it the graph answers with only visible points, never short, recall@10
    high; a short graph answer (simulated by ``cut_hnsw_to``) is redone
    exactly."""
    store, points = indexed_edge
    narrow = AccessFilter(tenant="acme", max_level=0, groups=GROUPS[:1], user="x")
    wide = AccessFilter(tenant="acme", max_level=3, groups=GROUPS, user="x")
    assert _estimate(store, narrow) < _estimate(store, wide)
    monkeypatch.setattr(edge_module, "EXACT_MAX_VISIBLE", _estimate(store, narrow))
    spy = _QuerySpy(store, cut_hnsw_to)
    monkeypatch.setattr(store, "_query", spy)
    vectors = np.asarray([p.vector for p in points], dtype=np.float64)
    queries = clustered_vectors(72, 12, 384).astype(np.float64)
    recalls = []
    for q, access in enumerate([wide] * 6 + [narrow] * 6):
        hits = store.search(queries[q].tolist(), access, 10)
        ranked = ranking(points, vectors, queries[q], access)
        if spy.exact[-1]:
            assert_true_top_k(hits, ranked, 10)
            continue
        assert len(hits) == 10
        assert all(matches(h.payload, access) for h in hits)
        recalls.append(len({h.id for h in hits} & {i for i, _ in ranked[:10]}) / 10)
    if cut_hnsw_to is None:
        assert spy.exact == [False] * 6 + [True] * 6
        assert sum(recalls) / len(recalls) >= 0.9
    else:  # every short graph answer was counted and redone exactly
        assert spy.exact == [False, True] * 6 + [True] * 6


@pytest.mark.slow
def test_when_a_bulk_load_is_indexed_in_the_background_then_searches_go_on_complete_and_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While a child process builds the graph on a copy, searches and counts
    keep being answered from the live shard (no blocking, no missing
    points, the true top-k: every visible set here is below
    EXACT_MAX_VISIBLE); writes made meanwhile are in the swapped-in shard,
    which persists."""
    monkeypatch.setattr(edge_module, "INDEX_QUIET_SECONDS", 0.2)
    monkeypatch.setattr(edge_module, "INDEX_MIN_UNINDEXED", 5_000)
    points = labelled_points(seed=93, n=9000, dim=384)
    late = labelled_points(seed=96, n=20, dim=384)
    queries = clustered_vectors(94, 400, 384).astype(np.float64)
    store = EdgeStore(tmp_path / "s", 384)
    builder = store._builder
    assert builder is not None
    rng = random.Random(95)
    store.upsert(points)
    expected = list(points)
    answered_while_building = 0
    for q in range(len(queries)):
        if answered_while_building == 3 and len(expected) == len(points):
            store.upsert(late)  # writes during the build
            store.delete_points([points[0].id])
            store.set_payload(points[1].id, {"level": 0})
            expected = [*points[2:], *late]
            expected.append(Point(points[1].id, points[1].vector,
                                  {**points[1].payload, "level": 0}))
        access = random_access(rng)
        busy_before = builder._busy
        hits = store.search(queries[q].tolist(), access, 10)
        count = store.count()
        if busy_before and builder._busy:
            answered_while_building += 1
        assert count == len(expected)
        vectors = np.asarray([p.vector for p in expected], dtype=np.float64)
        assert_true_top_k(hits, ranking(expected, vectors, queries[q], access), 10)
        if len(expected) > len(points) and not builder._busy and not builder._pending:
            break
    assert answered_while_building >= 3
    assert store.wait_indexed(timeout=600)
    assert store._shard.info().indexed_vectors_count > 0  # a graph got built
    assert store.retrieve([points[1].id])[0].payload["level"] == 0
    assert not store.retrieve([points[0].id])
    store.close()
    assert sorted(p.name for p in (tmp_path / "s").iterdir() if not p.name.startswith(".")) == [
        "CURRENT", store._shard_dir.name]
    reopened = EdgeStore(tmp_path / "s", 384, background_index=False)
    assert reopened.count() == len(expected)
    assert reopened._shard.info().indexed_vectors_count > 0
    reopened.close()


def test_when_a_store_closes_during_a_background_build_then_the_copy_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(edge_module, "INDEX_QUIET_SECONDS", 0.05)
    monkeypatch.setattr(edge_module, "INDEX_MIN_UNINDEXED", 1)
    monkeypatch.setattr(edge_module, "INDEXING_THRESHOLD_KB", 1)
    store = EdgeStore(tmp_path / "s", DIM)
    store.upsert(labelled_points(seed=97, n=300, dim=DIM))
    builder = store._builder
    assert builder is not None
    deadline = 200
    while not builder._busy and deadline:  # wait for the build to start
        deadline -= 1
        builder._cond.acquire()
        builder._cond.wait(0.05)
        builder._cond.release()
    store.close()
    left = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert not [name for name in left if name.startswith("gen-")] or "CURRENT" in left
    reopened = EdgeStore(tmp_path / "s", DIM, background_index=False)
    assert reopened.count() == 300
    reopened.close()


# -- qdrant-client only -------------------------------------------------------------


def test_when_a_collection_exists_with_another_size_then_store_error() -> None:
    client = QdrantClient(":memory:")
    ClientStore(client, "chunks", DIM)
    with pytest.raises(StoreError, match=f"{DIM}-dim Cosine vectors; ragseal needs {2 * DIM}"):
        ClientStore(client, "chunks", 2 * DIM)


def test_when_a_collection_exists_then_its_points_are_kept() -> None:
    client = QdrantClient(":memory:")
    ClientStore(client, "chunks", DIM).upsert(labelled_points(seed=81, n=20, dim=DIM))
    assert ClientStore(client, "chunks", DIM).count() == 20


@pytest.mark.filterwarnings("ignore:Local mode performs exact")
def test_when_the_client_plans_as_for_a_server_then_search_returns_the_true_top_k(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server path (estimate, exact or approximate, completeness check)
    run against local mode, whose answers are exact whatever the params."""
    store = ClientStore(QdrantClient(":memory:"), "chunks", DIM)
    monkeypatch.setattr(store, "_local", False)
    monkeypatch.setattr(client_module, "EXACT_MAX_VISIBLE", 50)
    exact: list[bool] = []
    inner = store._query

    def spy(vector: Any, flt: Any, limit: int, params: Any) -> list[Hit]:
        exact.append(bool(params and params.exact))
        return inner(vector, flt, limit, params)

    monkeypatch.setattr(store, "_query", spy)
    points = labelled_points(seed=82, n=800, dim=DIM)
    store.upsert(points)
    vectors = np.asarray([p.vector for p in points], dtype=np.float64)
    rng = random.Random(83)
    queries = clustered_vectors(84, 10, DIM).astype(np.float64)
    accesses = [AccessFilter("acme", 3, GROUPS, "x")] * 5 + [random_access(rng) for _ in range(5)]
    for q, access in enumerate(accesses):
        hits = store.search(queries[q].tolist(), access, 10)
        assert_true_top_k(hits, ranking(points, vectors, queries[q], access), 10)
    assert True in exact and False in exact  # both branches ran


def test_when_a_server_collection_is_created_then_it_gets_the_scale_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Per-value links, int8 quantization, the indexing threshold and a
    tenant-aware index, as the embedded store has (local mode ignores them,
    so the calls are recorded)."""
    client = QdrantClient(":memory:")
    created: dict[str, Any] = {}
    indexes: dict[str, Any] = {}
    real_create = client.create_collection

    def create(name: str, **kwargs: Any) -> bool:
        created.update(kwargs)
        return real_create(name, vectors_config=kwargs["vectors_config"])

    monkeypatch.setattr(client, "create_collection", create)
    monkeypatch.setattr(client, "create_payload_index",
                        lambda name, field, schema: indexes.update({field: schema}))
    monkeypatch.setattr(type(client), "init_options", property(lambda self: {}))  # a server
    ClientStore(client, "chunks", DIM)
    assert created["hnsw_config"].payload_m == edge_module.PAYLOAD_M
    assert created["quantization_config"].scalar.type.value == "int8"
    assert created["optimizers_config"].indexing_threshold == edge_module.INDEXING_THRESHOLD_KB
    assert indexes["tenant"].is_tenant is True
    assert {f for f, schema in indexes.items() if schema.enable_hnsw is False} == {
        "doc_id", "tags", "quarantined", "fp"}


# -- open_store -------------------------------------------------------------------


def test_when_no_url_is_set_then_open_store_gives_an_edge_store_under_the_data_dir(
    tmp_path: Path,
) -> None:
    opened = open_store(
        data_dir=tmp_path, qdrant_url=None, qdrant_api_key=None, collection="chunks", dim=DIM
    )
    try:
        assert isinstance(opened, EdgeStore) and isinstance(opened, VectorStore)
        assert opened.path == tmp_path / "store" / "chunks"
    finally:
        opened.close()


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".."])
def test_when_the_collection_name_is_unsafe_then_open_store_refuses_it(
    tmp_path: Path, name: str,
) -> None:
    with pytest.raises(StoreError, match="RAGSEAL_COLLECTION"):
        open_store(data_dir=tmp_path, qdrant_url=None, qdrant_api_key=None, collection=name)


def test_when_the_server_is_unreachable_then_open_store_raises_store_error(
    tmp_path: Path,
) -> None:
    with pytest.raises(StoreError, match="RAGSEAL_QDRANT_URL") as caught:
        open_store(
            data_dir=tmp_path, qdrant_url="http://127.0.0.1:9", qdrant_api_key="k-secret-42",
            collection="c",
        )
    assert "k-secret-42" not in str(caught.value)


# -- keyed passage fingerprints ----------------------------------------------


def test_when_fingerprints_are_matched_then_only_that_tenants_holders_come_back_without_sealed(
    store: VectorStore,
) -> None:
    rng = random.Random(40)
    f5, f7, f9, big = ("a" * 13 + "f", "a" * 13 + "h", "a" * 13 + "j", "z" * 14)
    a = Point(new_id(rng), unit(1), payload(fp=[f5, big], sealed=CANARY))
    b = Point(new_id(rng), unit(2), payload(fp=[f7]))
    other_tenant = Point(new_id(rng), unit(3), payload(tenant="globex", fp=[f5]))
    legacy = Point(new_id(rng), unit(4), payload())  # ingested before fingerprints
    store.upsert([a, b, other_tenant, legacy])
    hits = list(store.match_fingerprints("acme", [big, f9]))
    assert [h.id for h in hits] == [a.id]
    assert hits[0].payload["fp"] == [f5, big] and "sealed" not in hits[0].payload
    assert hits[0].payload["level"] == 1 and hits[0].payload["groups"] == ["hr"]
    assert sorted(h.id for h in store.match_fingerprints("acme", [f5, f7])) == sorted(
        [a.id, b.id])
    assert list(store.match_fingerprints("acme", [])) == []
    store.delete_points([a.id])
    assert list(store.match_fingerprints("acme", [f5])) == []


@pytest.mark.parametrize("bad", [[5], ["a" * 13], ["A" * 14], ["a" * 13 + "1"], "a" * 14,
                                 [True], [None]])
def test_when_fingerprints_are_not_14_letter_keywords_then_store_error(
    store: VectorStore, bad: object
) -> None:
    with pytest.raises(StoreError, match="'fp'"):
        store.upsert([Point(new_id(random.Random(41)), unit(1), payload(fp=bad))])


def test_when_tags_are_looked_up_then_only_the_tenants_known_ones_come_back(
    store: VectorStore,
) -> None:
    rng = random.Random(42)
    store.upsert([
        Point(new_id(rng), unit(1), payload(tags=["t1", "t2"], level=3, groups=["legal"])),
        Point(new_id(rng), unit(2), payload(tenant="globex", tags=["t3"])),
    ])
    assert store.known_tags("acme", ["t1", "t3", "t9"]) == {"t1"}
    assert store.known_tags("globex", ["t3"]) == {"t3"} and store.known_tags("acme", []) == set()
