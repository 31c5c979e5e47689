"""Installed, ragseal owns one import name: ``ragseal``.

The repository keeps the design's top-level folders (``api/``, ``ingest/``,
...); ``pyproject.toml`` maps them into the ``ragseal`` namespace. These
tests build the real wheel and read the real sources.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "classification", "ingest", "retrieval", "store")
_TOP_LEVEL_IMPORT = re.compile(
    rf"^\s*(from|import)\s+({'|'.join(PACKAGES)})(\.|\s|$)", re.MULTILINE)


@pytest.mark.slow
def test_when_wheel_built_then_it_holds_only_the_ragseal_package(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True)
    (wheel,) = tmp_path.glob("ragseal-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"ragseal"}
    for package in PACKAGES:
        assert f"ragseal/{package}/__init__.py" in names
        assert f"ragseal/{package}/py.typed" in names
    assert "ragseal/classification/default_policy.yaml" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "ragseal = ragseal.api.cli:main" in zipfile.ZipFile(wheel).read(
        entry_points).decode()


def test_when_sources_read_then_nothing_imports_a_bare_top_level_package() -> None:
    offenders = []
    for folder in (*PACKAGES, "ragseal", "tests", "benchmarks", "scripts"):
        for path in (ROOT / folder).rglob("*.py"):
            if _TOP_LEVEL_IMPORT.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_when_imported_then_subpackages_live_in_the_ragseal_namespace() -> None:
    import ragseal
    import ragseal.classification
    import ragseal.store

    assert ragseal.classification.__name__ == "ragseal.classification"
    assert Path(ragseal.store.__file__).parent == ROOT / "store"
    assert isinstance(ragseal.__version__, str)
