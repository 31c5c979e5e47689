"""The server's end of "working beside a running server" (docs/ARCHITECTURE.md).

A server that owns an embedded data dir serves its store on a unix socket
inside it, so CLI commands run meanwhile work through it instead of failing
on the store's lock. With a Qdrant server (``RAGSEAL_QDRANT_URL``) there is
no single owner and nothing is served.
"""

from __future__ import annotations

from ragseal.store import EdgeStore
from ragseal.store._channel import socket_path
from ragseal.store._owner import StoreOwner

from ._container import Services

__all__ = ["StoreChannel", "store_channel"]


class StoreChannel:
    """The running channel, or nothing to close (not an embedded store)."""

    def __init__(self, owner: StoreOwner | None) -> None:
        self.owner = owner

    def close(self) -> None:
        """Stop serving the store (before the store itself is closed)."""
        if self.owner is not None:
            self.owner.close()


def store_channel(services: Services) -> StoreChannel:
    """Open the store (taking its lock) and serve it to CLI commands beside us."""
    store = services.store
    if not isinstance(store, EdgeStore):
        return StoreChannel(None)
    s = services.settings
    return StoreChannel(StoreOwner(store, socket_path(s.data_dir, s.collection),
                                   collection=s.collection, dim=store.dim))
