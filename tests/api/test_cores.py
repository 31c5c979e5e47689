"""``ragseal serve``'s start order and the core pool's error mapping (api/_cores.py).

The pool itself, with real workers, runs in tests/e2e/test_cores_e2e.py (slow).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from ragseal.api._container import Services
from ragseal.api._cores import CorePool, _unwrap, available_cores, start_serving
from ragseal.api._errors import ApiError
from ragseal.api._settings import ConfigError, Settings
from ragseal.retrieval import Principal, RetrievalIdError
from ragseal.store import KeyringError, RemoteStore, StoreError, open_store, socket_path

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


def _orphan_parent(queue: multiprocessing.Queue[int]) -> None:
    """A stand-in server: starts one watched worker, reports its pid, then waits."""
    child = multiprocessing.get_context("spawn").Process(target=_watched_worker)
    child.start()
    queue.put(child.pid or 0)
    time.sleep(60)


def _watched_worker() -> None:
    from ragseal.api._cores import exit_with_parent

    exit_with_parent(interval=0.1)
    time.sleep(60)


def test_when_the_server_is_killed_then_its_workers_exit() -> None:
    """A SIGKILLed server leaves no worker behind (they hold models and keys)."""
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[int] = ctx.Queue()
    server = ctx.Process(target=_orphan_parent, args=(queue,))
    server.start()
    worker = queue.get(timeout=60)
    os.kill(server.pid or 0, signal.SIGKILL)
    server.join(10)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived its server")


# -- the pool's own life, with stand-in workers (no models) ---------------------------


def _stand_in_worker(conn: Any, settings: Any, remote: bool, level: int) -> None:
    """Says ready, then echoes each task's query; the query "die" kills the process."""
    conn.send(("ready", os.getpid()))
    while True:
        try:
            task, args = conn.recv()
        except EOFError:
            return
        if args[1] == "die":
            os._exit(3)
        conn.send(("ok", (task, args[1], os.getpid())))


def _never_ready(conn: Any, settings: Any, remote: bool, level: int) -> None:
    raise SystemExit(1)  # as a worker whose models fail to load


def _stand_in_pool(tmp_path: Path, target: Any) -> CorePool:
    pool = CorePool(Settings(data_dir=tmp_path, jwt_secret=SECRET), 2, remote_store=False)
    pool._target = target
    return pool


WHO = Principal(sub="s@acme.example", tenant="acme", groups=("g",), roles=("employee",))


def test_when_a_worker_dies_mid_request_then_that_request_is_503_and_the_pool_serves_on(
    tmp_path: Path,
) -> None:
    pool = _stand_in_pool(tmp_path, _stand_in_worker)
    pool.start()
    try:
        answers = {pool.retrieve(WHO, f"q{i}", 5, pseudonymize=False, version=0)
                   for i in range(4)}
        assert {a[1] for a in answers} == {"q0", "q1", "q2", "q3"}  # type: ignore[index]
        pids = {a[2] for a in answers}  # type: ignore[index]
        with pytest.raises(ApiError) as info:
            pool.retrieve(WHO, "die", 5, pseudonymize=False, version=0)
        assert info.value.status == 503 and info.value.code == "worker_unavailable"
        # The other worker answers at once; a replacement joins in the background.
        after = pool.inspect(WHO, "after", None, version=0)
        assert after[:2] == ("inspect", "after")  # type: ignore[index]
        deadline = time.monotonic() + 60
        while len(pool._running) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(pool._running) == 2
        later = {pool.retrieve(WHO, f"r{i}", 5, pseudonymize=False,
                               version=0)[2] for i in range(20)}  # type: ignore[index]
        assert later - pids  # the replacement serves too
        workers = list(pool._running)
    finally:
        pool.close()
    assert workers and not any(w.process.is_alive() for w in workers)  # close stops them
    with pytest.raises(ApiError) as info:
        pool.retrieve(WHO, "q", 5, pseudonymize=False, version=0)
    assert info.value.status == 503


def test_when_a_worker_cannot_start_then_the_pool_does_not_start(tmp_path: Path) -> None:
    pool = _stand_in_pool(tmp_path, _never_ready)
    with pytest.raises(StoreError, match="could not start"):
        pool.start()
    assert not pool._running
