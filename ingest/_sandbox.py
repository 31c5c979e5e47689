"""Document parsing in a child process that can be killed.

Parsing is where a hostile upload costs most: a tuned DOCX bomb (15.7 MB
inflating to 306 MB, under the ratio check) kept a server thread in lxml
for four minutes at 3.1 GB RSS after its request had been answered, and a
thread cannot be stopped. Here one warm child process (spawned, not forked:
the parent holds ONNX Runtime and torch threads) does the parsing; the
parent waits with a deadline and a cancel flag, and on either it kills the
child — the memory and the CPU come back at once — and starts a fresh one
for the next document.

The child is warm (unstructured imported and prepared once: a cold start
took 25 s on a loaded 2-core machine), writes its temporary files only
under the protected ``tmp_dir`` it is given, and sends back the text and
the hidden spans, or a refusal reason (never content). One document is
parsed at a time; callers queue on a lock.

Errors::

    LoadError (ingest._loaders)   refused, timed out, cancelled, or the child died
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from ._loaders import LoadedDocument, LoadError

__all__ = ["ParseSandbox"]

log = logging.getLogger(__name__)

_POLL_S = 0.1
_Answer = tuple[str, str, tuple[tuple[int, int], ...], str | None]


def _child(conn: Connection, tmp_dir: str) -> None:  # pragma: no cover - runs in the child
    import tempfile

    from ragseal.classification import ensure_offline

    ensure_offline()
    tempfile.tempdir = tmp_dir  # every temporary file of the parsers stays protected
    from ._loaders import LoadError, load_document
    from ._unstructured import prepare_unstructured

    prepare_unstructured()
    import unstructured.partition.docx  # noqa: F401 - warm: imported once, not per upload
    import unstructured.partition.text  # noqa: F401

    conn.send("ready")
    while True:
        try:
            path = conn.recv()
        except EOFError:
            return
        try:
            doc = load_document(Path(path))
            answer: _Answer = (doc.text, doc.format, doc.hidden, None)
        except LoadError as exc:
            answer = ("", "", (), str(exc))
        except Exception as exc:  # noqa: BLE001 - a parser bug refuses the document only
            answer = ("", "", (), f"unreadable document ({type(exc).__name__})")
        conn.send(answer)


class ParseSandbox:
    """Loads documents in a warm, killable child process.

    Args:
        tmp_dir: a protected (0700) folder for the child's temporary files.
    """

    def __init__(self, tmp_dir: Path) -> None:
        self._tmp_dir = tmp_dir
        self._lock = threading.Lock()
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self.kills = 0

    def __repr__(self) -> str:
        return f"ParseSandbox(alive={self._proc is not None and self._proc.is_alive()})"

    def _start(self) -> tuple[BaseProcess, Connection]:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_child, args=(child, str(self._tmp_dir)),
                           name="ragseal-parse", daemon=True)
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        return proc, parent

    def warm_up(self, timeout: float = 600.0) -> None:
        """Start the child and wait until it is ready (server start), so that the
        first upload does not pay for the imports.

        Raises:
            LoadError: the child died or did not get ready in ``timeout`` seconds.
        """
        with self._lock:
            if self._proc is not None and self._proc.is_alive():
                return
            proc, conn = self._start()
            deadline = time.monotonic() + timeout
            while not conn.poll(_POLL_S):
                if not proc.is_alive() or time.monotonic() > deadline:
                    self._kill()
                    raise LoadError("the document parser did not start")
            try:
                ready = conn.recv() == "ready"
            except (EOFError, OSError):
                ready = False
            if not ready:
                self._kill()
                raise LoadError("the document parser did not start")

    def _kill(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is not None and proc.is_alive():
            proc.kill()
            proc.join(5)
            self.kills += 1

    def load(self, path: Path, *, deadline: float, cancelled: threading.Event) -> LoadedDocument:
        """Parse ``path`` in the child; kill it past ``deadline`` (monotonic) or on cancel.

        Raises:
            LoadError: refused by the loader, timed out, cancelled, or the child died.
        """
        with self._lock:
            proc, conn = (self._proc, self._conn) if (
                self._proc is not None and self._proc.is_alive() and self._conn is not None
            ) else self._start()
            try:
                conn.send(str(path))
                answer = None
                while answer is None:
                    if cancelled.is_set():
                        raise LoadError("ingest cancelled")
                    if time.monotonic() > deadline:
                        raise LoadError("ingest took too long")
                    if not proc.is_alive():
                        raise LoadError("the parser stopped (out of memory?)")
                    if conn.poll(_POLL_S):
                        message = conn.recv()
                        if message != "ready":
                            answer = message
            except LoadError as exc:
                log.warning("parse stopped; child killed", extra={"reason": exc.reason})
                self._kill()
                raise
            except (EOFError, OSError):
                self._kill()
                raise LoadError("the parser stopped (out of memory?)") from None
        text, fmt, hidden, error = answer
        if error is not None:
            raise LoadError(error)
        return LoadedDocument(text=text, format=fmt, hidden=tuple(hidden))

    def close(self) -> None:
        with self._lock:
            self._kill()
