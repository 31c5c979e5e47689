"""Ingest throughput on the Dask engine vs the process pool, on this machine.

Both sides run the real CLI in a subprocess on the same folder of SciFact
abstracts (one ``.txt`` per abstract, one manifest), each into a fresh data
dir holding the same installation secrets:

- **pool**: ``ragseal ingest DIR --manifest M --workers W`` (parse and
  classify in W spawned processes; mask, chunk, embed, seal and write in the
  driver);
- **engine**: ``ragseal ingest DIR --manifest M --engine dask --workers W``
  (a local mutual-TLS Dask cluster of W worker processes: parse, classify,
  mask, chunk, embed and seal there; writes in the driver).

The sides alternate ``--repeat`` times. Printed per run: wall seconds of
the whole command (start-up and model loading included), documents and
chunks per second, peak RSS of the command's process tree (sampled every
0.2 s with psutil), and the load average before and after. Then what the
engine costs by itself: starting and stopping a local cluster with no
document (``start_engine``), and pickling the sealed points of one
document (what crosses back per document).

    nice -n 5 .venv/bin/python benchmarks/engine.py --limit 600 --workers 2 --repeat 3
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragseal.classification import ensure_offline  # noqa: E402

ensure_offline()

SCIFACT = Path("/work/shared/data/beir-scifact")
MASTER_KEY = bytes(range(32))
MANIFEST = "defaults: {tenant: acme, groups: [researchers], level: internal}\n"


def write_corpus(folder: Path, limit: int) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            text = f"{d['title']}\n\n{d['text']}".strip()
            if not text:
                continue
            (folder / f"{d['_id']}.txt").write_text(text + "\n", encoding="utf-8")
            n += 1
            if n >= limit:
                break
    (folder / "acl.yaml").write_text(MANIFEST, encoding="utf-8")
    return n


def fresh_data_dir(template: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(template, target)
    return target


def make_template(folder: Path) -> Path:
    from ragseal.store import LocalKeyring

    ring = LocalKeyring(folder / "keys", MASTER_KEY)
    for purpose in ("ids", "pseudonyms", "fingerprints"):
        ring.secret(purpose)
    ring.close()
    return folder


def tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def run_side(side: str, corpus: Path, data: Path, workers: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGSEAL_")}
    env.update(RAGSEAL_DATA_DIR=str(data),
               RAGSEAL_MASTER_KEY=base64.b64encode(MASTER_KEY).decode())
    argv = [sys.executable, "-c", "from ragseal.api.cli import main; raise SystemExit(main())",
            "ingest", str(corpus), "--manifest", str(corpus / "acl.yaml"), "--json",
            "--workers", str(workers)]
    if side == "engine":
        argv += ["--engine", "dask"]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,  # noqa: S603 - our own CLI
                            stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.2)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{side} failed ({proc.returncode}): {err[-800:]}")
    report = json.loads(out)
    return {"wall": wall, "seconds": float(report["seconds"]), "docs": report["written"],
            "chunks": report["chunks_written"], "peak_mb": peak / 2**20,
            "load_before": load_before, "load_after": os.getloadavg()[0]}


def engine_costs(workers: int) -> dict[str, float]:
    """A local cluster's start and stop with no document, and one document's
    sealed points through pickle (what crosses back per document)."""
    from ragseal.classification import default_policy
    from ragseal.classification import Pseudonymizer
    from ragseal.ingest import EngineConfig, start_engine
    from ragseal.ingest import Built, DocumentWork
    from ragseal.store import IdHasher, Point

    work = DocumentWork(policy=default_policy(), classifier=None, chunker=None,  # type: ignore[arg-type]
                        embedder=None, ids=IdHasher(b"i" * 32),  # type: ignore[arg-type]
                        pseudonyms=Pseudonymizer(b"p" * 32))
    started = time.perf_counter()
    with start_engine(EngineConfig(workers=workers), work.spec()):
        up = time.perf_counter() - started
    total = time.perf_counter() - started
    # A SciFact abstract is ~1.5 chunks; 2 points of ~1 kB sealed payload each.
    payload = {"tenant": "acme", "doc_id": "d" * 32, "chunk_id": "c" * 36, "version": "v" * 16,
               "level": 1, "groups": ["researchers"], "users": [], "tags": ["t" * 24] * 3,
               "injection_score": 0.0, "injection_signals": [], "quarantined": 0,
               "policy_version": 0, "sealed": "s" * 1400}
    built = Built(tuple(Point(id=f"{i}", vector=[0.1] * 384, payload=payload) for i in range(2)),
                  1, 0, 0, {})
    t = time.perf_counter()
    for _ in range(200):
        blob = pickle.dumps(built, protocol=5)
        pickle.loads(blob)  # noqa: S301 - our own bytes
    per_doc_ms = (time.perf_counter() - t) / 200 * 1000
    return {"cluster_up_s": up, "cluster_up_down_s": total, "points_bytes": len(blob),
            "pickle_ms": per_doc_ms}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=600, help="SciFact abstracts (<= 600 here)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    results: dict[str, list[dict[str, float]]] = {"pool": [], "engine": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        n = write_corpus(work / "corpus", args.limit)
        template = make_template(work / "template")
        print(f"{n} abstracts, {args.workers} workers, cores {os.cpu_count()}")  # noqa: T201
        for i in range(args.repeat):
            for side in ("pool", "engine"):
                r = run_side(side, work / "corpus", fresh_data_dir(template, work / f"{side}{i}"),
                             args.workers)
                results[side].append(r)
                print(f"{side:6} run {i + 1}: wall {r['wall']:.1f}s (ingest {r['seconds']:.1f}s), "  # noqa: T201
                      f"{r['docs'] / r['wall']:.2f} docs/s, {r['chunks'] / r['wall']:.2f} "
                      f"chunks/s, peak RSS {r['peak_mb']:.0f} MB, "
                      f"load {r['load_before']:.2f} -> {r['load_after']:.2f}")
        for side, rs in results.items():
            walls = [r["wall"] for r in rs]
            print(f"{side:6} median wall {statistics.median(walls):.1f}s "  # noqa: T201
                  f"({min(walls):.1f}-{max(walls):.1f}), median peak RSS "
                  f"{statistics.median(r['peak_mb'] for r in rs):.0f} MB")
        costs = engine_costs(args.workers)
        print(f"engine alone: local cluster up {costs['cluster_up_s']:.1f}s, up+down "  # noqa: T201
              f"{costs['cluster_up_down_s']:.1f}s (no model: workers load theirs on the first "
              f"document); one abstract's sealed points pickled {costs['points_bytes']} B, "
              f"dumps+loads {costs['pickle_ms']:.2f} ms; load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
