"""Ingestion: loaders, chunking, the ACL manifest and the secure pipeline.

Everything another package needs is exported here; the ``_modules`` are
private (``tests/test_imports.py`` holds every package to that).

Exception tree::

    IngestError            a document was refused (reason safe to show)
    ManifestError(ValueError)  the ACL manifest cannot be used (key paths)
    LoadError              a file cannot be read or parsed (no content)
"""

from ragseal.classification import ensure_offline

ensure_offline()

from ._chunking import Chunker  # noqa: E402
from ._embedder import Backend, Embedder, default_cache_dir  # noqa: E402
from ._engine import EngineConfig, EngineError, check_engine, start_engine  # noqa: E402
from ._loaders import LoadedDocument, LoadError, load_document, supported_extensions  # noqa: E402
from ._manifest import (  # noqa: E402
    DEFAULT_TENANT,
    Acl,
    Manifest,
    ManifestDefaults,
    ManifestError,
    ManifestRule,
    load_manifest,
    parse_acl,
    parse_manifest,
)
from ._pipeline import (  # noqa: E402
    PIPELINE_VERSION,
    FilePlan,
    IngestError,
    Ingestor,
    IngestResult,
    erase_document,
)
from ._quarantine import (  # noqa: E402
    HeldChunk,
    HeldDocument,
    list_quarantine,
    quarantine_document,
    release_document,
)
from ._relabel import Reclassify, RelabelProblem, RelabelReport, merge_spans, relabel  # noqa: E402
from ._runner import BatchReport, Refusal, ingest_paths, iter_files  # noqa: E402
from ._sandbox import ParseSandbox  # noqa: E402
from ._work import Built, DocumentWork  # noqa: E402

__all__ = [
    "EngineConfig",
    "EngineError",
    "check_engine",
    "start_engine",
    "Built",
    "DocumentWork",
    "DEFAULT_TENANT",
    "PIPELINE_VERSION",
    "Acl",
    "Backend",
    "BatchReport",
    "Chunker",
    "Embedder",
    "FilePlan",
    "HeldChunk",
    "HeldDocument",
    "IngestError",
    "IngestResult",
    "Ingestor",
    "LoadError",
    "LoadedDocument",
    "Manifest",
    "ManifestDefaults",
    "ManifestError",
    "ManifestRule",
    "ParseSandbox",
    "Reclassify",
    "Refusal",
    "RelabelProblem",
    "RelabelReport",
    "default_cache_dir",
    "erase_document",
    "ingest_paths",
    "iter_files",
    "list_quarantine",
    "load_document",
    "load_manifest",
    "merge_spans",
    "parse_acl",
    "parse_manifest",
    "quarantine_document",
    "relabel",
    "release_document",
    "supported_extensions",
]
