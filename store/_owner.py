"""The owner's side of the channel: serve a held store on a unix socket.

``ragseal serve`` holds the embedded store's lock; :class:`StoreOwner`
lets CLI commands of the same OS user use that store meanwhile
(``store/_remote.py``). A listener thread accepts connections; each is
checked (SO_PEERCRED: same uid as this process, besides the 0700 folder
and the 0600 socket) and served by its own thread, one request at a time.
The heavy work (parsing, classification, embedding, sealing) stays in the
calling process: only sealed points, vectors and filters cross.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import socket
import stat
import struct
import threading
from collections import OrderedDict
from collections.abc import Iterator
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import _channel as wire
from ._errors import StoreError
from ._private import private_dir
from ._protocol import VectorStore
from ._types import AccessFilter, Hit, Point

__all__ = ["StoreOwner"]

log = logging.getLogger(__name__)
_PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
MAX_CONNECTIONS = 64  # each CLI command holds one


#: Seconds a request that arrived before the store was open waits for it.
READY_TIMEOUT_S = 600.0


class StoreOwner:
    """Serve ``store`` on ``path`` until :meth:`close`.

    Args:
        store: the store this process owns (an open ``EdgeStore``), or
            ``None``: listen now, and let requests wait until :meth:`attach`
            gives the store (a server listens before it opens the store and
            loads its models, so a CLI command started meanwhile waits
            instead of failing).
        path: the socket (``store._channel.socket_path``); its folder is
            created 0700, a stale socket left by a killed owner is replaced
            (one that still answers belongs to a live server: refused).
        collection: name checked in each client's hello.
        dim: vector size checked in each client's hello.
    """

    def __init__(self, store: VectorStore | None, path: Path, *, collection: str,
                 dim: int) -> None:
        self._store = store
        self._ready = threading.Event()
        if store is not None:
            self._ready.set()
        self._path = Path(path)
        self._collection = collection
        self._dim = dim
        self._closed = threading.Event()
        self._conns: set[Connection] = set()
        self._threads: set[threading.Thread] = set()
        self._mutex = threading.Lock()
        private_dir(self._path.parent)
        _remove_stale(self._path)
        old = os.umask(0o177)  # the socket is born 0600: no window before the chmod
        try:
            self._listener = Listener(str(self._path), family="AF_UNIX", backlog=64)
        except OSError as exc:
            raise StoreError(f"cannot listen on {self._path}: {exc.strerror}") from None
        finally:
            os.umask(old)
        os.chmod(self._path, 0o600)
        self._accepter = threading.Thread(target=self._accept_loop, name="store-owner",
                                          daemon=True)
        self._accepter.start()
        log.info("store channel listening", extra={"path": str(self._path)})

    def __repr__(self) -> str:
        return f"StoreOwner(path={str(self._path)!r})"

    @property
    def path(self) -> Path:
        return self._path

    def attach(self, store: VectorStore, *, dim: int | None = None) -> None:
        """Serve ``store`` from now on; requests that waited for it proceed."""
        self._store = store
        if dim is not None:
            self._dim = dim
        self._ready.set()

    def close(self) -> None:
        """Stop accepting, end every connection, remove the socket (idempotent).

        Called before the store is closed: a client in the middle of a
        request gets an error and can rerun (docs/ARCHITECTURE.md).
        """
        if self._closed.is_set():
            return
        self._closed.set()
        self._ready.set()  # requests waiting for a store that never came: answered
        with contextlib.suppress(OSError):
            # Wake the accept(): a connection to ourselves, then close.
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(str(self._path))
        self._accepter.join(timeout=5)
        with contextlib.suppress(OSError):
            self._listener.close()  # unlinks the socket
        with self._mutex:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            _shutdown(conn)
        for thread in threads:
            thread.join(timeout=5)
        log.info("store channel closed", extra={"path": str(self._path)})

    # -- connections ------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                conn = self._listener.accept()
            except OSError:
                if self._closed.is_set():
                    return
                log.warning("store channel accept failed", exc_info=True)
                continue
            if self._closed.is_set():
                conn.close()
                return
            if not _same_user(conn):
                log.warning("store channel refused a peer of another user")
                conn.close()
                continue
            with self._mutex:
                full = len(self._conns) >= MAX_CONNECTIONS
            if full:  # one per running command: this many is a runaway script
                log.warning("store channel refused a connection: too many open",
                            extra={"count": MAX_CONNECTIONS})
                conn.close()
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), name="store-conn",
                                      daemon=True)
            with self._mutex:
                self._conns.add(conn)
                self._threads.add(thread)
            thread.start()

    def _serve(self, conn: Connection) -> None:
        cursors: OrderedDict[int, Iterator[Hit]] = OrderedDict()
        numbers = itertools.count()
        try:
            while not self._closed.is_set():
                try:
                    frame = conn.recv_bytes(wire.MAX_MESSAGE)
                except (EOFError, OSError):
                    return  # peer gone (or killed), frame too long, or shutting down
                reply = self._answer(frame, cursors, numbers)
                try:
                    conn.send_bytes(reply)
                except OSError:
                    return
        finally:
            for it in cursors.values():
                _close_iter(it)
            conn.close()
            with self._mutex:
                self._conns.discard(conn)
                self._threads.discard(threading.current_thread())

    def _answer(self, frame: bytes, cursors: OrderedDict[int, Iterator[Hit]],
                numbers: Iterator[int]) -> bytes:
        if not self._ready.wait(READY_TIMEOUT_S) or self._store is None:
            return _error("the ragseal server did not open its store (stopping or failed); "
                          "run the command again")
        try:
            request = wire.REQUEST.validate_json(frame)
        except ValidationError as exc:
            # Field locations and error types only, never the input values.
            where = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'][:4])}: {e['type']}"
                for e in exc.errors(include_input=False, include_url=False)[:3]
            )
            return _error(f"bad request ({where})")
        try:
            result = self._run(request, cursors, numbers)
        except StoreError as exc:
            return _error(str(exc))
        except Exception as exc:  # noqa: BLE001 - one line back, never a dead channel
            log.warning("store channel request failed", exc_info=True)
            return _error(f"the owner failed ({type(exc).__name__})")
        try:
            return json.dumps({"ok": result}, allow_nan=False,
                              separators=(",", ":")).encode()
        except (TypeError, ValueError):
            return _error("the owner could not encode its answer")

    def _run(self, request: Any, cursors: OrderedDict[int, Iterator[Hit]],
             numbers: Iterator[int]) -> object:
        store = self._store
        assert store is not None  # _answer waited for it
        if isinstance(request, wire.Hello):
            if request.version != wire.PROTOCOL_VERSION:
                raise StoreError("the running server speaks another channel version; "
                                 "use the same ragseal for the CLI and the server")
            if request.collection != self._collection or request.dim != self._dim:
                raise StoreError("the running server serves another collection or vector size")
            return {"pid": os.getpid()}
        if isinstance(request, wire.Upsert):
            store.upsert([Point(p.id, p.vector, p.payload) for p in request.points])
            return None
        if isinstance(request, wire.Search):
            a = request.access
            access = AccessFilter(tenant=a.tenant, max_level=a.max_level,
                                  groups=tuple(a.groups), user=a.user)
            return _hits(store.search(request.vector, access, request.limit,
                                      tags=tuple(request.tags)))
        if isinstance(request, wire.Ids):
            if request.op == "retrieve":
                return _hits(store.retrieve(request.ids))
            store.delete_points(request.ids)
            return None
        if isinstance(request, wire.DocumentPoints):
            return store.document_point_ids(request.tenant, request.doc_id)
        if isinstance(request, wire.KnownTags):
            return sorted(store.known_tags(request.tenant, request.tags))
        if isinstance(request, wire.SetPayload):
            store.set_payload(request.point_id, request.payload)
            return None
        if isinstance(request, wire.Count):
            return store.count()
        if isinstance(request, wire.Fingerprints | wire.Scroll):
            it = iter(store.match_fingerprints(request.tenant, request.fingerprints)
                      if isinstance(request, wire.Fingerprints) else store.scroll(request.tenant))
            number = next(numbers)
            cursors[number] = it
            while len(cursors) > wire.MAX_CURSORS:
                _close_iter(cursors.popitem(last=False)[1])
            return number
        if isinstance(request, wire.Next):
            if request.cursor not in cursors:
                raise StoreError("cursor expired (too many open at once); rerun")
            page = list(itertools.islice(cursors[request.cursor], request.limit))
            done = len(page) < request.limit
            if done:
                _close_iter(cursors.pop(request.cursor))
            return {"hits": _hits(page), "done": done}
        if isinstance(request, wire.CloseCursor):
            if request.cursor in cursors:
                _close_iter(cursors.pop(request.cursor))
            return None
        raise StoreError("unknown operation")  # unreachable: the union is closed


def _hits(hits: list[Hit]) -> list[list[object]]:
    return [[h.id, h.score, dict(h.payload)] for h in hits]


def _error(message: str) -> bytes:
    return json.dumps({"error": message[:500]}).encode()


def _close_iter(it: Iterator[Hit]) -> None:
    close = getattr(it, "close", None)
    if callable(close):
        close()


def _same_user(conn: Connection) -> bool:
    """SO_PEERCRED: the peer runs as this process's uid (root is not let in either)."""
    try:
        with socket.socket(fileno=os.dup(conn.fileno())) as s:
            _pid, uid, _gid = _PEERCRED.unpack(
                s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))
    except OSError:
        return False
    return bool(uid == os.geteuid())


def _shutdown(conn: Connection) -> None:
    """Wake a thread blocked in ``recv_bytes`` on ``conn``."""
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(conn.fileno())) as s:
        s.shutdown(socket.SHUT_RDWR)


def _remove_stale(path: Path) -> None:
    """Remove a socket left by a killed owner; one that answers is a live server's."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise StoreError(f"{path} exists and is not a socket; remove it")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            pass  # refused: nobody listens, the file is stale
        else:
            raise StoreError(f"another ragseal server already serves {path.parent.parent}; "
                             "stop it first")
    path.unlink()
