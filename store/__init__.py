"""What ingestion and retrieval share at rest: vector store, sealing, keys.

Exception tree::

    StoreError                 the vector engine failed or is unusable
      StoreLocked              the embedded store is held by another process
    SealError                  a sealed chunk could not be opened (opaque)
    PayloadError(ValueError)   a point's payload is not a chunk payload (docs/FORMAT.md)
    KeyringError               the key provider is unusable
      DataKeyNotFound          no data key for that document (erased?)
      KeyUsageExceeded         a data key reached its encryption cap
    AuditError                 an audit record could not be written (fail closed)
    PolicyStoreError           the tenant policy store is unusable

Everything another package needs is exported here; the ``_modules`` are
private (``tests/test_imports.py`` holds every package to that).
"""

from typing import TYPE_CHECKING

from ._audit import AUDIT_SEAL_EVERY, Actor, AuditError, AuditLog, default_replica_id
from ._audit_verify import AuditProblem, AuditReport, read_audit, verify_audit
from ._channel import socket_path
from ._edge import EdgeStore, edge_access_filter, store_in_use
from ._errors import StoreError, StoreLocked
from ._fingerprints import FINGERPRINT_FIELD, Fingerprinter, Shingle
from ._freeze import FreezeEvent, TenantFreezes
from ._ids import IdHasher
from ._key_provider import KeyProvider, KeyringStatus
from ._keyring import (
    MAX_ENCRYPTIONS_PER_KEY,
    DataKeyNotFound,
    KeyringError,
    KeyUsageExceeded,
    LocalKeyring,
)
from ._master import decode_master_key
from ._open import open_store
from ._owner import StoreOwner
from ._pg_url import check_database_url
from ._policy_store import PolicyStore, PolicyStoreError, PolicyVersion, SqlitePolicyStore
from ._protocol import TextEmbedder, VectorStore
from ._remote import RemoteStore
from ._sealed import SealedChunk, Span
from ._sealing import FORMAT_V1, Labels, SealError, open_chunk, seal_chunk
from ._stored import PayloadError, StoredChunk, payload_version
from ._types import QUARANTINED, AccessFilter, Hit, Point, is_quarantined, matches

if TYPE_CHECKING:
    from ._client import ClientStore, client_access_filter

__all__ = [
    "AUDIT_SEAL_EVERY",
    "FINGERPRINT_FIELD",
    "FORMAT_V1",
    "MAX_ENCRYPTIONS_PER_KEY",
    "QUARANTINED",
    "AccessFilter",
    "Actor",
    "AuditError",
    "AuditLog",
    "AuditProblem",
    "AuditReport",
    "ClientStore",
    "DataKeyNotFound",
    "EdgeStore",
    "Fingerprinter",
    "FreezeEvent",
    "Hit",
    "IdHasher",
    "KeyProvider",
    "KeyUsageExceeded",
    "KeyringError",
    "KeyringStatus",
    "Labels",
    "LocalKeyring",
    "PayloadError",
    "Point",
    "PolicyStore",
    "PolicyStoreError",
    "PolicyVersion",
    "RemoteStore",
    "SealError",
    "SealedChunk",
    "Shingle",
    "Span",
    "SqlitePolicyStore",
    "StoreError",
    "StoreLocked",
    "StoreOwner",
    "StoredChunk",
    "TenantFreezes",
    "TextEmbedder",
    "VectorStore",
    "client_access_filter",
    "decode_master_key",
    "default_replica_id",
    "edge_access_filter",
    "is_quarantined",
    "matches",
    "open_chunk",
    "open_store",
    "check_database_url",
    "payload_version",
    "read_audit",
    "seal_chunk",
    "socket_path",
    "store_in_use",
    "verify_audit",
]


def __getattr__(name: str) -> object:
    # qdrant-client takes ~1.7 s to import; only server deployments need it.
    if name in {"ClientStore", "client_access_filter"}:
        from . import _client

        return getattr(_client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
