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
