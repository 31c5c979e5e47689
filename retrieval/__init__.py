"""Retrieval: principals, the access filter, query masking, reveal and inspection."""

from ._access import access_filter
from ._inspect import SECRET_TYPES, InspectFinding, Inspector, InspectResult
from ._principal import Principal
from ._query import MaskedQuery, mask_query
from ._retrieval_id import RetrievalIdError, RetrievalIds, RetrievalSession
from ._retriever import Retrieval, RetrievedChunk, Retriever

__all__ = [
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
