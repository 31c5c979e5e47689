"""Tenant policy versions: how fast a change reaches another process, and what
the relabel after a gating change costs on the sample corpus.

1. **Propagation.** A second process (``multiprocessing`` spawn, its own
   Services on the same keyring) polls ``policy_for(tenant)`` in a tight
   loop; this process pushes a new version and stamps the time. The figure
   is the delay until the other process serves the new fingerprint
   (bounded by ``RAGSEAL_POLICY_RECHECK_SECONDS``, default 1 s). Alternated
   with a push of the previous policy, ``--runs`` times each.
2. **Relabel.** ``samples/corpus`` is ingested for tenant ``acme``; then
   versions that make PERSON gating at *restricted* (a relabel of stored
   spans) and back are pushed, alternating, ``--runs`` times each, and the
   synchronous relabel of ``ragseal policy push`` is timed. Also timed: a
   version that restores a dropped entity type (``US_SSN``), which classifies
   every chunk again.

Prints the load average beside each figure; the machine may be shared.

    .venv/bin/python benchmarks/policy_versions.py [--runs 3]
"""

# ruff: noqa: T201 - a benchmark prints its figures
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

from ragseal.classification import ensure_offline  # noqa: E402

ensure_offline()

from ragseal.api._container import Services  # noqa: E402
from ragseal.api._policies import reclassify_needed  # noqa: E402
from ragseal.api._policy_relabel import relabel_tenant  # noqa: E402
from ragseal.api._settings import Settings  # noqa: E402
from ragseal.classification import default_policy  # noqa: E402
from ragseal.ingest import (
    ingest_paths,  # noqa: E402
    load_manifest,  # noqa: E402
)

CORPUS = ROOT / "samples" / "corpus"


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def policy_text(gated: bool, drop_ssn: bool = False) -> str:
    data = default_policy().to_json()
    entities = dict(data["entities"])  # type: ignore[call-overload]
    if gated:
        entities["PERSON"] = {**entities["PERSON"], "level": "restricted", "gate": True}
    if drop_ssn:
        del entities["US_SSN"]
    data["entities"] = entities
    return json.dumps(data)


def _watch(data_dir: str, ready: multiprocessing.synchronize.Event,
           queue: multiprocessing.Queue[tuple[str, float]], runs: int) -> None:
    services = Services(Settings(data_dir=Path(data_dir)))
    seen = services.policy_for("acme").fingerprint
    ready.set()
    for _ in range(runs):
        while True:
            now = services.policy_for("acme").fingerprint
            if now != seen:
                queue.put((now, time.time()))
                seen = now
                break
            time.sleep(0.005)
    services.close()


def propagation(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        services = Services(Settings(data_dir=Path(tmp)))
        services.policies.push("acme", policy_text(False), author="bench")
        ctx = multiprocessing.get_context("spawn")
        ready, queue = ctx.Event(), ctx.Queue()
        proc = ctx.Process(target=_watch, args=(tmp, ready, queue, 2 * runs))
        proc.start()
        ready.wait(120)
        for i in range(2 * runs):
            time.sleep(1.3)  # push at a random phase of the other's recheck
            _p, new = services.policies.push("acme", policy_text(i % 2 == 0), author="bench")
            pushed = time.time()
            fingerprint, at = queue.get(timeout=30)
            assert fingerprint == new.policy.fingerprint
            print(f"propagation run {i + 1}: {(at - pushed) * 1000:7.1f} ms   ({load()})")
        proc.join(30)
        services.close()


def relabels(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        services = Services(Settings(data_dir=Path(tmp)))
        manifest = CORPUS / "acl.yaml"
        report = ingest_paths(services.ingestor, [CORPUS], load_manifest(manifest),
                              exclude=[manifest])
        chunks = sum(r.chunks for r in report.ingested)
        print(f"ingested samples/corpus ({chunks} chunks)   ({load()})")
        for i in range(2 * runs):
            gated = i % 2 == 0
            prev, new = services.policies.push("acme", policy_text(gated), author="bench")
            started = time.perf_counter()
            r = relabel_tenant(services, "acme",
                               reclassify=reclassify_needed(prev.policy, new.policy))
            took = time.perf_counter() - started
            print(f"relabel {'gate PERSON' if gated else 'ungate PERSON':14s}: {took:6.2f} s, "
                  f"{r.relabeled:4d} of {r.scanned} chunks changed   ({load()})")
        for _ in range(runs):
            services.policies.push("acme", policy_text(False, drop_ssn=True), author="bench")
            relabel_tenant(services, "acme")
            prev, new = services.policies.push("acme", policy_text(False), author="bench")
            started = time.perf_counter()
            r = relabel_tenant(services, "acme",
                               reclassify=reclassify_needed(prev.policy, new.policy))
            took = time.perf_counter() - started
            print(f"relabel restore US_SSN (reclassify): {took:6.2f} s, {r.relabeled} of "
                  f"{r.scanned} chunks re-sealed   ({load()})")
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("machine shared with other engineers: figures are indicative")
    propagation(args.runs)
    relabels(args.runs)


if __name__ == "__main__":
    main()
