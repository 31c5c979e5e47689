"""A run killed with SIGKILL at any checkpoint, then run again, converges.

Real pipeline (benchmarks/crash.py holds the harness): models load once,
each run is a forked child that opens the store and keyring itself and
SIGKILLs itself at its N-th durable write. After the rerun the store and
keyring must equal an uninterrupted run's: same point ids, payloads (but
the ciphertext), opened plaintexts and data keys. The benchmark runs more
than 100 kill points, double crashes included.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks import crash  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fork and SIGKILL")


Harness = tuple[crash.Models, list[crash.Scenario], Path]


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    models = crash.load_models()
    work = tmp_path_factory.mktemp("crash")
    yield models, crash.prepare(models, work), work


def _plan(scenarios: list[crash.Scenario]) -> list[tuple[str, int]]:
    fresh, update = scenarios
    # Every checkpoint of replacing a changed file (and sync-erasing a deleted
    # one) and of a first ingest, whose documents are written in one batch
    # (keys, one upsert, then a switch per document): >= 20 kill points in all,
    # several between two documents of the batch.
    points = [("update", n) for n in range(1, update.checkpoints + 1)]
    points += [("fresh", n) for n in range(1, fresh.checkpoints + 1)]
    return points


def test_when_ingest_is_killed_at_any_checkpoint_then_a_rerun_converges(
    harness: Harness,
) -> None:
    models, scenarios, work = harness
    by_name = {s.name: s for s in scenarios}
    assert by_name["fresh"].checkpoints >= 12 and by_name["update"].checkpoints >= 4
    plan = _plan(scenarios)
    assert len(plan) >= 20
    failures = []
    for name, n in plan:
        problem = crash.kill_and_resume(models, by_name[name], n, work)
        if problem is not None:
            failures.append(f"{name} killed at checkpoint {n}: {problem}")
    assert failures == []


def test_when_the_resumed_run_is_killed_too_then_a_third_run_converges(
    harness: Harness,
) -> None:
    models, scenarios, work = harness
    update = {s.name: s for s in scenarios}["update"]
    assert crash.kill_and_resume(models, update, 3, work, again_at=1) is None


def test_when_nothing_changed_then_a_rerun_writes_nothing(
    harness: Harness,
) -> None:
    models, scenarios, work = harness
    update = {s.name: s for s in scenarios}["update"]
    state = work / "unchanged"
    import shutil

    shutil.copytree(update.start, state)
    _, writes = crash.run_forked(models, state, {s.name: s for s in scenarios}["fresh"].corpus,
                                 None)
    assert writes == 0
    assert crash.snapshot(state) == {s.name: s for s in scenarios}["fresh"].expected
