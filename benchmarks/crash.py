"""Kill ``ingest_paths`` with SIGKILL at every checkpoint; check that a rerun converges.

A checkpoint is each durable write of the pipeline (keyring write, upsert,
version switch, delete; ``Ingestor(checkpoint=...)``). For each kill point
N, a forked child runs the real pipeline (unstructured, Presidio, MiniLM,
AES-GCM, Qdrant Edge on disk, SQLite keyring) and SIGKILLs itself at its
N-th checkpoint; another child then runs the same batch to completion. The
store and keyring must then equal those of an uninterrupted run: same point
ids, same payloads but ``sealed`` (random nonces), same opened plaintexts,
same set of data keys ``(tenant, doc_id, version, state)``.

Models load once in this process (one torch thread, so forking is safe);
each child opens the store and keyring itself, as a real run would.

Scenarios: ``fresh`` ingests a corpus into an empty store; ``update``
re-ingests it after one file changed and one was deleted (``sync=True``).

    .venv/bin/python benchmarks/crash.py [--points 120]
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ragseal.classification import ensure_offline  # noqa: E402

ensure_offline()

MASTER_KEY = bytes(range(32))
MANIFEST = (
    "defaults: {tenant: acme, groups: [all-staff], level: internal}\n"
    "rules:\n"
    "  - match: \"hr/**\"\n"
    "    groups: [hr]\n"
    "    level: confidential\n"
)
CORPUS = {
    "handbook.txt": "The office opens at 8:30. Visitors sign in at the front desk. "
                    "Badges are renewed every January by facilities.",
    "payroll.md": "# Payroll\n\nSalaries are paid on the 25th. Questions go to "
                  "payroll@acme.example or to Maria Gonzalez in finance.",
    "hr/review.txt": "Performance review for John Smith, employee EMP-123456. "
                     "His manager rated the year as strong; call 212-555-0143.",
    "hr/leave.txt": "Parental leave is sixteen weeks. Ask Priya Raman in HR for the form.",
    "ops/runbook.txt": "Restart the ingestion service with systemctl. "
                       "Check the disk before the nightly backup.\n\n"
                       "If the backup fails twice, page the on-call engineer. " * 6,
    "ops/contacts.txt": "Escalations: Li Wei (li.wei@acme.example), then the CTO.",
}
CHANGED = ("hr/leave.txt", "Parental leave is twenty weeks since 2026. Ask Priya Raman.")
DELETED = "ops/contacts.txt"
OWNER_COLLECTION = "crash"  # what an owner process of ``state / "store"`` serves


@dataclass
class Models:
    """What a run needs that is slow to build: loaded once, shared by forks."""

    policy: object
    classifier: object
    chunker: object
    embedder: object


def load_models() -> Models:
    import torch
    from ragseal.classification import Classifier, default_policy
    from ragseal.ingest import Chunker, Embedder

    # One intra-op thread: OpenMP pools do not survive fork().
    torch.set_num_threads(1)
    policy = default_policy()
    classifier = Classifier(policy)
    classifier.warm_up()
    embedder = Embedder()
    embedder.warm_up()
    embedder.embed(["warm up"])
    return Models(policy, classifier, Chunker(), embedder)


def write_corpus(folder: Path, *, updated: bool) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files = dict(CORPUS)
    if updated:
        files[CHANGED[0]] = CHANGED[1]
        del files[DELETED]
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "acl.yaml").write_text(MANIFEST, encoding="utf-8")
    return folder


def _run(models: Models, state: Path, corpus: Path, checkpoint: Callable[[str], None],
         *, beside: Path | None = None) -> None:
    """One ``ingest --sync`` of ``corpus`` into ``state`` (in this process);
    with ``beside`` (an owner's socket), through the process that owns the store."""
    from ragseal.classification import Pseudonymizer
    from ragseal.ingest import Ingestor, ingest_paths, load_manifest
    from ragseal.store import EdgeStore, IdHasher, LocalKeyring, RemoteStore, VectorStore

    keys = LocalKeyring(state / "keys", MASTER_KEY)
    store: VectorStore = (EdgeStore(state / "store") if beside is None
                          else RemoteStore(beside, OWNER_COLLECTION, 384))
    try:
        ingestor = Ingestor(
            policy=models.policy, classifier=models.classifier,  # type: ignore[arg-type]
            chunker=models.chunker, embedder=models.embedder,  # type: ignore[arg-type]
            store=store, keys=keys, ids=IdHasher(keys.secret("ids")),
            pseudonyms=Pseudonymizer(keys.secret("pseudonyms")), checkpoint=checkpoint,
        )
        manifest = corpus / "acl.yaml"
        ingest_paths(ingestor, [corpus], load_manifest(manifest), exclude=[manifest], sync=True)
    finally:
        store.close()
        keys.close()


def run_forked(models: Models, state: Path, corpus: Path, crash_at: int | None) -> tuple[bool, int]:
    """Run in a child; SIGKILL it at checkpoint ``crash_at``.

    Returns (killed, checkpoints reached).
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into the caller (pytest, argparse...)
        os.close(read)
        code = 0
        try:
            seen = [0]

            def checkpoint(_name: str) -> None:
                seen[0] += 1
                os.write(write, b".")
                if seen[0] == crash_at:
                    os.kill(os.getpid(), signal.SIGKILL)

            _run(models, state, corpus, checkpoint)
        except BaseException:  # noqa: BLE001 - reported through the exit code
            import traceback

            traceback.print_exc()
            code = 3
        finally:
            os._exit(code)
    os.close(write)
    reached = 0
    with os.fdopen(read, "rb") as pipe:
        while chunk := pipe.read(4096):
            reached += len(chunk)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return True, reached
    if os.WEXITSTATUS(status) != 0:
        raise RuntimeError(f"ingest child failed (exit {os.WEXITSTATUS(status)})")
    return False, reached


def snapshot(state: Path, store_path: Path | None = None) -> dict[str, object]:
    """The store and keyring, comparable across runs (no ciphertext, no key bytes).

    ``store_path``: the Edge store's folder when not ``state / "store"``
    (``data_dir / "store" / collection`` for a CLI data dir)."""
    from ragseal.classification import default_policy
    from ragseal.store import EdgeStore, Labels, LocalKeyring, SealedChunk, open_chunk

    policy = default_policy()

    keys = LocalKeyring(state / "keys", MASTER_KEY)
    store = EdgeStore(store_path or state / "store")
    try:
        points: dict[str, object] = {}
        for hit in store.scroll():
            p = dict(hit.payload)
            sealed = base64.b64decode(p.pop("sealed"))
            labels = Labels(
                tenant=p["tenant"], doc_id=p["doc_id"], chunk_id=p["chunk_id"],
                level=policy.level_name(p["level"]),
                groups=tuple(p["groups"]), users=tuple(p["users"]),
            )
            try:
                key = keys.data_key(p["doc_id"], p["tenant"], version=p.get("version"))
                chunk = SealedChunk.from_bytes(open_chunk(key, labels, sealed))
                opened: object = [chunk.text, [list(s) for s in chunk.spans], chunk.source]
            except Exception as exc:  # noqa: BLE001 - recorded, compared
                opened = f"UNOPENABLE {type(exc).__name__}"
            points[hit.id] = {"payload": p, "opened": opened}
        return {"points": points, "keys": keys.key_versions()}
    finally:
        store.close()
        keys.close()


def describe_difference(got: dict[str, object], want: dict[str, object]) -> str:
    gp, wp = got["points"], want["points"]
    assert isinstance(gp, dict) and isinstance(wp, dict)
    extra, missing = sorted(set(gp) - set(wp)), sorted(set(wp) - set(gp))
    changed = sorted(k for k in set(gp) & set(wp) if gp[k] != wp[k])
    return (f"extra points {len(extra)}, missing {len(missing)}, different {len(changed)}; "
            f"keys {got['keys']} != {want['keys']}" if got["keys"] != want["keys"] else
            f"extra points {len(extra)}, missing {len(missing)}, different {len(changed)}")


@dataclass
class Scenario:
    name: str
    start: Path  # state before the run (copied for each kill point)
    corpus: Path
    expected: dict[str, object]
    checkpoints: int


def prepare(models: Models, work: Path) -> list[Scenario]:
    """Reference runs: an empty keyring (fixed secrets), v1 ingested, v2 ingested."""
    empty = work / "empty"
    from ragseal.store import LocalKeyring

    ring = LocalKeyring(empty / "keys", MASTER_KEY)
    for purpose in ("ids", "pseudonyms"):  # the same ids and pseudonyms in every copy
        ring.secret(purpose)
    ring.close()
    v1, v2 = write_corpus(work / "v1", updated=False), write_corpus(work / "v2", updated=True)
    after_v1 = work / "after-v1"
    shutil.copytree(empty, after_v1)
    _, n1 = run_forked(models, after_v1, v1, None)
    after_v2 = work / "after-v2"
    shutil.copytree(after_v1, after_v2)
    _, n2 = run_forked(models, after_v2, v2, None)
    return [
        Scenario("fresh", empty, v1, snapshot(after_v1), n1),
        Scenario("update", after_v1, v2, snapshot(after_v2), n2),
    ]


def kill_and_resume(models: Models, scenario: Scenario, crash_at: int, work: Path,
                    again_at: int | None = None) -> str | None:
    """Kill at ``crash_at`` (and, if given, the rerun at ``again_at``), finish,
    compare; ``None`` when the store converged, else what differs."""
    state = work / f"{scenario.name}-{crash_at}-{again_at}"
    shutil.rmtree(state, ignore_errors=True)
    shutil.copytree(scenario.start, state)
    try:
        killed, _ = run_forked(models, state, scenario.corpus, crash_at)
        if not killed:
            return f"not killed at checkpoint {crash_at}"
        if again_at is not None:
            run_forked(models, state, scenario.corpus, again_at)
        run_forked(models, state, scenario.corpus, None)
        got = snapshot(state)
        return None if got == scenario.expected else describe_difference(got, scenario.expected)
    finally:
        shutil.rmtree(state, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=120, help="kill points to test")
    args = parser.parse_args(argv)
    import random

    started = time.perf_counter()
    models = load_models()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        scenarios = prepare(models, work)
        plan: list[tuple[Scenario, int, int | None]] = []
        for sc in scenarios:  # every single kill point first
            plan += [(sc, n, None) for n in range(1, sc.checkpoints + 1)]
        rng = random.Random(6)  # noqa: S311 - a reproducible plan, not a secret
        while len(plan) < args.points:  # then double crashes: the resumed run killed too
            sc = rng.choice(scenarios)
            plan.append((sc, rng.randint(1, sc.checkpoints), rng.randint(1, sc.checkpoints)))
        passed, failures = 0, []
        for sc, n, m in plan[: max(args.points, len(plan))]:
            problem = kill_and_resume(models, sc, n, work, m)
            if problem is None:
                passed += 1
            else:
                failures.append(f"{sc.name} kill at {n}" + (f" then {m}" if m else "")
                                + f": {problem}")
    for line in failures:
        print("FAIL", line)  # noqa: T201
    print("checkpoints per run: " + ", ".join(f"{s.name} {s.checkpoints}" for s in scenarios))  # noqa: T201
    print(f"kill points passed: {passed}/{len(plan)} in {time.perf_counter() - started:.0f}s")  # noqa: T201
    return 0 if not failures else 1


if __name__ == "__main__":
    raise SystemExit(main())
