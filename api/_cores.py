"""Every core serves: ``/v1/retrieve`` and ``/v1/inspect`` in a pool of worker processes.

spaCy's NER and the embedder hold the GIL, so threads of one server run the
CPU work of those two routes one at a time. ``ragseal serve --workers N``
(default: every core the process may run on) keeps ONE server process and
adds N worker processes beside it (docs/ARCHITECTURE.md, "Processes"):

- **the server process** keeps everything that must be counted once: the
  HTTP listener, token verification, rate limits, probing counters and
  throttles, tenant freezes, metrics, the audit trail (its own chain), the
  upload jobs, and the single ownership of the embedded store (Qdrant Edge,
  served on the owner socket, ``store/_owner.py``);
- **each worker process** runs one retrieval or one inspection at a time,
  whole: query masking (NER), embedding, the filtered search (through the
  owner socket, as a CLI command beside the server does), opening and
  revealing chunks, answer inspection. It holds its own classifier and
  embedder (one ONNX thread), a read-only view of the keyring (SQLite,
  shared by every process) and of the tenant policies; it writes nothing
  and audits nothing: the server audits the result it hands back.

A request is sent to the pool only after the server authenticated it and
applied every limit; the worker gets the verified :class:`Principal`, the
text, and the version of the tenant's policy the server has in force (a
worker that is behind rereads it, so both apply the same version). Tasks and
answers travel over one anonymous pipe per worker, inherited by that spawned
child only; nothing reaches the file system. The request's own thread sends
the task on an idle worker's pipe and reads the answer from it: no feeder or
manager thread in the server (a ``ProcessPoolExecutor`` took two more
threads and ~0.3 ms of the server's CPU per request). A worker that dies
fails the request it was running (503); a replacement starts in the
background while the others serve on.

``workers == 1`` keeps today's single process (no pool, no socket hop).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from ragseal.retrieval import InspectResult, Principal, RetrievalIdError
from ragseal.store import KeyringError, StoreError

from ragseal._cpus import usable_cpus

from ._errors import ApiError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from ragseal.retrieval import Retrieval

    from ._beside import StoreChannel
    from ._container import Services
    from ._settings import Settings

__all__ = ["CorePool", "Serving", "available_cores", "exit_with_parent", "start_serving"]

log = logging.getLogger(__name__)

#: Seconds the server waits for its workers to load their models at start.
START_TIMEOUT_S = 600.0

_Kind = Literal["ok", "retrieval_id", "policy_unavailable", "keys", "store", "failed"]


def available_cores() -> int:
    """CPUs this process may use (its affinity and any cgroup CPU quota, not the
    host's count; see ``ragseal/_cpus.py``)."""
    return usable_cpus()


# -- the server's side ---------------------------------------------------------------


class _Worker:
    """One spawned worker process and the server's end of its pipe."""

    __slots__ = ("conn", "process")

    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn

    def stop(self, wait: float) -> None:
        """Ask it to exit (closing its pipe does), then make sure it did."""
        try:
            self.conn.close()
        except OSError:
            pass
        self.process.join(wait)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


class CorePool:
    """``workers`` spawned processes that run retrievals and inspections.

    Args:
        settings: the server's settings (pickled to each worker).
        workers: processes to run (at least 2: one is the server alone).
        remote_store: reach the store through the owner socket (the server
            owns an embedded store); ``False`` with a Qdrant server, which
            every process reaches directly.
    """

    def __init__(self, settings: Settings, workers: int, *, remote_store: bool) -> None:
        if workers < 2:
            raise ValueError("a core pool needs at least 2 workers")
        self.workers = workers
        self._settings = settings
        self._remote = remote_store
        self._lock = threading.Lock()
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._running: set[_Worker] = set()  # started and not lost (idle or busy)
        self._replacing = 0
        self._closed = False
        #: What each spawned process runs (a module-level function: it is pickled).
        self._target: Callable[[Connection, Settings, bool, int], None] = _serve_tasks

    def __repr__(self) -> str:
        return f"CorePool(workers={self.workers})"

    def _spawn(self) -> _Worker:
        context = multiprocessing.get_context("spawn")  # never fork: ONNX and Edge threads
        ours, theirs = context.Pipe(duplex=True)
        process = context.Process(
            target=self._target, name="ragseal-serving-worker",
            args=(theirs, self._settings, self._remote, logging.getLogger().level))
        process.start()
        theirs.close()  # the child's end lives in the child only
        return _Worker(process, ours)

    @staticmethod
    def _ready(worker: _Worker, deadline: float) -> None:
        """Wait until ``worker`` loaded its models (OSError: it died or never did)."""
        if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
            raise TimeoutError
        try:
            message = worker.conn.recv()
        except EOFError:
            raise OSError("the worker exited while starting") from None
        if message != ("ready", worker.process.pid):
            raise OSError("the worker did not start")

    def start(self) -> None:
        """Spawn the workers and wait until each has loaded its models.

        Every process is spawned and warm (models loaded, store reached)
        before the server answers its first request.

        Raises:
            StoreError: a worker could not start (it reached no store, or its
                models failed to load); the server does not start.
        """
        deadline = time.monotonic() + START_TIMEOUT_S
        started: list[_Worker] = []
        try:
            for _ in range(self.workers):
                started.append(self._spawn())
            for worker in started:
                self._ready(worker, deadline)
        except (TimeoutError, OSError) as exc:
            for worker in started:
                worker.stop(1)
            raise StoreError(f"the serving workers could not start ({type(exc).__name__}); "
                             "run with -v, or serve with --workers 1") from None
        with self._lock:
            self._running.update(started)
        for worker in started:
            self._idle.put(worker)
        log.info("core pool ready", extra={"workers": len(started)})

    def _take(self) -> _Worker:
        """An idle worker; waits while every one is busy (the pool's queue)."""
        while True:
            with self._lock:
                if self._closed:
                    raise ApiError(503, "worker_unavailable", "the server is stopping",
                                   headers={"Retry-After": "5"})
                if not self._running and not self._replacing:
                    self._replace_one()
                    raise ApiError(503, "worker_unavailable",
                                   "no serving worker is running; one is starting",
                                   headers={"Retry-After": "5"})
            try:
                return self._idle.get(timeout=1.0)
            except queue.Empty:
                continue

    def _lost(self, worker: _Worker) -> None:
        """``worker`` died (or its pipe is out of step): stop it, start another."""
        with self._lock:
            was_running = worker in self._running
            self._running.discard(worker)
            if was_running and not self._closed:
                self._replace_one()
        threading.Thread(target=worker.stop, args=(5,), daemon=True,
                         name="ragseal-worker-reap").start()

    def _replace_one(self) -> None:
        """Start one worker in the background (under ``self._lock``)."""
        self._replacing += 1

        def replace() -> None:
            worker: _Worker | None = None
            try:
                worker = self._spawn()
                self._ready(worker, time.monotonic() + START_TIMEOUT_S)
            except (TimeoutError, OSError) as exc:
                log.error("a serving worker could not be restarted",
                          extra={"error_type": type(exc).__name__})
                if worker is not None:
                    worker.stop(1)
                worker = None
            with self._lock:
                self._replacing -= 1
                if worker is not None and not self._closed:
                    self._running.add(worker)
                    self._idle.put(worker)
                    return
            if worker is not None:
                worker.stop(1)

        threading.Thread(target=replace, daemon=True, name="ragseal-worker-restart").start()

    def _call(self, task: str, *args: object) -> Any:
        worker = self._take()
        try:
            worker.conn.send((task, args))
            kind, value = worker.conn.recv()
        except (EOFError, OSError):
            self._lost(worker)
            if self._closed:
                raise ApiError(503, "worker_unavailable", "the server is stopping",
                               headers={"Retry-After": "5"}) from None
            log.error("a serving worker died; another one starts")
            raise ApiError(503, "worker_unavailable",
                           "a serving worker stopped; the request was not served",
                           headers={"Retry-After": "5"}) from None
        except BaseException:
            self._lost(worker)  # a task half sent or an answer half read: out of step
            raise
        self._idle.put(worker)
        return _unwrap(kind, value)

    def retrieve(self, principal: Principal, query: str, top_k: int, *, pseudonymize: bool,
                 version: int) -> Retrieval:
        """One retrieval in a worker, under the tenant's policy ``version`` or newer."""
        result: Retrieval = self._call("retrieve", principal, query, top_k, pseudonymize,
                                       version)
        return result

    def inspect(self, principal: Principal, answer: str, retrieval_id: str | None, *,
                version: int) -> InspectResult:
        """One inspection in a worker (RetrievalIdError as in-process)."""
        result: InspectResult = self._call("inspect", principal, answer, retrieval_id, version)
        return result

    def close(self) -> None:
        """Stop the workers (idempotent); a request still running answers 503."""
        with self._lock:
            self._closed = True
            workers, self._running = list(self._running), set()
        for worker in workers:
            worker.stop(5)


class Serving:
    """What ``ragseal serve`` runs beside the app: the owner channel and the pool."""

    def __init__(self, channel: StoreChannel, pool: CorePool | None) -> None:
        self.channel = channel
        self.pool = pool

    def close(self) -> None:
        """The pool first (its workers use the channel), then the channel."""
        try:
            if self.pool is not None:
                self.pool.close()
        finally:
            self.channel.close()


def start_serving(services: Services, workers: int | None) -> Serving:
    """Start what the server needs before it answers, in the order that matters.

    1. The owner socket listens, then the embedded store opens (its lock):
       CLI commands started from now on work through the server, even while
       it loads its models (issue 15).
    2. The server's models load while the ``workers`` processes (``None``:
       one per available core; 1: none) start and load theirs.

    Raises:
        StoreError, KeyringError, AuditError: one line for the CLI (exit 2).
    """
    from ._beside import store_channel

    count = workers if workers is not None else available_cores()
    channel = store_channel(services)
    pool = (CorePool(services.settings, count, remote_store=channel.owner is not None)
            if count > 1 else None)
    failed: list[BaseException] = []

    def start_pool() -> None:
        try:
            if pool is not None:
                pool.start()
        except BaseException as exc:  # noqa: BLE001 - raised below, in the caller
            failed.append(exc)

    starter = threading.Thread(target=start_pool, name="core-pool-start", daemon=True)
    serving = Serving(channel, pool)
    try:
        starter.start()
        services.warm_up()
        starter.join()
        if failed:
            raise failed[0]
    except BaseException:
        starter.join(timeout=START_TIMEOUT_S)
        serving.close()
        raise
    log.info("serving", extra={"workers": count})
    return serving


def _unwrap(kind: _Kind, value: Any) -> Any:
    """A worker's answer, or the error it stands for (raised in the server)."""
    if kind == "ok":
        return value
    if kind == "retrieval_id":
        raise RetrievalIdError()
    if kind == "policy_unavailable":
        raise ApiError(503, "policy_unavailable",
                       "the policy of this tenant cannot be read; ask an operator")
    if kind == "keys":
        raise KeyringError("the key provider failed in a serving worker")
    if kind == "store":
        raise StoreError("the store failed in a serving worker")
    raise RuntimeError(f"a serving worker failed ({value})")  # 500 body, no detail


# -- the worker's side ----------------------------------------------------------------

_services: Services | None = None


def exit_with_parent(interval: float = 1.0) -> threading.Thread:
    """Exit this process (``os._exit``) once its parent is gone.

    A server killed with SIGKILL cannot stop its pool: its workers would live
    on as orphans, holding models, keys and a connection to a socket nobody
    serves. (Not ``PR_SET_PDEATHSIG``: it fires when the parent *thread* that
    started the worker ends, and a pool starts workers from request threads.)
    """
    # The pid of the process that started this one, as multiprocessing knows
    # it: getppid() here may already be the reaper's if the parent died while
    # this worker was still starting.
    started_by = multiprocessing.parent_process()
    parent = started_by.pid if started_by is not None else os.getppid()

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(interval)

    thread = threading.Thread(target=watch, name="ragseal-parent-watch", daemon=True)
    thread.start()
    return thread


def _init(settings: Settings, remote_store: bool, log_level: int) -> None:
    """Build this worker's services once: models, keyring, the store (through the owner)."""
    exit_with_parent()
    from ragseal.classification import ensure_offline

    ensure_offline()
    from ragseal.ingest import Embedder

    from ._container import Services
    from ._logging import configure_logging

    configure_logging(log_level)
    global _services
    services = Services(settings)
    if remote_store:
        from ragseal.store import RemoteStore, socket_path

        services.__dict__["store"] = RemoteStore(
            socket_path(settings.data_dir, settings.collection), settings.collection)
    embedder = Embedder(threads=1)  # one core per worker: N workers fill N cores
    embedder.warm_up()
    services.__dict__["embedder"] = embedder
    _ = (services.classifier, services.retriever, services.inspector, services.keys)
    # The server relabels after a policy change; a worker only reads.
    services.policies.on_change = None
    _services = services


def _serve_tasks(conn: Connection, settings: Settings, remote_store: bool,
                 log_level: int) -> None:
    """A worker's life: load, say ready, then one task at a time until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    _init(settings, remote_store, log_level)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            task, args = conn.recv()
        except (EOFError, OSError):
            return  # the server closed our pipe (stopping) or is gone
        conn.send(_TASKS[task](*args))


def _paths(tenant: str, version: int) -> Any:
    assert _services is not None, "worker not initialised"
    current = _services.policies.in_force(tenant)
    if current.version < version:  # the server saw a newer version first: reread now
        _services.policies.forget(tenant)
    return _services.for_tenant(tenant)


def _guarded(work: Any) -> tuple[_Kind, Any]:
    """Run ``work``; errors become a kind and a type name (never a message with values)."""
    from ._policies import PolicyUnavailable

    try:
        return "ok", work()
    except RetrievalIdError:
        return "retrieval_id", None
    except PolicyUnavailable:
        return "policy_unavailable", None
    except KeyringError:
        return "keys", None
    except StoreError:
        return "store", None
    except Exception as exc:  # noqa: BLE001 - reported as a type name, failed closed
        log.error("serving worker task failed", extra={"error_type": type(exc).__name__})
        return "failed", type(exc).__name__


def _retrieve(principal: Principal, query: str, top_k: int, pseudonymize: bool,
              version: int) -> tuple[_Kind, Any]:
    return _guarded(lambda: _paths(principal.tenant, version).retriever.retrieve(
        principal, query, top_k, pseudonymize=pseudonymize))


def _inspect(principal: Principal, answer: str, retrieval_id: str | None,
             version: int) -> tuple[_Kind, Any]:
    return _guarded(lambda: _paths(principal.tenant, version).inspector.inspect(
        principal, answer, retrieval_id))


_TASKS: dict[str, Callable[..., tuple[_Kind, Any]]] = {"retrieve": _retrieve, "inspect": _inspect}
