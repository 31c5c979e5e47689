"""Tenant policy versions: immutable, numbered per tenant, durable, shared by
processes, no lost update under concurrent writers."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest
from ragseal.store import PolicyStore, PolicyStoreError, SqlitePolicyStore


def test_when_versions_are_added_then_they_are_numbered_per_tenant(tmp_path: Path) -> None:
    store = SqlitePolicyStore(tmp_path)
    assert isinstance(store, PolicyStore)
    assert store.head("acme") == 0 and store.latest("acme") is None
    a1 = store.add("acme", "levels: [a]", fingerprint="f1", author="s1")
    g1 = store.add("globex", "levels: [b]", fingerprint="g1", author="s2")
    a2 = store.add("acme", "levels: [c]", fingerprint="f2", author="s1")
    assert (a1.version, g1.version, a2.version) == (1, 1, 2)
    assert store.head("acme") == 2 and store.head("globex") == 1
    assert store.latest("acme") == a2
    assert store.get("acme", 1) == a1 and store.get("acme", 3) is None
    assert [v.version for v in store.versions("acme")] == [1, 2]
    assert "levels" not in repr(a1)  # the text stays out of reprs and logs
    assert a1.meta() == {"version": 1, "fingerprint": "f1", "author": "s1",
                         "created": a1.created}
    store.close()


def test_when_the_store_is_reopened_then_the_versions_are_there(tmp_path: Path) -> None:
    store = SqlitePolicyStore(tmp_path)
    store.add("acme", "text-1", fingerprint="f1", author="s1")
    store.close()
    again = SqlitePolicyStore(tmp_path)
    latest = again.latest("acme")
    assert latest is not None and latest.text == "text-1"
    assert stat.S_IMODE((tmp_path / "policies.db").stat().st_mode) == 0o600
    again.close()


def test_when_a_policy_is_too_large_then_it_is_refused(tmp_path: Path) -> None:
    store = SqlitePolicyStore(tmp_path)
    with pytest.raises(PolicyStoreError):
        store.add("acme", "x" * (2 << 20), fingerprint="f", author="s")
    assert store.head("acme") == 0


def _writer(folder: str, who: str, count: int) -> None:
    store = SqlitePolicyStore(Path(folder))
    for i in range(count):
        store.add("acme", f"{who}-{i}", fingerprint=f"{who}{i}", author=who)
    store.close()


def test_when_two_processes_write_at_once_then_no_version_is_lost(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    count = 15
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), who, count))
             for who in ("replica-a", "replica-b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    versions = SqlitePolicyStore(tmp_path).versions("acme")
    assert [v.version for v in versions] == list(range(1, 2 * count + 1))
    texts = {v.text for v in versions}
    assert texts == {f"{w}-{i}" for w in ("replica-a", "replica-b") for i in range(count)}
