"""Fixtures for the whole suite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every test sees no ``RAGSEAL_*`` variable but a private data folder."""
    for name in list(os.environ):
        if name.startswith("RAGSEAL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("RAGSEAL_DATA_DIR", str(tmp_path_factory.mktemp("ragseal-data")))


# The shared control plane's tests (docs/CONTROL-PLANE.md). Read once, before the
# autouse fixture above hides every RAGSEAL_* variable from the tests.
_POSTGRES_URL = os.environ.get("RAGSEAL_TEST_DATABASE_URL")
_POSTGRES_REQUIRED = os.environ.get("RAGSEAL_REQUIRE_POSTGRES") == "1"


@contextmanager
def _postgres_schema() -> Iterator[str]:
    if not _POSTGRES_URL:
        reason = ("PostgreSQL tests need RAGSEAL_TEST_DATABASE_URL "
                  "(run scripts/postgres.sh, or scripts/test.sh which does)")
        if _POSTGRES_REQUIRED:
            pytest.fail(f"RAGSEAL_REQUIRE_POSTGRES=1 but: {reason}")
        pytest.skip(reason)
    import psycopg
    from ragseal.store.postgres import close_all

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in _POSTGRES_URL else "?"
    try:
        yield f"{_POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        close_all()
        with psycopg.connect(_POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose ``search_path`` is a fresh schema, dropped after the test.

    Skips when ``RAGSEAL_TEST_DATABASE_URL`` is unset, and fails instead when
    ``RAGSEAL_REQUIRE_POSTGRES=1`` (scripts/test.sh sets both; CI cannot skip).
    """
    with _postgres_schema() as url:
        yield url


@pytest.fixture(scope="module")
def postgres_url_module() -> Iterator[str]:
    """:func:`postgres_url` shared by a module's tests (e.g. replicas started once)."""
    with _postgres_schema() as url:
        yield url
