"""Open the configured vector store: embedded Qdrant Edge unless a URL is set."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ._errors import StoreError, StoreLocked
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
    beside_owner: bool = False,
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
        beside_owner: May work through the socket of a running ``ragseal
            serve`` that holds the embedded store (a CLI command); a server
            passes False: it must own the store.

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

    path = Path(data_dir) / "store" / collection
    try:
        # The index is built in the background by a long-lived owner (a
        # server, a library caller), not by a CLI command that opened the
        # store for a few seconds: the next server catches up at open.
        return EdgeStore(path, dim, background_index=not beside_owner)
    except StoreLocked:
        if not beside_owner:
            raise
    return _beside_owner(Path(data_dir), collection, dim)


def _beside_owner(data_dir: Path, collection: str, dim: int) -> VectorStore:
    """The store through its owner's socket, or one line saying why not.

    The server listens a few milliseconds after it takes the lock: a socket
    that is not there yet is waited for, briefly.
    """
    from ._channel import socket_path
    from ._remote import RemoteStore

    sock = socket_path(data_dir, collection)
    deadline = time.monotonic() + 2.0
    while not sock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    busy = StoreError(
        f"store at {data_dir / 'store' / collection} is in use by another ragseal "
        "process that is not a server (another command still running?); wait for it "
        "or stop it"
    )
    if not sock.exists():
        raise busy
    try:
        conn = RemoteStore(sock, collection, dim)
    except StoreError as exc:
        if "Connection refused" in str(exc):  # a killed server's socket file
            raise busy from None
        raise
    logger.info("store owned by a running server; using its socket",
                extra={"path": str(sock)})
    return conn
