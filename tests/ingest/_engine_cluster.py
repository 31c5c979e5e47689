"""A local Dask cluster in its own process, for tests/ingest/test_engine.py.

    python tests/ingest/_engine_cluster.py FOLDER WORKERS

Starts ``WORKERS`` worker processes behind a mutual-TLS scheduler on
127.0.0.1 (a fresh self-signed certificate), writes ``ca.pem``,
``cert.pem``, ``key.pem`` (0600) and ``address`` into ``FOLDER``, and runs
until its stdin closes. Drivers reach it as a remote cluster would be
reached (``--engine-address tls://… --engine-tls-*``), and the test can
SIGKILL a driver without touching the workers (or a worker, whose nanny
then starts a fresh one).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path


def main() -> None:
    folder, workers = Path(sys.argv[1]), int(sys.argv[2])
    import dask
    from distributed import LocalCluster, Security
    from ragseal.ingest._engine import _DASK_CONFIG

    os.umask(0o077)
    security = Security.temporary()
    with dask.config.set(_DASK_CONFIG), LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
        security=security, dashboard_address=None, silence_logs=logging.ERROR,
    ) as cluster:
        (folder / "ca.pem").write_text(str(security.tls_ca_file))
        (folder / "cert.pem").write_text(str(security.tls_client_cert))
        (folder / "key.pem").write_text(str(security.tls_client_key))
        (folder / "address").write_text(cluster.scheduler_address)
        sys.stdin.read()  # until the test closes our stdin


if __name__ == "__main__":
    main()
