"""One ``ingest --sync`` on an engine, for tests/ingest/test_engine.py.

    python tests/ingest/_engine_driver.py STATE CORPUS CLUSTER [--kill-driver N | --kill-workers N]

The driver of benchmarks/crash.py's scenario (keyring ``STATE/keys``, Edge
store ``STATE/store``, fixed master key) with ``--engine dask`` on the
cluster that ``tests/ingest/_engine_cluster.py`` runs in ``CLUSTER``. It
loads no model (the workers do). At its N-th durable write it SIGKILLs
itself (``--kill-driver``) or every worker of the cluster
(``--kill-workers``; their nannies start fresh ones and Dask reruns their
tasks). Prints the report as JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


class _NoModel:
    """The driver never classifies or embeds on the engine: fail if asked."""

    def classify(self, text: str) -> object:
        raise AssertionError("the driver classified a document")

    def embed(self, texts: object) -> list[list[float]]:
        raise AssertionError("the driver embedded a document")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("state", type=Path)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("cluster", type=Path)
    parser.add_argument("--kill-driver", type=int)
    parser.add_argument("--kill-workers", type=int)
    args = parser.parse_args()

    from ragseal.classification import default_policy
    from ragseal.classification import Pseudonymizer
    from ragseal.ingest import Ingestor, load_manifest
    from ragseal.ingest._chunking import Chunker
    from ragseal.ingest._engine import EngineConfig
    from ragseal.ingest._runner import ingest_paths
    from ragseal.store import EdgeStore, IdHasher, LocalKeyring

    from benchmarks.crash import MASTER_KEY

    cluster = args.cluster
    config = EngineConfig(address=(cluster / "address").read_text(),
                          tls_ca=cluster / "ca.pem", tls_cert=cluster / "cert.pem",
                          tls_key=cluster / "key.pem")
    workers: list[int] = []
    if args.kill_workers:
        from distributed import Client, Security

        security = Security(tls_ca_file=str(config.tls_ca), tls_client_cert=str(config.tls_cert),
                            tls_client_key=str(config.tls_key), require_encryption=True)
        with Client(config.address, security=security, timeout=30) as client:
            workers = sorted(client.run(os.getpid).values())

    seen = [0]

    def checkpoint(_name: str) -> None:
        seen[0] += 1
        if seen[0] == args.kill_driver:
            os.kill(os.getpid(), signal.SIGKILL)
        if seen[0] == args.kill_workers:
            for pid in workers:
                os.kill(pid, signal.SIGKILL)

    keys = LocalKeyring(args.state / "keys", MASTER_KEY)
    store = EdgeStore(args.state / "store")
    try:
        ingestor = Ingestor(
            policy=default_policy(), classifier=_NoModel(), chunker=Chunker(),  # type: ignore[arg-type]
            embedder=_NoModel(), store=store, keys=keys,  # type: ignore[arg-type]
            ids=IdHasher(keys.secret("ids")), pseudonyms=Pseudonymizer(keys.secret("pseudonyms")),
            checkpoint=checkpoint,
        )
        manifest = args.corpus / "acl.yaml"
        report = ingest_paths(ingestor, [args.corpus], load_manifest(manifest),
                              exclude=[manifest], sync=True, engine=config)
    finally:
        store.close()
        keys.close()
    out = report.as_dict()
    out.pop("seconds")
    print(json.dumps({"report": out, "checkpoints": seen[0]}))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
