"""Contract tests of each control-plane part, on both backends.

``files``: today's embedded parts (SQLite in the keyring folder, audit files,
memory for limits); ``postgres``: ``ragseal.store.postgres`` on a fresh schema of
the test server (``RAGSEAL_TEST_DATABASE_URL``; scripts/postgres.sh). Both
are built through ``api/_control_plane.py``, the one place that chooses.
Tests whose name says ``replicas`` use two instances on one backend, as two
processes would.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from ragseal.api._control_plane import (
    open_audit,
    open_freezes,
    open_keyring,
    open_policy_store,
    open_rate_limiter,
    probe_counters,
    read_trail,
    verify_trail,
)
from ragseal.api._probing import MemoryProbeCounters
from ragseal.api._settings import Settings
from ragseal.store import MAX_ENCRYPTIONS_PER_KEY, DataKeyNotFound, KeyringError, KeyUsageExceeded

MASTER = bytes(range(32))


@dataclass
class Plane:
    """One backend: settings, and a second process's settings (another data dir)."""

    kind: str
    settings: Settings
    other: Settings

    @property
    def shared(self) -> bool:
        return self.kind == "postgres"


def _settings(data_dir: Path, url: str | None, **extra: object) -> Settings:
    return Settings(data_dir=data_dir, master_key=base64.b64encode(MASTER).decode(),
                    database_url=url, **extra)


@pytest.fixture(params=["files", "postgres"])
def plane(request: pytest.FixtureRequest, tmp_path: Path) -> Plane:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    # Files: both "processes" share the keyring folder (the embedded deployment);
    # PostgreSQL: each has its own data dir and keyring folder, the database is shared.
    other_dir = tmp_path / ("a" if url is None else "b")
    return Plane(request.param, _settings(tmp_path / "a", url),
                 _settings(other_dir, url))


# -- key provider --------------------------------------------------------------

def test_when_a_data_key_is_ensured_twice_then_it_is_the_same(plane: Plane) -> None:
    keys = open_keyring(plane.settings)
    first = keys.ensure_data_key("doc", "acme")
    assert keys.ensure_data_key("doc", "acme") == first == keys.data_key("doc", "acme")
    assert keys.ensure_data_key("doc", "globex") != first
    with pytest.raises(DataKeyNotFound):
        keys.data_key("never", "acme")


def test_when_a_version_is_pending_then_only_make_current_opens_it(plane: Plane) -> None:
    keys = open_keyring(plane.settings)
    old = keys.ensure_data_key("doc", "acme", "v1")
    keys.make_current("doc", "acme", "v1")
    new = keys.ensure_data_key("doc", "acme", "v2")
    assert keys.pending_versions() == [("acme", "doc", "v2")]
    with pytest.raises(DataKeyNotFound):
        keys.data_key("doc", "acme", "v2")
    assert keys.data_key("doc", "acme", "v1") == old
    keys.make_current("doc", "acme", "v2")
    keys.make_current("doc", "acme", "v2")  # a resumed run: no error
    assert keys.data_key("doc", "acme") == new
    assert keys.current_version("doc", "acme") == "v2"
    with pytest.raises(DataKeyNotFound):
        keys.data_key("doc", "acme", "v1")
    assert keys.pending_versions() == []
    with pytest.raises(DataKeyNotFound):
        keys.make_current("doc", "acme", "v9")


def test_when_a_key_is_destroyed_on_one_replica_then_the_other_cannot_open_it(
        plane: Plane) -> None:
    one, two = open_keyring(plane.settings), open_keyring(plane.other)
    key = one.ensure_data_key("doc", "acme", "v1")
    one.make_current("doc", "acme", "v1")
    assert two.data_key("doc", "acme") == key
    assert two.destroy_data_key("doc", "acme") is True
    with pytest.raises(DataKeyNotFound):
        one.data_key("doc", "acme")
    assert one.destroy_data_key("doc", "acme") is False


def test_when_one_replica_writes_versions_then_another_writer_waits(plane: Plane) -> None:
    """The writers' lock (store/_writers.py) holds across the control plane:
    a second writer's section starts only after the first one's ends."""
    one, two = open_keyring(plane.settings), open_keyring(plane.other)
    order: list[str] = []
    inside = threading.Event()

    def second() -> None:
        inside.wait(10)
        with two.writing():
            order.append("two")

    thread = threading.Thread(target=second)
    with one.writing():
        thread.start()
        inside.set()
        time.sleep(0.5)  # the second writer is blocked now, not merely late
        order.append("one")
    thread.join(10)
    assert order == ["one", "two"]


def test_when_two_replicas_ask_for_a_secret_then_they_agree(plane: Plane) -> None:
    one, two = open_keyring(plane.settings), open_keyring(plane.other)
    found: list[bytes] = []
    threads = [threading.Thread(target=lambda k=k: found.append(k.secret("retrieval-ids")))
               for k in (one, two, one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(found)) == 1 and len(found[0]) == 32


def test_when_keys_are_rotated_on_one_replica_then_the_other_opens_them(plane: Plane) -> None:
    one, two = open_keyring(plane.settings), open_keyring(plane.other)
    key = one.ensure_data_key("doc", "acme")
    pending = one.ensure_data_key("doc2", "acme", "v1")
    secret = one.secret("ids")
    assert one.rotate(batch=1) == 2
    assert two.status().active_version == 2
    assert two.data_key("doc", "acme") == key
    assert two.ensure_data_key("doc2", "acme", "v1") == pending
    assert two.secret("ids") == secret
    with pytest.raises(KeyringError):
        two.retire(2)
    two.retire(1)
    assert two.status().versions == {1: "retired", 2: "active"}
    assert one.data_key("doc", "acme") == key
    two.check()


def test_when_the_master_key_differs_then_the_keyring_refuses(plane: Plane) -> None:
    open_keyring(plane.settings).secret("ids")
    with pytest.raises(KeyringError):
        open_keyring(_wrong_master(plane))


def _url(plane: Plane) -> str | None:
    url = plane.settings.database_url
    return url.get_secret_value() if url is not None else None


def _wrong_master(plane: Plane) -> Settings:
    return Settings(data_dir=plane.settings.data_dir, database_url=_url(plane),
                    master_key=base64.b64encode(bytes(32)).decode())


def test_when_the_encryption_cap_is_reached_then_the_key_refuses(plane: Plane) -> None:
    keys = open_keyring(plane.settings)
    keys.ensure_data_key("doc", "acme")
    keys.record_encryptions("doc", "acme", MAX_ENCRYPTIONS_PER_KEY)
    with pytest.raises(KeyUsageExceeded):
        keys.record_encryptions("doc", "acme", 1)
    assert keys.status().max_encryptions_one_key == MAX_ENCRYPTIONS_PER_KEY
    with pytest.raises(DataKeyNotFound):
        keys.record_encryptions("other", "acme", 1)


def test_when_the_keyring_is_stored_then_the_master_key_is_not_in_it(
        plane: Plane, postgres_dump: Callable[[Plane], bytes]) -> None:
    keys = open_keyring(plane.settings)
    keys.ensure_data_key("doc", "acme")
    keys.secret("ids")
    stored = postgres_dump(plane)
    assert MASTER not in stored
    assert base64.b64encode(MASTER) not in stored


@pytest.fixture
def postgres_dump() -> Callable[[Plane], bytes]:
    def dump(plane: Plane) -> bytes:
        if not plane.shared:
            return b"".join(p.read_bytes() for p in plane.settings.keyring_dir.glob("*.db"))
        from ragseal.store.postgres import database

        db = database(_url(plane) or "")
        out = b""
        with db.transaction() as conn:
            for table in ("ragseal_keks", "ragseal_data_keys", "ragseal_secrets"):
                for row in conn.execute(f"SELECT * FROM {table}").fetchall():  # noqa: S608
                    out += b"|".join(bytes(v) if isinstance(v, bytes | memoryview)
                                     else str(v).encode() for v in row)
        return out
    return dump


# -- policy versions -------------------------------------------------------------

def test_when_versions_are_added_then_they_are_numbered_and_kept(plane: Plane) -> None:
    store = open_policy_store(plane.settings)
    assert store.head("acme") == 0 and store.latest("acme") is None
    v1 = store.add("acme", "a: 1\n", fingerprint="f1", author="steward")
    v2 = store.add("acme", "a: 2\n", fingerprint="f2", author="steward")
    assert (v1.version, v2.version) == (1, 2)
    other = open_policy_store(plane.other)
    assert other.head("acme") == 2 and other.head("globex") == 0
    assert other.get("acme", 1) == v1 and other.get("acme", 3) is None
    assert other.latest("acme") == v2
    assert [v.version for v in other.versions("acme")] == [1, 2]
    assert "a: 2" not in repr(v2)


def test_when_two_replicas_add_versions_at_once_then_each_gets_its_own_number(
        plane: Plane) -> None:
    stores = [open_policy_store(plane.settings), open_policy_store(plane.other)]
    numbers: list[int] = []
    lock = threading.Lock()

    def add(i: int) -> None:
        v = stores[i % 2].add("acme", f"x: {i}\n", fingerprint=f"f{i}", author="s")
        with lock:
            numbers.append(v.version)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(numbers) == list(range(1, 9))


def test_when_a_policy_is_too_large_then_it_is_refused(plane: Plane) -> None:
    from ragseal.store import PolicyStoreError

    with pytest.raises(PolicyStoreError):
        open_policy_store(plane.settings).add("acme", "x" * (2 << 20), fingerprint="f",
                                              author="s")


# -- freezes -------------------------------------------------------------------

def test_when_a_tenant_is_frozen_on_one_replica_then_the_other_sees_it(plane: Plane) -> None:
    now = [0.0]
    one = open_freezes(plane.settings)
    two = open_freezes(plane.other)
    two._clock = lambda: now[0]  # noqa: SLF001 - the refresh interval, without sleeping
    assert not two.is_frozen("acme")
    assert one.set("acme", True, actor="cli:ops", reason="leak") is True
    assert one.set("acme", True, actor="cli:ops") is False
    assert one.is_frozen("acme")  # the writer sees its own change at once
    now[0] += 2.0  # REFRESH_SECONDS later
    assert two.is_frozen("acme") and not two.is_frozen("globex")
    assert two.frozen() == frozenset({"acme"})
    one.set("acme", False, actor="cli:ops", reason="resolved")
    assert [(e.tenant, e.frozen, e.reason) for e in two.history()] == [
        ("acme", True, "leak"), ("acme", False, "resolved")]
    assert two.history("globex") == []


# -- audit -------------------------------------------------------------------------

def test_when_two_writers_audit_then_verify_covers_both(plane: Plane) -> None:
    key = b"k" * 32
    one, two = open_audit(plane.settings, key), open_audit(plane.other, key)
    for i in range(5):
        one.record("retrieve", returned=i)
        two.record("inspect", verdict="allow")
    one.close()
    two.close()
    report = verify_trail(plane.settings, key)
    assert report.ok, report.problems
    assert report.chains == 2 and report.records == 2 * (1 + 5 + 1)
    actions = [r["action"] for r in read_trail(plane.settings, None)]
    assert actions.count("retrieve") == 5 and actions.count("inspect") == 5
    assert not verify_trail(plane.settings, b"x" * 32).ok  # another seal key


def test_when_an_audit_record_is_modified_then_verify_names_it(plane: Plane) -> None:
    key = b"k" * 32
    log = open_audit(plane.settings, key)
    log.record("retrieve", returned=1)
    log.record("retrieve", returned=2)
    log.close()
    _tamper(plane, log.replica, seq=1, old='"returned":1', new='"returned":9')
    report = verify_trail(plane.settings, key)
    assert not report.ok
    assert report.problems[0].seq == 1 and "modified" in report.problems[0].problem


def _tamper(plane: Plane, replica: str, *, seq: int, old: str, new: str) -> None:
    if not plane.shared:
        path = plane.settings.data_dir / "audit" / f"{replica}.jsonl"
        path.write_text(path.read_text().replace(old, new))
        return
    from ragseal.store.postgres import database

    with database(_url(plane) or "").transaction() as conn:
        conn.execute("UPDATE ragseal_audit SET line = replace(line, %s, %s)"
                     " WHERE replica = %s AND seq = %s", (old, new, replica, seq))


# -- rate limits and probing counters ---------------------------------------------

def test_when_a_principal_spends_its_tokens_then_it_waits(plane: Plane) -> None:
    now = [1000.0]
    limiter = open_rate_limiter(plane.settings.model_copy(update={"rate_limit_per_minute": 3}))
    limiter._clock = lambda: now[0]  # noqa: SLF001
    key = ("acme", "u1")
    assert [limiter.acquire(key) for _ in range(3)] == [None, None, None]
    wait = limiter.acquire(key)
    assert wait is not None and 19.0 < wait <= 20.0
    assert limiter.acquire(("acme", "u2")) is None  # buckets are per principal
    now[0] += 20.0
    assert limiter.acquire(key) is None


def test_when_replicas_share_a_database_then_the_rate_limit_is_global(plane: Plane) -> None:
    settings = plane.settings.model_copy(update={"rate_limit_per_minute": 4})
    other = plane.other.model_copy(update={"rate_limit_per_minute": 4})
    one, two = open_rate_limiter(settings), open_rate_limiter(other)
    allowed = sum((one, two)[i % 2].acquire(("acme", "u")) is None for i in range(8))
    # Embedded: each process has its own buckets (4 + 4); shared: 4 in all.
    assert allowed == (4 if plane.shared else 8)


def test_when_signals_add_up_then_counters_decay_strike_and_throttle(plane: Plane) -> None:
    counters, _ = probe_counters(plane.settings)
    key = ("acme", "u1")
    score, counts = counters.add(key, {"denied": 1.0, "blocked": 1.0}, 100.0, 10.0)
    assert score == pytest.approx(2.0) and counts == {"denied": 1, "blocked": 1}
    score, counts = counters.add(key, {"denied": 1.0}, 110.0, 10.0)
    assert score == pytest.approx(2.0) and counts["denied"] == 2  # halved, plus one
    assert counters.throttled(key, 110.0) == 0.0
    assert counters.strike(key, 110.0, 30.0, 3600.0, 86400.0) == 30.0
    assert counters.throttled(key, 120.0) == pytest.approx(20.0)
    assert counters.strike(key, 200.0, 30.0, 3600.0, 86400.0) == 60.0  # doubled
    assert counters.add(key, {"denied": 1.0}, 200.0, 10.0)[0] == pytest.approx(1.0)
    assert counters.strike(key, 200.0 + 86401.0, 30.0, 3600.0, 86400.0) == 30.0  # forgiven


def test_when_a_value_changes_in_a_repeated_query_then_it_is_a_near_duplicate(
        plane: Plane) -> None:
    counters, _ = probe_counters(plane.settings)
    key = ("acme", "u1")
    assert counters.seen(key, "query", "sk1", "t1") is False
    assert counters.seen(key, "query", "sk1", "t1") is False  # the same text again
    assert counters.seen(key, "query", "sk1", "t2") is True
    assert counters.seen(key, "answer", "sk1", "t3") is False  # another kind
    assert counters.seen(("acme", "u2"), "query", "sk1", "t9") is False
    for i in range(40):  # only the recent ones count
        counters.seen(key, "query", f"other{i}", "t")
    assert counters.seen(key, "query", "sk1", "t4") is False


def test_when_probing_is_shared_then_the_counters_are_the_databases(plane: Plane) -> None:
    counters, clock = probe_counters(plane.settings)
    assert isinstance(counters, MemoryProbeCounters) is not plane.shared
    # Shared counters are compared across hosts: wall-clock time, not monotonic.
    assert (clock is time.time) is plane.shared


# -- the database itself -------------------------------------------------------------

def test_when_the_database_is_down_then_each_part_fails_closed(tmp_path: Path) -> None:
    from ragseal.store import AuditError, PolicyStoreError
    from ragseal.store.postgres import ControlPlaneUnavailable

    canary = "Canary-Pa55word-7d1e"
    settings = _settings(tmp_path, f"postgresql://ragseal:{canary}@127.0.0.1:9/x")
    with pytest.raises(KeyringError) as keyring_error:
        open_keyring(settings)
    with pytest.raises(PolicyStoreError) as policy_error:
        open_policy_store(settings)
    with pytest.raises(AuditError) as audit_error:
        open_audit(settings, b"k" * 32)
    with pytest.raises(ControlPlaneUnavailable) as plane_error:
        open_rate_limiter(settings)
    for exc in (keyring_error, policy_error, audit_error, plane_error):
        assert canary not in str(exc.value)
    assert "127.0.0.1:9" in str(plane_error.value)  # names the server, not the password


def test_when_the_url_is_printed_then_the_password_is_hidden(postgres_url: str) -> None:
    from ragseal.store.postgres import database, redact_url

    db = database(postgres_url)
    password = postgres_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert password not in repr(db) and password not in redact_url(postgres_url)
    settings = _settings(Path("unused"), postgres_url)
    assert password not in repr(settings) and password not in str(settings)


def test_when_the_schema_is_migrated_twice_then_nothing_changes(postgres_url: str) -> None:
    from ragseal.store.postgres import Database

    first = Database(postgres_url)
    second = Database(postgres_url)  # a second replica starting
    try:
        assert second.migrate() == first.migrate() == 1
        with first.transaction() as conn:
            rows = conn.execute("SELECT version FROM ragseal_schema").fetchall()
        assert rows == [(1,)]
    finally:
        first.close()
        second.close()


def test_when_the_pool_is_gone_then_a_freeze_reads_frozen(postgres_url: str) -> None:
    from ragseal.store.postgres import Database, PgTenantFreezes

    db = Database(postgres_url)
    freezes = PgTenantFreezes(db)
    assert not freezes.is_frozen("acme")
    db.close()
    freezes._read_at = -float("inf")  # noqa: SLF001 - past the refresh interval
    assert freezes.is_frozen("acme")

