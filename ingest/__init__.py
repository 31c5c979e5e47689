"""Ingestion: loaders, chunking, the ACL manifest and the secure pipeline."""

from ragseal.classification import ensure_offline

ensure_offline()

from ._manifest import Acl, Manifest, ManifestError, load_manifest, parse_acl, parse_manifest  # noqa: E402
from ._pipeline import IngestError, Ingestor, IngestResult, erase_document  # noqa: E402
from ._quarantine import HeldChunk, HeldDocument, list_quarantine, release_document  # noqa: E402
from ._relabel import RelabelProblem, RelabelReport, relabel  # noqa: E402

__all__ = [
    "Acl",
    "HeldChunk",
    "HeldDocument",
    "IngestError",
    "IngestResult",
    "Ingestor",
    "Manifest",
    "ManifestError",
    "RelabelProblem",
    "RelabelReport",
    "load_manifest",
    "parse_acl",
    "erase_document",
    "list_quarantine",
    "parse_manifest",
    "relabel",
    "release_document",
]
