"""Local keyring: data keys, rotation, retirement, erasure, file permissions."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import logging
import os
import sqlite3
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ragseal.store import (
    MAX_ENCRYPTIONS_PER_KEY,
    DataKeyNotFound,
    KeyringError,
    KeyUsageExceeded,
    Labels,
    LocalKeyring,
    seal_chunk,
)
from ragseal.store._keyring import _decode_master


@pytest.fixture
def ring(tmp_path: Path) -> LocalKeyring:
    return LocalKeyring(tmp_path / "keys")


def test_when_data_key_ensured_twice_then_same_key(ring: LocalKeyring) -> None:
    key = ring.ensure_data_key("d1", "acme")
    assert len(key) == 32
    assert ring.ensure_data_key("d1", "acme") == key
    assert ring.data_key("d1", "acme") == key


def test_when_same_doc_id_in_two_tenants_then_keys_differ(ring: LocalKeyring) -> None:
    assert ring.ensure_data_key("d1", "acme") != ring.ensure_data_key("d1", "globex")


def test_when_master_key_generated_then_file_is_0600(tmp_path: Path) -> None:
    LocalKeyring(tmp_path / "keys")
    assert (tmp_path / "keys" / "master.key").stat().st_mode & 0o777 == 0o600


def test_when_master_key_file_group_readable_then_refused(tmp_path: Path) -> None:
    LocalKeyring(tmp_path / "keys")
    os.chmod(tmp_path / "keys" / "master.key", 0o640)
    with pytest.raises(KeyringError, match="chmod 600"):
        LocalKeyring(tmp_path / "keys")


def test_when_reopened_with_wrong_master_key_then_refused(tmp_path: Path) -> None:
    LocalKeyring(tmp_path / "keys", master_key=os.urandom(32))
    with pytest.raises(KeyringError, match="master key does not open"):
        LocalKeyring(tmp_path / "keys", master_key=os.urandom(32))


def test_when_reopened_then_keys_and_secrets_survive(tmp_path: Path) -> None:
    master = os.urandom(32)
    ring = LocalKeyring(tmp_path / "keys", master_key=master)
    key, secret = ring.ensure_data_key("d1", "acme"), ring.secret("ids")
    ring.close()
    again = LocalKeyring(tmp_path / "keys", master_key=master)
    assert again.data_key("d1", "acme") == key
    assert again.secret("ids") == secret


def test_when_destroyed_then_data_key_is_gone_from_the_files(tmp_path: Path) -> None:
    ring = LocalKeyring(tmp_path / "keys")
    ring.ensure_data_key("victim-doc", "acme")
    assert ring.destroy_data_key("victim-doc", "acme")
    with pytest.raises(DataKeyNotFound):
        ring.data_key("victim-doc", "acme")
    assert not ring.destroy_data_key("victim-doc", "acme")
    ring.close()
    for f in (tmp_path / "keys").iterdir():
        assert b"victim-doc" not in f.read_bytes()


def test_when_rotated_then_every_key_rewrapped_and_old_version_retirable(
    ring: LocalKeyring,
) -> None:
    keys = {d: ring.ensure_data_key(d, "acme") for d in ("a", "b", "c")}
    secret = ring.secret("pseudonyms")
    assert ring.rotate(batch=2) == 2
    status = ring.status()
    assert status.active_version == 2 and status.data_keys_per_version == {2: 3}
    ring.retire(1)
    assert ring.status().versions[1] == "retired"
    assert {d: ring.data_key(d, "acme") for d in keys} == keys
    assert ring.secret("pseudonyms") == secret


def test_when_rotation_crashes_midway_then_next_rotate_resumes(
    ring: LocalKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ragseal.store._keyring as keyring_module

    keys = {d: ring.ensure_data_key(d, "acme") for d in "abcdef"}
    real_wrap, calls = keyring_module._wrap, []

    def crash_on_fourth(kek: bytes, key: bytes, aad: bytes) -> bytes:
        calls.append(1)
        if len(calls) == 4:  # 1: new KEK, 2-3: first batch, 4: dies in the second
            raise KeyboardInterrupt
        return real_wrap(kek, key, aad)

    monkeypatch.setattr(keyring_module, "_wrap", crash_on_fourth)
    with pytest.raises(KeyboardInterrupt):
        ring.rotate(batch=2)
    monkeypatch.setattr(keyring_module, "_wrap", real_wrap)
    assert ring.status().data_keys_per_version == {1: 4, 2: 2}
    with pytest.raises(KeyringError, match="still wraps"):
        ring.retire(1)
    assert ring.rotate() == 2  # resumes v2, does not start v3
    ring.retire(1)
    assert {d: ring.data_key(d, "acme") for d in keys} == keys


def test_when_active_version_retired_then_refused(ring: LocalKeyring) -> None:
    with pytest.raises(KeyringError):
        ring.retire(1)


def test_when_usage_cap_reached_then_encryption_refused(ring: LocalKeyring) -> None:
    ring.ensure_data_key("d1", "acme")
    ring.record_encryptions("d1", "acme", MAX_ENCRYPTIONS_PER_KEY - 1)
    ring.record_encryptions("d1", "acme", 1)
    with pytest.raises(KeyUsageExceeded):
        ring.record_encryptions("d1", "acme", 1)


def test_when_master_key_is_a_canary_then_it_never_shows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    master = b"CANARYKEY-0123456789abcdef-XYZ!!"
    ring = LocalKeyring(tmp_path / "keys", master_key=master)
    key = ring.ensure_data_key("d1", "acme")
    ring.rotate()
    shown = repr(ring) + str(ring.status()) + caplog.text
    for secret in (master, key):
        assert secret.hex() not in shown
        assert base64.b64encode(secret).decode() not in shown
    assert "CANARYKEY" not in shown
    try:
        LocalKeyring(tmp_path / "keys", master_key=os.urandom(32))
    except KeyringError as exc:
        assert "CANARYKEY" not in str(exc)


# -- retirement: a retired version opens nothing --------------------------------

def _db(folder: Path) -> sqlite3.Connection:
    return sqlite3.connect(folder / "keyring.db", isolation_level=None)


def _files_hold(folder: Path, needle: bytes) -> list[str]:
    return [f.name for f in folder.iterdir() if needle in f.read_bytes()]


def test_when_version_retired_then_its_kek_is_gone_everywhere(tmp_path: Path) -> None:
    master, folder = os.urandom(32), tmp_path / "keys"
    ring = LocalKeyring(folder, master_key=master)
    ring.ensure_data_key("d1", "acme")
    with contextlib.closing(_db(folder)) as db:
        wrapped_v1 = db.execute("SELECT wrapped FROM keks WHERE version = 1").fetchone()[0]
    ring.rotate()
    ring.retire(1)
    with pytest.raises(KeyringError, match="retired"):
        ring._kek(1)
    with pytest.raises(KeyringError, match="retired"):  # a fresh process, no cache
        LocalKeyring(folder, master_key=master)._kek(1)
    with contextlib.closing(_db(folder)) as db:
        assert db.execute("SELECT wrapped, state FROM keks WHERE version = 1").fetchone() == (
            None, "retired")
    assert _files_hold(folder, wrapped_v1) == []  # no copy left in the db or its WAL


def test_when_old_wrapped_data_key_restored_after_retire_then_it_opens_nothing(
    tmp_path: Path,
) -> None:
    # An erased document's row, put back from an old copy of the table after
    # its KEK version was retired: neither under its own version nor
    # relabelled as the active one does it yield the data key.
    folder = tmp_path / "keys"
    ring = LocalKeyring(folder)
    ring.ensure_data_key("victim", "acme")
    with contextlib.closing(_db(folder)) as db:
        row = db.execute(
            "SELECT doc_id, tenant, kek_version, wrapped, encryptions, created FROM data_keys"
        ).fetchone()
    assert row[2] == 1
    ring.rotate()
    assert ring.destroy_data_key("victim", "acme")
    ring.retire(1)
    assert _files_hold(folder, row[3]) == []
    for version in (1, 2):
        with contextlib.closing(_db(folder)) as db:
            db.execute("DELETE FROM data_keys")
            db.execute("INSERT INTO data_keys VALUES (?, ?, ?, ?, ?, ?)",
                       (row[0], row[1], version, row[3], row[4], row[5]))
        with pytest.raises(KeyringError) as info:
            ring.data_key("victim", "acme")
        assert not isinstance(info.value, DataKeyNotFound)


def test_when_another_process_retires_a_version_then_this_one_stops_using_it_at_once(
    tmp_path: Path,
) -> None:
    # The server's keyring has v1 cached; `ragseal keys rotate` and `keys retire 1`
    # run in another process (a CLI beside it). A row wrapped under v1 put back
    # afterwards (an old copy of the table) must not open in the server either.
    master, folder = os.urandom(32), tmp_path / "keys"
    server = LocalKeyring(folder, master_key=master)
    key = server.ensure_data_key("victim", "acme")
    assert server.data_key("victim", "acme") == key  # v1 unwrapped and cached here
    with contextlib.closing(_db(folder)) as db:
        row = db.execute(
            "SELECT doc_id, tenant, kek_version, wrapped, encryptions, created FROM data_keys"
        ).fetchone()
    cli = LocalKeyring(folder, master_key=master)
    cli.rotate()
    cli.retire(1)
    cli.close()
    assert server.data_key("victim", "acme") == key  # rewrapped under v2: still served
    with contextlib.closing(_db(folder)) as db:
        db.execute("INSERT OR REPLACE INTO data_keys VALUES (?, ?, ?, ?, ?, ?)", row)
    with pytest.raises(KeyringError, match="retired") as info:
        server.data_key("victim", "acme")
    assert not isinstance(info.value, DataKeyNotFound)


def test_when_retired_version_still_listed_then_rotation_never_uses_it(
    ring: LocalKeyring,
) -> None:
    ring.ensure_data_key("d1", "acme")
    ring.rotate()
    ring.retire(1)
    assert ring.rotate() == 3
    assert ring.status().versions == {1: "retired", 2: "decrypt-only", 3: "active"}
    ring.retire(2)
    assert ring.status().data_keys_per_version == {3: 1}


# -- no key material in reprs, statuses, logs or errors ------------------------

CANARY_MASTER = b"CANARY-MASTER-KEY-0123456789abcd"
CANARY_OTHER = b"CANARY-OTHER-KEY-ffffffffffffffff"[:32]


def _forms(secret: bytes) -> list[str]:
    """Ways a key could leak into text."""
    forms = [secret.hex(), secret.hex().upper(), base64.b64encode(secret).decode(),
             base64.urlsafe_b64encode(secret).decode(), repr(secret)[2:-1]]
    if secret.isascii():
        forms.append(secret.decode())
    return [f for f in forms if len(f) >= 16]


def _exception_text(exc: BaseException) -> str:
    chained = [exc.__context__, exc.__cause__]
    return "\n".join(
        [str(exc), repr(exc), *traceback.format_exception_only(exc)]
        + [repr(c) + str(c) for c in chained if c is not None]
    )


def _raised(fn: Callable[[], object]) -> str:
    try:
        fn()
    except KeyringError as exc:
        return _exception_text(exc)
    pytest.fail(f"{fn} did not raise KeyringError")


def test_when_master_key_is_a_canary_then_no_operation_or_failure_shows_key_material(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    folder = tmp_path / "keys"
    ring = LocalKeyring(folder, master_key=CANARY_MASTER)
    shown: list[str] = [repr(ring), str(ring)]
    keys = [ring.ensure_data_key(d, "acme") for d in ("d1", "d2")]
    keys.append(ring.secret("ids"))
    ring.record_encryptions("d1", "acme", 3)
    ring.rotate()
    ring.retire(1)
    keys += list(ring._keks.values())  # the KEKs themselves
    ring.check()
    ring.destroy_data_key("d2", "acme")
    shown += [repr(ring), str(ring), repr(ring.status()), str(ring.status())]

    # failures, each through its own message
    ring.ensure_data_key("capped", "acme")
    ring.record_encryptions("capped", "acme", MAX_ENCRYPTIONS_PER_KEY)
    shown += [
        _raised(lambda: ring.data_key("d2", "acme")),  # erased
        _raised(lambda: ring.data_key("never", "acme")),
        _raised(lambda: ring.record_encryptions("never", "acme", 1)),
        _raised(lambda: ring.record_encryptions("capped", "acme", 1)),
        _raised(lambda: ring.retire(2)),  # the active version
        _raised(lambda: ring._kek(1)),  # retired
        _raised(lambda: ring._kek(99)),  # missing
        _raised(lambda: LocalKeyring(folder, master_key=CANARY_OTHER)),  # wrong master
        _raised(lambda: LocalKeyring(folder, master_key=CANARY_MASTER[:31])),  # bad length
        _raised(lambda: _decode_master(base64.b64encode(CANARY_MASTER[:31]).decode())),
        _raised(lambda: _decode_master(CANARY_MASTER.decode() + "!")),  # not base64
    ]
    with contextlib.closing(_db(folder)) as db:  # a wrapped data key damaged at rest
        db.execute("UPDATE data_keys SET wrapped = zeroblob(60) WHERE doc_id = 'd1'")
    shown.append(_raised(lambda: ring.data_key("d1", "acme")))

    # a master.key file that is group-readable, or not base64, or too short
    for name, content, mode in (
        ("perm", base64.b64encode(CANARY_MASTER).decode(), 0o640),
        ("garbage", CANARY_MASTER.decode(), 0o600),
        ("short", base64.b64encode(CANARY_MASTER[:31]).decode(), 0o600),
    ):
        (tmp_path / name).mkdir()
        path = tmp_path / name / "master.key"
        path.write_text(content + "\n", "ascii")
        os.chmod(path, mode)
        shown.append(_raised(lambda n=name: LocalKeyring(tmp_path / n)))  # type: ignore[misc]

    shown.append(caplog.text)
    shown += [repr(vars(r)) for r in caplog.records]  # structured extras too
    text = "\n".join(shown)
    assert "CANARY" not in text
    for secret in [CANARY_MASTER, CANARY_OTHER, *keys]:
        for form in _forms(secret):
            assert form not in text


def test_when_status_taken_then_it_holds_no_bytes_anywhere(ring: LocalKeyring) -> None:
    ring.ensure_data_key("d1", "acme")
    ring.secret("ids")
    ring.rotate()

    def walk(value: object) -> Iterator[object]:
        yield value
        if isinstance(value, dict):
            for k, v in value.items():
                yield from walk(k)
                yield from walk(v)
        elif isinstance(value, list | tuple | set):
            for v in value:
                yield from walk(v)

    status = ring.status()
    values = [getattr(status, f.name) for f in dataclasses.fields(status)]
    leaves = [v for top in values for v in walk(top)]
    assert not any(isinstance(v, bytes | bytearray | memoryview) for v in leaves)
    assert all(isinstance(v, int | str | dict) for v in leaves)


# -- usage counters --------------------------------------------------------------

def test_when_chunks_sealed_and_recorded_then_counters_rise_by_the_chunk_count(
    tmp_path: Path,
) -> None:
    master, folder = os.urandom(32), tmp_path / "keys"
    ring = LocalKeyring(folder, master_key=master)
    sizes = {"d1": 7, "d2": 3}
    for doc, n in sizes.items():
        key = ring.ensure_data_key(doc, "acme")
        before = ring.status().encryptions
        blobs = [seal_chunk(key, Labels("acme", doc, f"c{i}", "internal", (), ()), b"x")
                 for i in range(n)]
        ring.record_encryptions(doc, "acme", len(blobs))  # as ingest does, once per document
        assert ring.status().encryptions == before + n
    status = ring.status()
    assert (status.encryptions, status.max_encryptions_one_key) == (10, 7)

    ring.record_encryptions("d2", "acme", 5)  # re-ingest: same key, counter keeps rising
    ring.rotate()  # re-wrapping must not reset counters (the cap would reopen)
    reopened = LocalKeyring(folder, master_key=master)
    assert (reopened.status().encryptions, reopened.status().max_encryptions_one_key) == (15, 8)
    reopened.destroy_data_key("d1", "acme")
    assert reopened.status().encryptions == 8


def test_when_usage_cap_reached_then_it_still_holds_after_rotation(ring: LocalKeyring) -> None:
    ring.ensure_data_key("d1", "acme")
    ring.record_encryptions("d1", "acme", MAX_ENCRYPTIONS_PER_KEY)
    ring.rotate()
    with pytest.raises(KeyUsageExceeded):
        ring.record_encryptions("d1", "acme", 1)


# -- defects found in review, fixed; kept as regressions --

def test_when_negative_count_recorded_then_refused(ring: LocalKeyring) -> None:
    ring.ensure_data_key("d1", "acme")
    ring.record_encryptions("d1", "acme", MAX_ENCRYPTIONS_PER_KEY)
    with pytest.raises((ValueError, KeyringError)):
        ring.record_encryptions("d1", "acme", -MAX_ENCRYPTIONS_PER_KEY)
    ring.record_encryptions("d1", "acme", 0)
    assert ring.status().encryptions == MAX_ENCRYPTIONS_PER_KEY


def test_when_a_wrapped_key_is_damaged_then_rotate_raises_keyring_error(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "keys"
    ring = LocalKeyring(folder)
    ring.ensure_data_key("d1", "acme")
    with contextlib.closing(_db(folder)) as db:
        db.execute("UPDATE data_keys SET wrapped = zeroblob(60)")
    with pytest.raises(KeyringError):
        ring.rotate()


def test_when_another_reader_is_open_then_destroy_still_removes_the_wrapped_key(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "keys"
    ring = LocalKeyring(folder)
    ring.ensure_data_key("victim", "acme")
    ring.ensure_data_key("other", "acme")
    # The checkpoint waits out busy_timeout (30 s) before giving up; keep the test quick.
    ring._db.execute("PRAGMA busy_timeout=200")
    with contextlib.closing(_db(folder)) as reader:
        wrapped = reader.execute(
            "SELECT wrapped FROM data_keys WHERE doc_id = 'victim'").fetchone()[0]
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM data_keys").fetchone()  # a replica mid-read
        try:
            destroyed = ring.destroy_data_key("victim", "acme")
        except KeyringError:
            destroyed = False  # refused while a reader holds the file: nothing claimed
        left = _files_hold(folder, wrapped)
        reader.execute("COMMIT")
    # Either refuse (destroyed is False / raises) or really erase; not both "True" and kept.
    assert not (destroyed and left)
