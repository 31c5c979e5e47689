"""Working beside a running server (docs/ARCHITECTURE.md), both ends.

A server that owns an embedded data dir serves its store on a unix socket
inside it (:func:`store_channel`), so CLI commands run meanwhile work
through it instead of failing on the store's lock (:func:`open_services`).
With a Qdrant server (``RAGSEAL_QDRANT_URL``) there is no single owner and
nothing is served.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from weakref import WeakKeyDictionary

from ragseal.store import EdgeStore, RemoteStore, StoreError, StoreOwner, socket_path

from ._container import Services
from ._settings import Settings

__all__ = ["StoreChannel", "embedded_store_in_use", "open_services", "store_channel"]

log = logging.getLogger(__name__)


@contextmanager
def open_services(settings: Settings, *, store: bool = True, existing: bool = False,
                  batch: bool = False) -> Iterator[Services]:
    """The services of one CLI command, beside a running server or not.

    Args:
        settings: the command's settings.
        store: open the store now, before any model is loaded: the embedded
            store directly when it is free, through the running server's
            socket when a server owns it; a store held by anything else
            (another command) fails here, in one line.
        existing: a read-only command: the data dir must exist already
            (it is not created to answer that there is nothing in it).
        batch: a batch command (ingest, relabel): beside a server it runs at
            a lower CPU priority (nice +10, its worker processes too), so
            the server's requests come first; its heavy work is all here.

    Raises:
        StoreError: the data dir does not exist (``existing``) or the store
            cannot be opened.
    """
    services = Services(settings, beside_server=True, via="cli")  # creates nothing
    if existing and not settings.data_dir.is_dir():
        raise StoreError(f"no ragseal data dir at {settings.data_dir}; set RAGSEAL_DATA_DIR "
                         "or run ingest first")
    try:
        if store:
            opened = services.store
            if batch and isinstance(opened, RemoteStore):
                _lower_priority()
        yield services
    finally:
        services.close()


BATCH_NICENESS = 10


def embedded_store_in_use(settings: Settings) -> bool:
    """Whether another process holds the embedded store (a server must own it)."""
    from ragseal.store import store_in_use

    if settings.qdrant_url:
        return False
    return store_in_use(settings.data_dir / "store" / settings.collection)


def _lower_priority() -> None:
    try:
        os.nice(BATCH_NICENESS)
    except OSError:  # not allowed here (some containers): run at normal priority
        log.info("could not lower the batch's priority")
    else:
        log.info("batch beside a server: lower CPU priority", extra={"nice": BATCH_NICENESS})


class StoreChannel:
    """The running channel, or nothing to close (not an embedded store)."""

    def __init__(self, owner: StoreOwner | None) -> None:
        self.owner = owner
        self.closed = False

    def close(self) -> None:
        """Stop serving the store (before the store itself is closed; idempotent)."""
        self.closed = True
        if self.owner is not None:
            self.owner.close()


_CHANNELS: WeakKeyDictionary[Services, StoreChannel] = WeakKeyDictionary()


def store_channel(services: Services) -> StoreChannel:
    """Serve the embedded store to CLI commands beside us, then open it (its lock).

    The socket listens first: a command started while the store opens, or
    while the server loads its models afterwards, connects and is answered
    as soon as the store is open. Once per ``services``: the server's start
    (``ragseal serve``) and the app's lifespan share one channel.
    """
    found = _CHANNELS.get(services)
    if found is not None and not found.closed:
        return found
    s = services.settings
    opened = services.__dict__.get("store")
    if s.qdrant_url or (opened is not None and not isinstance(opened, EdgeStore)):
        channel = StoreChannel(None)  # no single owner
    else:
        owner = StoreOwner(opened, socket_path(s.data_dir, s.collection),
                           collection=s.collection,
                           dim=opened.dim if isinstance(opened, EdgeStore) else 384)
        try:
            store = services.store
        except BaseException:
            owner.close()
            raise
        if not isinstance(store, EdgeStore):
            owner.close()
            channel = StoreChannel(None)
        else:
            owner.attach(store, dim=store.dim)
            channel = StoreChannel(owner)
    _CHANNELS[services] = channel
    return channel
