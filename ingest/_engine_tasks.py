"""What runs on the Dask workers of ``ragseal ingest --engine dask``.

Imported only where the engine is used (it imports ``distributed``): the
driver names these functions in its tasks and the workers import them, so
driver and workers must run the same ragseal build (checked per task).

Tasks never raise: Dask logs a failed task's arguments, and these are a
document. A refusal comes back as a :class:`Refused` value with a reason
that names no content.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from distributed import WorkerPlugin, get_worker

from ._manifest import Acl
from ._work import Built, DocumentWork, IngestError, Prepared, WorkSpec

__all__ = ["PLUGIN_PREFIX", "Refused", "RunPlugin", "build_id", "build_task", "chunks_task",
           "prepare_task"]

PLUGIN_PREFIX = "ragseal-ingest-"
_models_lock = threading.Lock()
_classifiers: dict[str, Any] = {}  # pickled policy's hash -> warm Classifier (bounded)
_shared: dict[str, Any] = {}  # "chunker", "embedder": one per worker process


def build_id() -> str:
    """Workers must run the driver's build: the same pipeline makes the same points."""
    import ragseal

    from ._pipeline import PIPELINE_VERSION

    return f"{ragseal.__version__}/{PIPELINE_VERSION}"


def _models(spec: WorkSpec) -> DocumentWork:
    """This process's warm models (kept across runs), wired to the run's spec
    (the secrets live in the run's plugin only)."""
    from ragseal.classification import Classifier

    from ._chunking import Chunker
    from ._embedder import Embedder

    # Keyed by the pickled policy, not its fingerprint: two policies with one
    # fingerprint can still differ in which fields the steward set.
    cache_key = hashlib.sha256(pickle.dumps(spec.policy, protocol=5)).hexdigest()
    with _models_lock:
        classifier = _classifiers.get(cache_key)
        if classifier is None:
            if spec.policy.fingerprint != spec.policy_fingerprint:
                raise RuntimeError("the policy reads differently on this worker")
            classifier = Classifier(spec.policy)
            classifier.warm_up()
            while len(_classifiers) >= 4:
                _classifiers.pop(next(iter(_classifiers)))
            _classifiers[cache_key] = classifier
        if "embedder" not in _shared:
            embedder = Embedder()
            embedder.warm_up()
            _shared["embedder"], _shared["chunker"] = embedder, Chunker()
    return DocumentWork(
        policy=classifier.policy, classifier=classifier, chunker=_shared["chunker"],
        embedder=_shared["embedder"], ids=spec.ids, pseudonyms=spec.pseudonyms,
        fingerprints=spec.fingerprints,
        policy_version=spec.policy_version,
    )


class RunPlugin(WorkerPlugin):
    """One run's spec on every worker (Dask gives it to workers that join
    later too); unregistered when the run ends."""

    def __init__(self, name: str, spec: WorkSpec, build: str) -> None:
        self.name = name
        self.spec = spec
        self.build = build
        self._work: DocumentWork | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RunPlugin({self.name})"

    def __getstate__(self) -> dict[str, object]:
        return {"name": self.name, "spec": self.spec, "build": self.build}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.name, self.spec, self.build = state["name"], state["spec"], state["build"]
        self._work = None
        self._lock = threading.Lock()

    def teardown(self, worker: object) -> None:
        self._work = None

    @contextmanager
    def work(self) -> Iterator[DocumentWork]:
        # One document at a time per process (spaCy holds the GIL anyway):
        # the models are not shared between a worker's threads.
        with self._lock:
            if self.build != build_id():
                raise RuntimeError("worker runs another ragseal build")
            if self._work is None:
                self._work = _models(self.spec)
            yield self._work


@dataclass(frozen=True)
class Refused:
    """A document the worker refused; ``reason`` names no content."""

    reason: str


def _plugin(name: str) -> RunPlugin:
    plugin = get_worker().plugins[name]
    if not isinstance(plugin, RunPlugin):
        raise RuntimeError("the run's plugin is missing on this worker")
    return plugin


def prepare_task(plugin: str, data: bytes, suffix: str, acl: Acl) -> Prepared | Refused:
    """Parse, classify, mask and chunk one document."""
    from ._loaders import LoadError, load_bytes

    try:
        with _plugin(plugin).work() as work:
            try:
                loaded = load_bytes(data, suffix)
            except LoadError as exc:
                return Refused(str(exc))
            return work.prepare(loaded.text, acl=acl, hidden=loaded.hidden)
    except IngestError as exc:
        return Refused(exc.reason)
    except Exception as exc:  # noqa: BLE001 - a parser bug refuses one file, not the run
        return Refused(f"cannot load document: {type(exc).__name__}")


def chunks_task(prepared: Prepared | Refused) -> int | Refused:
    """The prepared document's chunk count: all the driver needs of it."""
    return prepared if isinstance(prepared, Refused) else len(prepared.spans)


def build_task(plugin: str, prepared: Prepared | Refused, doc_id: str, version: str,
               source: str, acl: Acl, data_key: bytes) -> Built | Refused:
    """Embed and seal, on the worker that holds ``prepared``."""
    if isinstance(prepared, Refused):
        return prepared
    try:
        with _plugin(plugin).work() as work:
            return work.build(prepared, doc_id=doc_id, version=version, source=source,
                              acl=acl, data_key=data_key)
    except IngestError as exc:
        return Refused(exc.reason)
    except Exception as exc:  # noqa: BLE001 - see prepare_task
        return Refused(f"cannot seal document: {type(exc).__name__}")
