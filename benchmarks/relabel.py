"""Apply a policy change to a stored corpus: ``relabel`` vs re-ingesting it.

The sample corpus is ingested ``--copies`` times (one tenant per copy) under
the bundled policy. Then the policy makes PERSON a gating entity at
*restricted* and the change is applied two ways, timed:

- ``relabel`` (no model: open, recompute, re-seal what changed);
- the baseline: ``ingest`` of the same files under the new policy (every
  version id changes with the policy, so every file is parsed, classified,
  embedded and written again).

Both must give every document the same chunk levels; the script checks it.
Also timed: a no-op relabel (the policy that ingested the store).

    .venv/bin/python benchmarks/relabel.py [--copies 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# First, ahead of this folder: benchmarks/ingest.py would shadow the ingest package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

from ragseal.classification import ensure_offline  # noqa: E402

ensure_offline()

from ragseal.api._container import Services  # noqa: E402
from ragseal.api._settings import Settings  # noqa: E402
from ragseal.classification import Policy, default_policy, parse_policy  # noqa: E402
from ragseal.ingest import (  # noqa: E402
    ingest_paths,  # noqa: E402
    load_manifest,
    relabel,
)

CORPUS = ROOT / "samples" / "corpus"


def gated_policy() -> Policy:
    data = default_policy().to_json()
    entities = data["entities"]
    assert isinstance(entities, dict)
    entities["PERSON"] = {**entities["PERSON"], "level": "restricted", "gate": True}
    return parse_policy(data)


def levels_by_doc(services: Services) -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = defaultdict(list)
    for hit in services.store.scroll():
        p = hit.payload
        out[(str(p["tenant"]), str(p["doc_id"]))].append(int(p["level"]))
    return {k: sorted(v) for k, v in out.items()}


def ingest_all(services: Services, copies: int) -> tuple[float, int]:
    manifest = load_manifest(CORPUS / "acl.yaml")
    started = time.perf_counter()
    chunks = 0
    for i in range(copies):
        report = ingest_paths(services.ingestor, [CORPUS], manifest, tenant=f"t{i}",
                              exclude=[CORPUS / "acl.yaml"], workers=1)
        chunks += report.chunks
    return time.perf_counter() - started, chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=5)
    args = parser.parse_args()
    gated = gated_policy()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), jwt_secret="b" * 40)
        first = Services(settings, policy=default_policy())
        models = {"embedder": first.embedder, "chunker": first.chunker}
        _ = first.classifier  # warm-up outside the timings
        seconds, chunks = ingest_all(first, args.copies)
        print(f"ingest: {args.copies} x sample corpus, {chunks} chunks, {seconds:.1f} s")

        started = time.perf_counter()
        noop = relabel(policy=first.policy, store=first.store, keys=first.keys, ids=first.ids)
        t_noop = time.perf_counter() - started
        print(f"relabel, same policy: {noop.scanned} chunks, {noop.relabeled} written, "
              f"{t_noop:.3f} s")

        started = time.perf_counter()
        done = relabel(policy=gated, store=first.store, keys=first.keys, ids=first.ids)
        t_relabel = time.perf_counter() - started
        moved = ", ".join(f"{b}->{a}: {n}" for (b, a), n in sorted(done.transitions.items()))
        print(f"relabel, PERSON gating: {done.relabeled} of {done.scanned} chunks rewritten "
              f"({moved}), {len(done.errors)} errors, {t_relabel:.3f} s")
        relabelled = levels_by_doc(first)
        first.close()

        second = Services(settings, policy=gated)
        second.__dict__.update(models)
        _ = second.classifier
        t_reingest, rechunks = ingest_all(second, args.copies)
        print(f"baseline, re-ingest under the new policy: {rechunks} chunks, {t_reingest:.1f} s")
        agree = levels_by_doc(second) == relabelled
        second.close()
    print(f"levels per document equal after relabel and after re-ingest: {agree}")
    print(f"speed-up relabel vs re-ingest: {t_reingest / t_relabel:.0f}x "
          f"({done.scanned / t_relabel:,.0f} chunks/s vs {rechunks / t_reingest:,.1f} chunks/s)")


if __name__ == "__main__":
    main()
