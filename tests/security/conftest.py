"""The sample-corpus world of the end-to-end tests, for the attack suite.

Re-exported rather than rebuilt by hand: the same real ingest (both sample
tenants) that ``tests/e2e`` uses.
"""

from __future__ import annotations

from tests.e2e.conftest import JWT_SECRET, World, world

__all__ = ["JWT_SECRET", "World", "world"]
