"""Local keyring: data keys, rotation, retirement, erasure, file permissions."""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path

import pytest

from store import (
    MAX_ENCRYPTIONS_PER_KEY,
    DataKeyNotFound,
    KeyringError,
    KeyUsageExceeded,
    LocalKeyring,
)


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
    import store._keyring as keyring_module

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
