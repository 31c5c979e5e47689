"""Fixtures for the whole suite."""

from __future__ import annotations

import os

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
