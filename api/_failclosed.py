"""Failures of the key provider and the store answer 503 with the error body, never 500.

A red-team run corrupted ``keyring.db`` under a running server: every
request that opened a key became a bare 500 while ``/healthz`` kept saying
ok (the check used a cached key-encryption key). The keyring now turns any
SQLite damage into :class:`~ragseal.store.KeyringError` and checks itself
from disk (``LocalKeyring.check``: integrity check, the active KEK and every
installation secret opened afresh), ``/healthz`` answers 503 on it, start-up
refuses with one line, and here every request that meets it is refused
closed: 503 ``keys_unavailable`` (or ``store_unavailable``), nothing served.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from ragseal.store import KeyringError, StoreError

from ._errors import error_response

__all__ = ["install_fail_closed"]

log = logging.getLogger(__name__)


async def _on_keyring_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("key provider unavailable; request refused",
              extra={"error_type": type(exc).__name__})
    return error_response(503, "keys_unavailable",
                          "the key provider is unavailable; the request was not served",
                          headers={"Retry-After": "30"})


async def _on_store_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("store unavailable; request refused", extra={"error_type": type(exc).__name__})
    return error_response(503, "store_unavailable",
                          "the vector store is unavailable; the request was not served",
                          headers={"Retry-After": "30"})


def install_fail_closed(app: FastAPI) -> None:
    """Map key-provider and store failures to 503 with the contract's error body."""
    app.add_exception_handler(KeyringError, _on_keyring_error)
    app.add_exception_handler(StoreError, _on_store_error)
