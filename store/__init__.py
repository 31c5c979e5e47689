"""What ingestion and retrieval share at rest: vector store, sealing, keys.

Exception tree::

    StoreError                 the vector engine failed or is unusable
    SealError                  a sealed chunk could not be opened (opaque)
    KeyringError               the key provider is unusable
      DataKeyNotFound          no data key for that document (erased?)
"""

from ._protocol import VectorStore
from ._types import AccessFilter, Hit, Point, matches

__all__ = [
    "AccessFilter",
    "Hit",
    "Point",
    "VectorStore",
    "matches",
]

from ._keyring import (  # noqa: E402
    MAX_ENCRYPTIONS_PER_KEY,
    DataKeyNotFound,
    KeyProvider,
    KeyringError,
    KeyringStatus,
    KeyUsageExceeded,
    LocalKeyring,
)
from ._ids import IdHasher  # noqa: E402
from ._sealed import SealedChunk, Span  # noqa: E402
from ._sealing import FORMAT_V1, Labels, SealError, open_chunk, seal_chunk  # noqa: E402

__all__ += [
    "FORMAT_V1",
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
