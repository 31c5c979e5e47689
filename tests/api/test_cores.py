"""``ragseal serve``'s start order and the core pool's error mapping (api/_cores.py).

The pool itself, with real workers, runs in tests/e2e/test_cores_e2e.py (slow).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ragseal.api._container import Services
from ragseal.api._cores import CorePool, _unwrap, available_cores, start_serving
from ragseal.api._errors import ApiError
from ragseal.api._settings import ConfigError, Settings
from ragseal.retrieval import RetrievalIdError
from ragseal.store import KeyringError, StoreError
from ragseal.store import RemoteStore, open_store, socket_path

SECRET = "cores-test-secret-" + "c" * 40


def test_when_the_server_starts_then_cli_commands_reach_the_store_before_the_models_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 15: a command started during the server's warm-up works through it."""
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET)
    services = Services(settings)
    seen: list[object] = []

    def warm_up(self: Services) -> None:
        assert "classifier" not in self.__dict__  # no model loaded yet
        store = open_store(data_dir=tmp_path, qdrant_url=None, qdrant_api_key=None,
                           collection=settings.collection, beside_owner=True)  # as a CLI does
        seen.append(type(store))
        seen.append(store.count())
        store.close()
        raise KeyringError("stop the start here")

    monkeypatch.setattr(Services, "warm_up", warm_up)
    try:
        with pytest.raises(KeyringError):
            start_serving(services, 1)
    finally:
        services.close()
    assert seen == [RemoteStore, 0]
    assert not socket_path(tmp_path, settings.collection).exists()  # closed on the failure


@pytest.mark.parametrize(("kind", "raised"), [
    ("retrieval_id", RetrievalIdError), ("keys", KeyringError), ("store", StoreError),
    ("policy_unavailable", ApiError), ("failed", RuntimeError),
])
def test_when_a_worker_reports_an_error_then_the_server_raises_its_kind(
    kind: str, raised: type[Exception],
) -> None:
    with pytest.raises(raised) as info:
        _unwrap(kind, "ValueError")  # type: ignore[arg-type]
    if isinstance(info.value, ApiError):
        assert info.value.status == 503


def test_when_a_worker_answers_then_the_value_comes_back() -> None:
    assert _unwrap("ok", {"x": 1}) == {"x": 1}


def test_when_workers_is_out_of_range_then_settings_refuse_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RAGSEAL_WORKERS"):
        Settings(data_dir=tmp_path, workers=0)
    with pytest.raises(ValueError, match="at least 2"):
        CorePool(Settings(data_dir=tmp_path), 1, remote_store=False)
    assert available_cores() >= 1
