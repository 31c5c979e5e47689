"""One writer of document versions at a time, across every process of a keyring.

Ingestion writes a document version in a short section: a *pending* data
key, sealed points upserted, the switch that makes it current, the old
version removed (docs/INGEST.md). :meth:`Ingestor.recover` removes pending
versions that never became current: the leftovers of a killed run. That is
only right when no other run is inside such a section at the time: two
``ragseal ingest`` runs beside one server (or a CLI ingest and an API
upload) would otherwise destroy each other's pending keys.

So every section, recovery and ``--sync``'s sweep hold this lock: an
exclusive ``flock`` on ``<keyring folder>/writers.lock``. The kernel drops
it when its holder dies (SIGKILL included), so a killed run never blocks
the next; a pending version found while holding it belongs to a run that
is gone or gave up, never to one still writing. Sections are short (the
heavy work, parsing, classification and embedding, happens before), so
concurrent runs interleave document by document instead of waiting for
each other to finish. Every acquisition opens its own file description, so
threads of one process exclude each other too; the lock is not reentrant.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["VersionWriters"]

log = logging.getLogger(__name__)


class VersionWriters:
    """The inter-process lock of version writers (see module docstring).

    Args:
        path: the lock file (created 0600 on first use).
    """

    def __init__(self, path: Path) -> None:
        self._path = Path(path)

    def __repr__(self) -> str:
        return f"VersionWriters(path={str(self._path)!r})"

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for the ``with`` block, waiting for another holder if any."""
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                started = time.monotonic()
                fcntl.flock(fd, fcntl.LOCK_EX)
                log.info("waited for another ingest's write",
                         extra={"ms": round((time.monotonic() - started) * 1000, 1)})
            yield
        finally:
            os.close(fd)  # releases the lock
