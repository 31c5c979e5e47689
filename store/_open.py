"""Open the configured vector store: embedded Qdrant Edge unless a URL is set."""

from __future__ import annotations

import logging
from pathlib import Path

from ._errors import StoreError
from ._protocol import VectorStore

__all__ = ["open_store"]

logger = logging.getLogger(__name__)


def open_store(
    *,
    data_dir: Path,
    qdrant_url: str | None,
    qdrant_api_key: str | None,
    collection: str,
    dim: int = 384,
) -> VectorStore:
    """The vector store the settings ask for.

    Args:
        data_dir: ``RAGSEAL_DATA_DIR``; the embedded store lives in
            ``data_dir / "store" / collection``.
        qdrant_url: ``RAGSEAL_QDRANT_URL``; when set, a Qdrant server or
            cluster is used instead of the embedded store.
        qdrant_api_key: ``RAGSEAL_QDRANT_API_KEY`` for that server.
        collection: ``RAGSEAL_COLLECTION``.
        dim: Vector size of the embedder.

    Raises:
        StoreError: The store cannot be opened (in use, wrong vector size,
            server unreachable, bad collection name).
    """
    if not collection or "/" in collection or collection in {".", ".."}:
        raise StoreError(f"invalid collection name {collection!r} (check RAGSEAL_COLLECTION)")
    if qdrant_url:
        # Imported here so the embedded default never pays for the client.
        from qdrant_client import QdrantClient

        from ._client import ClientStore

        try:
            client = QdrantClient(url=qdrant_url, api_key=qdrant_api_key)
        except Exception as exc:  # invalid URL and the like
            raise StoreError(
                f"cannot create a Qdrant client ({type(exc).__name__}); check RAGSEAL_QDRANT_URL"
            ) from None
        logger.info("opening qdrant server store", extra={"collection": collection})
        try:
            return ClientStore(client, collection, dim)
        except BaseException:
            client.close()
            raise
    from ._edge import EdgeStore

    return EdgeStore(Path(data_dir) / "store" / collection, dim)
