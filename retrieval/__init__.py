"""Retrieval: principals, the access filter, query masking, reveal and inspection.

Everything another package needs is exported here; the ``_modules`` are
private (``tests/test_imports.py`` holds every package to that).
"""

from ._access import access_filter
from ._inspect import BLOCKED_NOTICE, SECRET_TYPES, InspectFinding, Inspector, InspectResult
from ._principal import Principal
from ._query import MaskedQuery, mask_query
from ._retrieval_id import RetrievalIdError, RetrievalIds, RetrievalSession
from ._retriever import Retrieval, RetrievedChunk, Retriever

__all__ = [
    "BLOCKED_NOTICE",
    "SECRET_TYPES",
    "InspectFinding",
    "InspectResult",
    "MaskedQuery",
    "Inspector",
    "Principal",
    "Retrieval",
    "RetrievalIdError",
    "RetrievalIds",
    "RetrievalSession",
    "RetrievedChunk",
    "Retriever",
    "access_filter",
    "mask_query",
]
