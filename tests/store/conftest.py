"""Both vector-store backends behind one fixture, and labelled test data."""

# ruff: noqa: S311  (seeded test data, not secrets)

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient
from ragseal.store import AccessFilter, ClientStore, EdgeStore, Point, VectorStore
from ragseal.store._owner import StoreOwner
from ragseal.store._remote import RemoteStore

DIM = 32
TENANTS = ("acme", "globex", "initech")
GROUPS = tuple(f"g{i}" for i in range(8))
USERS = tuple(f"u{i}@example.test" for i in range(6))


@pytest.fixture(params=["edge", "client", "remote"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    """An empty store of ``DIM`` dimensions on each backend."""
    yield from _open(request.param, tmp_path, DIM)


@pytest.fixture(params=["edge", "client", "remote"])
def store384(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    """An empty store of 384 dimensions (the embedder's size) on each backend."""
    yield from _open(request.param, tmp_path, 384)


def _open(kind: str, tmp_path: Path, dim: int) -> Iterator[VectorStore]:
    opened: VectorStore
    if kind == "remote":
        # An Edge store owned here, used through the owner's socket as a CLI
        # command beside `ragseal serve` does (store/_owner.py, _remote.py).
        edge = EdgeStore(tmp_path / "edge", dim)
        owner = StoreOwner(edge, tmp_path / "run" / "s.sock", collection="chunks", dim=dim)
        remote = RemoteStore(owner.path, "chunks", dim)
        yield remote
        remote.close()
        owner.close()
        edge.close()
        return
    if kind == "edge":
        opened = EdgeStore(tmp_path / "edge", dim)
    else:
        opened = ClientStore(QdrantClient(":memory:"), "chunks", dim)
    yield opened
    opened.close()


def new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def random_payload(rng: random.Random) -> dict[str, object]:
    payload: dict[str, object] = {
        "tenant": rng.choice(TENANTS),
        "doc_id": f"doc{rng.randrange(40)}",
        "level": rng.randrange(4),
        "groups": rng.sample(GROUPS, rng.randrange(0, 3)),
        "users": rng.sample(USERS, rng.choice((0, 0, 1, 2))),
        "sealed": "c2VhbGVk",
    }
    # Quarantine marker: absent (older stores), 0 (released or clean) or 1 (held).
    quarantined = rng.choice((None, None, None, 0, 1))
    if quarantined is not None:
        payload["quarantined"] = quarantined
    return payload


def random_access(rng: random.Random) -> AccessFilter:
    return AccessFilter(
        tenant=rng.choice(TENANTS),
        max_level=rng.randrange(4),
        groups=tuple(rng.sample(GROUPS, rng.choice((0, 1, 1, 2, 3)))),
        user=rng.choice(USERS),
    )


def clustered_vectors(seed: int, n: int, dim: int, clusters: int = 24) -> np.ndarray:
    """Unit vectors in tight clusters of uneven size, like real embeddings.

    Gaussian noise alone is a worst case for HNSW but an easy one for ties;
    clusters give near neighbours that differ only slightly in score.
    """
    gen = np.random.default_rng(seed)
    centres = gen.normal(size=(clusters, dim))
    weights = gen.dirichlet(np.ones(clusters) * 0.5)
    members = gen.choice(clusters, size=n, p=weights)
    spread = gen.uniform(0.05, 0.6, size=clusters)[members, None]
    vectors = centres[members] + spread * gen.normal(size=(n, dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


def labelled_points(seed: int, n: int, dim: int) -> list[Point]:
    rng = random.Random(seed)
    vectors = clustered_vectors(seed, n, dim)
    return [Point(new_id(rng), vectors[i].tolist(), random_payload(rng)) for i in range(n)]
