"""What ingestion and retrieval share at rest: vector store, sealing, keys.

Exception tree::

    StoreError                 the vector engine failed or is unusable
    SealError                  a sealed chunk could not be opened (opaque)
    KeyringError               the key provider is unusable
      DataKeyNotFound          no data key for that document (erased?)
    AuditError                 an audit record could not be written (fail closed)
    PolicyStoreError           the tenant policy store is unusable
"""

from ._protocol import VectorStore
from ._types import QUARANTINED, AccessFilter, Hit, Point, is_quarantined, matches

__all__ = [
    "QUARANTINED",
    "AccessFilter",
    "Hit",
    "Point",
    "VectorStore",
    "is_quarantined",
    "matches",
]

from ._fingerprints import FINGERPRINT_FIELD, Fingerprinter, Shingle  # noqa: E402
from ._ids import IdHasher  # noqa: E402
from ._keyring import (  # noqa: E402
    MAX_ENCRYPTIONS_PER_KEY,
    DataKeyNotFound,
    KeyProvider,
    KeyringError,
    KeyringStatus,
    KeyUsageExceeded,
    LocalKeyring,
)
from ._sealed import SealedChunk, Span  # noqa: E402
from ._sealing import FORMAT_V1, Labels, SealError, open_chunk, seal_chunk  # noqa: E402

__all__ += [
    "FINGERPRINT_FIELD",
    "FORMAT_V1",
    "Fingerprinter",
    "Shingle",
    "IdHasher",
    "MAX_ENCRYPTIONS_PER_KEY",
    "DataKeyNotFound",
    "KeyProvider",
    "KeyUsageExceeded",
    "KeyringError",
    "KeyringStatus",
    "Labels",
    "LocalKeyring",
    "SealError",
    "SealedChunk",
    "Span",
    "open_chunk",
    "seal_chunk",
]

from typing import TYPE_CHECKING  # noqa: E402

from ._edge import EdgeStore, edge_access_filter  # noqa: E402
from ._errors import StoreError  # noqa: E402
from ._open import open_store  # noqa: E402

__all__ += [
    "ClientStore",
    "EdgeStore",
    "StoreError",
    "client_access_filter",
    "edge_access_filter",
    "open_store",
]

if TYPE_CHECKING:
    from ._client import ClientStore, client_access_filter


def __getattr__(name: str) -> object:
    # qdrant-client takes ~1.7 s to import; only server deployments need it.
    if name in {"ClientStore", "client_access_filter"}:
        from . import _client

        return getattr(_client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

from ._audit import (  # noqa: E402
    AUDIT_SEAL_EVERY,
    Actor,
    AuditError,
    AuditLog,
    AuditProblem,
    AuditReport,
    default_replica_id,
    read_audit,
    verify_audit,
)

__all__ += [
    "AUDIT_SEAL_EVERY",
    "Actor",
    "AuditError",
    "AuditLog",
    "AuditProblem",
    "AuditReport",
    "default_replica_id",
    "read_audit",
    "verify_audit",
]

from ._policy_store import (  # noqa: E402
    PolicyStore,
    PolicyStoreError,
    PolicyVersion,
    SqlitePolicyStore,
)

__all__ += ["PolicyStore", "PolicyStoreError", "PolicyVersion", "SqlitePolicyStore"]
