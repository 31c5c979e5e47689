"""Structured JSON logs, configured in exactly one place.

Entry points (``ragseal serve``, the CLI's ``-v``) call
:func:`configure_logging`; library modules only ever call
``logging.getLogger(__name__)`` and attach no handlers.

Each record becomes one JSON line: ``time``, ``level``, ``logger``,
``message`` and the ``extra`` fields whose key is on an allow-list of things
that are safe by construction (ids, counts, types, durations, verdicts).
Anything else a caller or a library attaches is dropped, and values are
reduced to scalars and short lists of scalars. An exception is logged as
its type and the traceback's frames (code locations), never its message,
which may quote document text.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import IO

__all__ = ["SAFE_EXTRA_KEYS", "JsonFormatter", "configure_logging"]

SAFE_EXTRA_KEYS = frozenset({
    # ids and labels
    "doc_id", "chunk_id", "tenant", "sub_tenant", "collection", "policy", "model",
    "kid", "kids", "kek_version", "keyring", "path", "index", "level", "format",
    "route", "method", "status", "verdict", "event", "reason", "problem",
    # counts and sizes
    "count", "chunks", "points", "returned", "dropped", "limit", "findings", "texts",
    "segments", "chars", "bytes", "dim", "recognizers", "documents", "reidentified",
    # types
    "entities", "types", "pipes", "error", "error_type",
    # durations and limits
    "ms", "seconds", "timeout_s", "retry_after",
})
"""``extra`` keys that reach the output; every other attribute is dropped."""

_MAX_STR = 200
_MAX_LIST = 50
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_HANDLER_MARK = "_ragseal_handler"
# Libraries that are chatty at DEBUG without saying anything useful to operators.
_QUIET = ("urllib3", "httpx", "httpcore", "filelock", "asyncio", "multipart",
          "python_multipart", "fsspec")


def _safe_value(value: object) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value[:_MAX_STR]
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        return [_safe_value(v) if v is None or isinstance(v, bool | int | float | str)
                else type(v).__name__ for v in items[:_MAX_LIST]]
    return type(value).__name__


class JsonFormatter(logging.Formatter):
    """One JSON object per record; only allow-listed ``extra`` keys."""

    def __init__(self, allowed: frozenset[str] = SAFE_EXTRA_KEYS) -> None:
        super().__init__()
        self._allowed = allowed

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key in self._allowed and key not in _STANDARD_ATTRS:
                entry[key] = _safe_value(value)
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _exc, tb = record.exc_info
            entry["exc_type"] = exc_type.__name__
            entry["traceback"] = "".join(traceback.format_tb(tb)) if tb else ""
        return json.dumps(entry, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (click and pytest swap it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, value: IO[str]) -> None:  # StreamHandler.setStream; stderr stays
        pass


def configure_logging(level: int = logging.WARNING, *, stream: IO[str] | None = None) -> None:
    """Send every logger's records, as JSON lines, to ``stream`` (stderr).

    Idempotent: a second call replaces the handler the first one installed
    (handlers others put on the root logger, e.g. pytest's, are left alone).
    uvicorn's loggers lose their own handlers and propagate here (serve with
    ``log_config=None``).
    """
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, _HANDLER_MARK, False):
            root.removeHandler(old)
    handler: logging.Handler = (logging.StreamHandler(stream) if stream is not None
                                else _StderrHandler())
    handler.setFormatter(JsonFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(level, logging.INFO))
