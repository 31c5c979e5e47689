"""Distributed ingestion on Dask (``ragseal ingest --engine dask``).

The engine is another executor of the per-document work unit
(:class:`ingest._work.DocumentWork`), not a second pipeline. For each
changed file the driver (the ``ragseal ingest`` process) sends the bytes it
hashed to a worker, which parses, classifies, masks and chunks them
(``prepare``); the result stays on that worker, and only its chunk count
comes back. The driver then creates the version's pending data key and
records the encryptions (the same durable writes, in the same order, as a
one-process run), and sends the key to the worker holding the prepared
document, which embeds and seals (``build``). The sealed points come back
and the driver alone upserts them, switches the version and cleans up, in
file order. docs/ARCHITECTURE.md ("Distributed ingestion") has the why.

What crosses the engine's channel: document bytes, the pending data key of
each version, the installation's id, pseudonym and fingerprint secrets (in
a worker plugin, removed at the end of the run) and sealed points. So a
remote cluster is reached over ``tls://`` with certificates (mutual TLS);
a plaintext address is refused unless explicitly allowed. Task keys are
random (Dask would otherwise name a task by an unkeyed hash of its
arguments: a document's fingerprint in the scheduler's logs), tasks never
raise (a worker logs a failed task's arguments), and workers never spill
to disk (a prepared document holds its text).

Failures: a worker lost mid-task is retried by Dask on another worker; a
document whose tasks lost workers more than ``distributed.scheduler.allowed-failures``
times (3) is refused ("workers died repeatedly"), the run goes
on. A lost scheduler stops the run with one line (exit 2); the rerun
converges, as after any killed run (docs/INGEST.md).

Errors::

    EngineError       the engine cannot be used (not installed, bad address,
                      TLS files, cannot connect, lost): one line, exit 2
"""

from __future__ import annotations

import ipaddress
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ragseal import InvalidInputError
from ragseal._cpus import usable_cpus

from ._manifest import Acl
from ._work import Built, IngestError, WorkSpec

# distributed is only partly typed: its objects are handled as Any here.
Future = Any

__all__ = ["ENGINES", "Engine", "EngineConfig", "EngineError", "check_engine", "start_engine"]

log = logging.getLogger(__name__)

ENGINES = ("dask",)
_EXTRA = {"dask": "distributed"}  # engine -> the module its extra installs
_CONNECT_TIMEOUT_S = 30
# Dask's configuration for every cluster this module starts or joins.
_DASK_CONFIG = {
    # A prepared document holds its text: never written to a worker's disk.
    "distributed.worker.memory.spill": False,
    "distributed.worker.memory.target": False,
    # A retried task is a re-run of a pure function; a document that keeps
    # killing workers is refused after this many.
    "distributed.scheduler.allowed-failures": 3,
}


class EngineError(InvalidInputError):
    """The engine cannot be used; the message is one line naming the fix."""


@dataclass(frozen=True)
class EngineConfig:
    """``--engine`` and its options, validated by :func:`check_engine`."""

    name: str = "dask"
    address: str | None = None  # None: a local cluster on this machine
    workers: int = 0  # local cluster size; 0: the cores
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_plaintext: bool = False


def check_engine(config: EngineConfig) -> None:
    """Refuse an engine that is not installed or an address that is unsafe,
    before anything is loaded (``EngineError``: exit 2)."""
    if config.name not in ENGINES:
        raise EngineError(f"--engine {config.name!r}: not one of {', '.join(ENGINES)}")
    if find_spec(_EXTRA[config.name]) is None:
        raise EngineError(f"--engine {config.name} needs the {config.name!r} extra: "
                          f"pip install 'ragseal[{config.name}]'")
    tls_files = [f for f in (config.tls_ca, config.tls_cert, config.tls_key) if f is not None]
    if config.address is None:
        if tls_files or config.allow_plaintext:
            raise EngineError("--engine-tls-* and --engine-allow-plaintext need --engine-address")
        return
    scheme = urlsplit(config.address).scheme if "://" in config.address else "tcp"
    host = urlsplit(config.address if "://" in config.address else f"tcp://{config.address}")
    if not host.hostname:
        raise EngineError(f"--engine-address {config.address!r}: expected tls://HOST:PORT")
    if scheme == "tls":
        if len(tls_files) != 3:
            raise EngineError("--engine-address tls://... needs --engine-tls-ca, "
                              "--engine-tls-cert and --engine-tls-key (mutual TLS)")
        for f in tls_files:
            if not f.is_file():
                raise EngineError(f"--engine-tls file {str(f)!r} does not exist")
        return
    if scheme != "tcp":
        raise EngineError(f"--engine-address scheme {scheme!r}: use tls:// (or tcp:// with "
                          "--engine-allow-plaintext)")
    if not config.allow_plaintext:
        raise EngineError(
            f"--engine-address {config.address!r} is plaintext: documents, data keys and "
            "installation secrets would cross the network in clear; use tls:// with "
            "certificates, or --engine-allow-plaintext on a network you trust")
    if tls_files:
        raise EngineError("--engine-tls-* need a tls:// address")
    if not _loopback(host.hostname):
        log.warning("engine address is plaintext and not loopback",
                    extra={"engine": config.name})


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- the driver side ---------------------------------------------------------
@dataclass(frozen=True)
class Job:
    """One document on the engine: the prepared future and its chunk count."""

    prepared: Future
    chunks: Future


class Engine:
    """A Dask client with this run's plugin registered (see :func:`start_engine`)."""

    def __init__(self, client: Any, plugin: str, workers: int) -> None:
        self._client = client
        self._plugin = plugin
        self.workers = workers
        # Two documents per worker in flight: one running, one queued (backpressure).
        self.max_in_flight = 2 * workers

    def __repr__(self) -> str:
        return f"Engine(dask, workers={self.workers})"

    def _key(self, step: str) -> str:
        return f"ragseal-{step}-{uuid.uuid4().hex}"  # never a hash of the arguments

    def prepare(self, data: bytes, suffix: str, acl: Acl) -> Job:
        from ._engine_tasks import chunks_task, prepare_task

        prepared = self._client.submit(prepare_task, self._plugin, data, suffix, acl,
                                       key=self._key("prepare"), pure=False)
        chunks = self._client.submit(chunks_task, prepared, key=self._key("chunks"),
                                     pure=False)
        return Job(prepared, chunks)

    @staticmethod
    def ready(job: Job) -> bool:
        return bool(job.chunks.done())

    def chunk_count(self, job: Job) -> int:
        """Wait for the document's chunk count; ``IngestError`` when refused."""
        from ._engine_tasks import Refused

        answer = self._result(job.chunks)
        if isinstance(answer, Refused):
            raise IngestError(answer.reason)
        if not isinstance(answer, int):
            raise IngestError("the engine answered something unexpected")
        return answer

    def build(self, job: Job, *, doc_id: str, version: str, source: str, acl: Acl,
              data_key: bytes) -> Future:
        from ._engine_tasks import build_task

        return self._client.submit(build_task, self._plugin, job.prepared, doc_id, version,
                                   source, acl, data_key, key=self._key("build"), pure=False)

    def built(self, future: Future) -> Built:
        """Wait for the sealed points; ``IngestError`` when refused."""
        from ._engine_tasks import Refused

        answer = self._result(future)
        if isinstance(answer, Refused):
            raise IngestError(answer.reason)
        if not isinstance(answer, Built):
            raise IngestError("the engine answered something unexpected")
        return answer

    @staticmethod
    def release(*futures: Future) -> None:
        for f in futures:
            f.release()

    def _result(self, future: Future) -> object:
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError

        try:
            return future.result()
        except KilledWorker:
            raise IngestError("workers died repeatedly while ingesting it (see the "
                              "engine's worker logs); the run went on") from None
        except (FutureCancelledError, OSError, TimeoutError) as exc:
            raise EngineError(f"the engine went away mid-run ({type(exc).__name__}); "
                              "run the command again") from None


@contextmanager
def start_engine(config: EngineConfig, spec: WorkSpec) -> Iterator[Engine]:
    """Start a local cluster (or join ``config.address``), register the run's
    plugin, yield the :class:`Engine`; unregister and stop on exit."""
    check_engine(config)
    import importlib

    import dask

    distributed: Any = importlib.import_module("distributed")
    Client, LocalCluster, Security = (distributed.Client, distributed.LocalCluster,
                                      distributed.Security)
    from ._engine_tasks import PLUGIN_PREFIX, RunPlugin, build_id

    # Dask logs every connection, worker start and stop at INFO (and a slow
    # worker exit as a WARNING) into our JSON log on stderr; what a user can
    # act on comes back as a refusal or an EngineError instead.
    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster: Any = None
    with dask.config.set(_DASK_CONFIG):
        try:
            if config.address is None:
                workers = config.workers or usable_cpus()
                # Mutual TLS even on loopback: any local user could otherwise
                # connect to the scheduler's port and run code as us.
                cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True,
                    host="127.0.0.1", security=Security.temporary(), dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
                client = Client(cluster, security=cluster.security,
                                timeout=_CONNECT_TIMEOUT_S)
            else:
                security = None
                if config.tls_ca is not None:
                    security = Security(
                        tls_ca_file=str(config.tls_ca), tls_client_cert=str(config.tls_cert),
                        tls_client_key=str(config.tls_key), require_encryption=True)
                client = Client(config.address, security=security,
                                timeout=_CONNECT_TIMEOUT_S)
                client.wait_for_workers(1, timeout=_CONNECT_TIMEOUT_S)
                workers = max(1, len(client.nthreads()))
        except (OSError, TimeoutError, ValueError) as exc:
            if cluster is not None:
                cluster.close()
            raise EngineError(f"cannot start or reach the dask engine "
                              f"({type(exc).__name__}); check --engine-address and the "
                              "TLS files") from None
        name = PLUGIN_PREFIX + uuid.uuid4().hex
        try:
            builds = set(client.run(build_id).values())
            if builds - {build_id()}:
                raise EngineError("the engine's workers run another ragseal build than this "
                                  "command; install the same version on both")
            client.register_plugin(RunPlugin(name, spec, build_id()), name=name)
            log.info("engine started", extra={"engine": "dask", "workers": workers})
            yield Engine(client, name, workers)
        finally:
            try:
                client.unregister_worker_plugin(name)
            except Exception:  # noqa: BLE001 - a lost scheduler forgets it anyway
                log.warning("engine plugin not removed", extra={"engine": "dask"})
            client.close(timeout=_CONNECT_TIMEOUT_S)
            if cluster is not None:
                cluster.close(timeout=_CONNECT_TIMEOUT_S)
