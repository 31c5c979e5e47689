"""Errors of the vector store layer."""

from __future__ import annotations

from ragseal import UnavailableError

__all__ = ["StoreError", "StoreLocked"]


class StoreError(UnavailableError):
    """The vector engine failed or is unusable.

    Messages name the store (path or collection) and the fix; they never hold
    document text, vectors or payload values.
    """


class StoreLocked(StoreError):
    """The embedded store's directory lock is held by another process."""
