"""Issue 14, items 9 and 11: a damaged keyring fails closed, and refusals to start are
one line (exit 2), never a traceback.

The red team overwrote ``keyring.db`` under a running server: requests that
opened a key answered bare 500s while ``/healthz`` said ok. Here the real
:class:`LocalKeyring` is damaged the same way under a running app.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ragseal.api._app import create_app
from ragseal.api._settings import Settings
from ragseal.api.cli import main
from ragseal.store import KeyringError, LocalKeyring

from tests.security.test_limits import INGESTOR, SECRET, StubServices, assert_error, bearer


def damage(db: Path) -> None:
    """Overwrite the file in place (same inode, same size), as a bad disk or a bad
    restore would."""
    size = db.stat().st_size
    with db.open("r+b") as fh:
        fh.write(os.urandom(size))


class _Store:
    def count(self) -> int:
        return 0


@dataclass
class KeyedServices(StubServices):
    keys: LocalKeyring | None = None
    store: _Store = field(default_factory=_Store)

    def erase(self, tenant: str, doc_id: str) -> bool:
        assert self.keys is not None
        return self.keys.destroy_data_key(doc_id, tenant)


@pytest.fixture
def keyring(tmp_path: Path) -> Iterator[LocalKeyring]:
    ring = LocalKeyring(tmp_path / "keys")
    ring.ensure_data_key("doc-1", "acme")
    ring.secret("ids")
    yield ring
    ring.close()


def test_when_keyring_file_damaged_under_running_app_then_health_503_and_requests_503(
    keyring: LocalKeyring, tmp_path: Path
) -> None:
    services = KeyedServices(keys=keyring)
    app = create_app(Settings(jwt_secret=SECRET), services)  # type: ignore[arg-type]
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        damage(tmp_path / "keys" / "keyring.db")
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["checks"]["keys"] == "failed"
        r = client.delete("/v1/documents/doc-1", headers=bearer(**INGESTOR))
        assert_error(r, 503, "keys_unavailable")


def test_when_keyring_damaged_then_check_and_every_read_raise_keyring_error(
    keyring: LocalKeyring, tmp_path: Path
) -> None:
    keyring.check()
    damage(tmp_path / "keys" / "keyring.db")
    with pytest.raises(KeyringError, match="damaged"):
        keyring.check()
    with pytest.raises(KeyringError):
        keyring.data_key("doc-1", "acme")


def test_when_keyring_damaged_before_start_then_open_refused_with_keyring_error(
    keyring: LocalKeyring, tmp_path: Path
) -> None:
    keyring.close()
    damage(tmp_path / "keys" / "keyring.db")
    with pytest.raises(KeyringError, match="damaged"):
        LocalKeyring(tmp_path / "keys")


# --- refusals to start: one line on stderr, exit 2 ---------------------------------


def _serve(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
           **env: str) -> tuple[int, str]:
    monkeypatch.setenv("RAGSEAL_JWT_SECRET", SECRET)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["serve", "--port", "1"])
    err = capsys.readouterr().err
    return code, err


def _assert_one_line(err: str) -> None:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_when_keyring_damaged_then_serve_refuses_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ring = LocalKeyring(tmp_path / "data" / "keys")
    ring.close()
    damage(tmp_path / "data" / "keys" / "keyring.db")
    code, err = _serve(monkeypatch, capsys, RAGSEAL_DATA_DIR=str(tmp_path / "data"))
    assert code == 2
    _assert_one_line(err)
    assert "keyring" in err and "damaged" in err


def test_when_master_key_does_not_open_keyring_then_serve_refuses_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    LocalKeyring(tmp_path / "data" / "keys").close()
    wrong = base64.b64encode(os.urandom(32)).decode()
    code, err = _serve(monkeypatch, capsys, RAGSEAL_DATA_DIR=str(tmp_path / "data"),
                       RAGSEAL_MASTER_KEY=wrong)
    assert code == 2
    _assert_one_line(err)
    assert "master key" in err and wrong not in err


@pytest.mark.parametrize("env", [
    {"RAGSEAL_MAX_BODY_BYTES": "lots"},
    {"RAGSEAL_MASTER_KEY": "not-base64!"},
    {"RAGSEAL_POLICY": "/nonexistent/policy.yaml"},
])
def test_when_configuration_damaged_then_serve_refuses_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, Any]
) -> None:
    code, err = _serve(monkeypatch, capsys, **env)
    assert code == 2
    _assert_one_line(err)
