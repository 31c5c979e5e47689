"""ragseal: a secure retrieval layer for RAG.

Installed, ragseal owns this one import name. Its subpackages are the
repository's top-level folders, mapped into the namespace by
``pyproject.toml`` (setuptools ``package-dir``)::

    ragseal.api             the HTTP API and the CLI (nothing imports it)
    ragseal.retrieval       principal -> filter, search, reveal, inspect
    ragseal.ingest          loaders, chunking, manifest, pipeline, runner
    ragseal.classification  policy, detectors, findings, masking
    ragseal.store           sealing, keys, ids, audit, the vector store

Imports point one way: ``api -> retrieval | ingest -> classification | store``;
every one of them may import this root package, which holds the one
exception tree (:class:`RagsealError`, drawn in ``ragseal/_errors.py``).
"""

from importlib.metadata import PackageNotFoundError, version

from ._errors import InvalidInputError, NotFoundError, RagsealError, UnavailableError

try:
    __version__ = version("ragseal")
except PackageNotFoundError:  # pragma: no cover - running from an unbuilt tree
    __version__ = "0+unknown"

__all__ = [
    "InvalidInputError",
    "NotFoundError",
    "RagsealError",
    "UnavailableError",
    "__version__",
]
