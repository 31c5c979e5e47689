"""Ingest beside a running owner, killed mid-run: a rerun still converges.

A CLI command beside ``ragseal serve`` writes through the server's socket
(store/_owner.py). Here the owner is a forked process holding the Edge store
and serving it exactly as the server does (the same StoreOwner); the ingest
is a forked child using RemoteStore, as the CLI does. At checkpoint N either
the ingest child (the CLI) or the owner (the server) is SIGKILLed; the batch
is then run again (through a new owner, or directly when none runs) and the
store and keyring must equal an uninterrupted run's (benchmarks/crash.py's
snapshot: point ids, payloads but the ciphertext, opened plaintexts, keys).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import crash  # noqa: E402

pytestmark = [pytest.mark.skipif(sys.platform != "linux", reason="fork and SIGKILL"),
              pytest.mark.slow]

Harness = tuple[crash.Models, dict[str, crash.Scenario], Path]


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    models = crash.load_models()
    work = tmp_path_factory.mktemp("crash-beside")
    yield models, {s.name: s for s in crash.prepare(models, work)}, work


def start_owner(state: Path) -> tuple[int, Path]:
    """Fork a process that owns ``state/store`` and serves it; returns (pid, socket)."""
    sock = state / "run" / "owner.sock"
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the store's owner, until SIGTERM (or SIGKILL)
        os.close(ready_r)
        code = 0
        try:
            from ragseal.store import EdgeStore, StoreOwner

            stop = [False]
            signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
            store = EdgeStore(state / "store")
            owner = StoreOwner(store, sock, collection=crash.OWNER_COLLECTION, dim=384)
            os.write(ready_w, b"ready")
            while not stop[0]:
                time.sleep(0.02)
            owner.close()
            store.close()
        except BaseException:  # noqa: BLE001 - reported through the exit code
            import traceback

            traceback.print_exc()
            code = 3
        finally:
            os._exit(code)
    os.close(ready_w)
    with os.fdopen(ready_r, "rb") as pipe:
        if pipe.read(5) != b"ready":
            os.waitpid(pid, 0)
            raise RuntimeError("the owner did not start")
    return pid, sock


def stop_owner(pid: int) -> None:
    os.kill(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def ingest_beside(models: crash.Models, state: Path, corpus: Path, sock: Path,
                  crash_at: int | None, kill_pid: int | None) -> str:
    """Ingest through ``sock`` in a child. At checkpoint ``crash_at`` SIGKILL
    ``kill_pid`` (the owner) or, when None, the child itself (the CLI).

    Returns "done", "killed" (the child died by SIGKILL) or "failed" (it
    exited with an error: the owner went away under it)."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            seen = [0]

            def checkpoint(_name: str) -> None:
                seen[0] += 1
                if seen[0] == crash_at:
                    os.kill(kill_pid if kill_pid is not None else os.getpid(), signal.SIGKILL)

            crash._run(models, state, corpus, checkpoint, beside=sock)
        except BaseException:  # noqa: BLE001 - the owner's death surfaces as StoreError
            code = 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return "killed"
    return "done" if os.WEXITSTATUS(status) == 0 else "failed"


def _fresh_state(scenario: crash.Scenario, work: Path, tag: str) -> Path:
    import shutil

    state = work / tag
    shutil.rmtree(state, ignore_errors=True)
    shutil.copytree(scenario.start, state)
    return state


@pytest.mark.parametrize(("scenario", "crash_at"), [("fresh", 3), ("fresh", 10), ("update", 2),
                                                    ("update", 5)])
def test_when_the_cli_is_killed_beside_the_server_then_a_rerun_converges(
    harness: Harness, scenario: str, crash_at: int,
) -> None:
    models, scenarios, work = harness
    sc = scenarios[scenario]
    state = _fresh_state(sc, work, f"cli-{scenario}-{crash_at}")
    owner, sock = start_owner(state)
    try:
        assert ingest_beside(models, state, sc.corpus, sock, crash_at, None) == "killed"
        assert ingest_beside(models, state, sc.corpus, sock, None, None) == "done"
    finally:
        stop_owner(owner)
    got = crash.snapshot(state)
    assert got == sc.expected, crash.describe_difference(got, sc.expected)


@pytest.mark.parametrize(("scenario", "crash_at", "rerun"),
                         [("fresh", 4, "beside"), ("fresh", 11, "alone"),
                          ("update", 3, "beside"), ("update", 4, "alone")])
def test_when_the_server_is_killed_under_a_cli_ingest_then_a_rerun_converges(
    harness: Harness, scenario: str, crash_at: int, rerun: str,
) -> None:
    """The CLI fails with one error when its owner dies; rerun through a
    restarted owner or directly (no server), the store converges."""
    models, scenarios, work = harness
    sc = scenarios[scenario]
    state = _fresh_state(sc, work, f"server-{scenario}-{crash_at}")
    owner, sock = start_owner(state)
    outcome = ingest_beside(models, state, sc.corpus, sock, crash_at, owner)
    _, status = os.waitpid(owner, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert outcome == "failed"
    if rerun == "beside":
        owner, sock = start_owner(state)  # a stale socket is replaced
        try:
            assert ingest_beside(models, state, sc.corpus, sock, None, None) == "done"
        finally:
            stop_owner(owner)
    else:
        crash.run_forked(models, state, sc.corpus, None)
    got = crash.snapshot(state)
    assert got == sc.expected, crash.describe_difference(got, sc.expected)
