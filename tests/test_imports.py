"""Each package shows a deliberate face (``__all__``); nobody imports another's insides.

Read from the sources' syntax trees, not by importing them: an import inside
a function or under ``TYPE_CHECKING`` counts the same as one at the top.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "classification", "ingest", "retrieval", "store")
# Who may import whom: api -> retrieval | ingest -> classification | store.
MAY_IMPORT = {
    "api": {"retrieval", "ingest", "classification", "store"},
    "retrieval": {"classification", "store"},
    "ingest": {"classification", "store"},
    "classification": set(),
    "store": set(),
}
# Imports waiting for another change, each with its reason (none left); an
# entry that no longer matches fails too, so the list only shrinks.
PENDING: set[tuple[str, str]] = set()


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, module)`` for every module ``path`` imports, ``from x import _y`` as ``x._y``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                if alias.name.startswith("_"):
                    yield node.lineno, f"{node.module}.{alias.name}"


def _owner(relpath: Path) -> str | None:
    """The package whose insides ``relpath`` may import: its own, or the one its tests test."""
    parts = relpath.parts
    if parts[0] in PACKAGES:
        return parts[0]
    if parts[0] == "tests" and len(parts) > 2 and parts[1] in PACKAGES:
        return parts[1]
    return None


def _private_imports() -> Iterator[tuple[str, int, str]]:
    for folder in (*PACKAGES, "tests", "benchmarks", "scripts", "samples"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT)
            own = _owner(rel)
            for line, module in _imports(path):
                parts = module.split(".")
                if len(parts) < 3 or parts[0] != "ragseal" or parts[1] not in PACKAGES:
                    continue
                if parts[1] == own or not parts[2].startswith("_"):
                    continue
                if parts[1] == "api" and rel.parts[0] != "api" and _owner(rel) is None:
                    continue  # api has no public face of its own yet (engineer "apishape")
                yield rel.as_posix(), line, ".".join(parts[:3])


def test_when_sources_are_read_then_no_file_imports_another_packages_private_module() -> None:
    found = {(path, module) for path, _line, module in _private_imports()}
    offenders = sorted(
        f"{path}:{line}: {module}" for path, line, module in _private_imports()
        if (path, module) not in PENDING
    )
    assert offenders == []
    assert PENDING - found == set(), "a pending import is gone: drop it from PENDING"


def test_when_product_sources_are_read_then_imports_point_one_way() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, module in _imports(path):
                parts = module.split(".")
                if len(parts) < 2 or parts[0] != "ragseal" or parts[1] not in PACKAGES:
                    continue
                if parts[1] != package and parts[1] not in MAY_IMPORT[package]:
                    offenders.append(f"{path.relative_to(ROOT)}:{line}: {module}")
    assert offenders == []


@pytest.mark.parametrize("package", ["classification", "ingest", "retrieval", "store"])
def test_when_a_package_is_imported_then_every_exported_name_exists(package: str) -> None:
    module = importlib.import_module(f"ragseal.{package}")
    exported = module.__all__
    assert len(exported) == len(set(exported))
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == []
    assert all(not name.startswith("_") for name in exported)
