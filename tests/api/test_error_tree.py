"""One exception tree under RagsealError, mapped once for the CLI and once for HTTP."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import ragseal
from ragseal import InvalidInputError, NotFoundError, RagsealError, UnavailableError

_PACKAGES = ("api", "classification", "ingest", "retrieval", "store")


def _product_exceptions() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for package in _PACKAGES:
        pkg = importlib.import_module(f"ragseal.{package}")
        for info in pkgutil.walk_packages(pkg.__path__, f"ragseal.{package}."):
            if info.name.endswith(".__main__"):
                continue  # running it would run the CLI
            module = importlib.import_module(info.name)
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if (issubclass(obj, Exception) and obj.__module__ == info.name
                        and obj.__module__.startswith("ragseal.")):
                    found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[name] for name in sorted(found)]


# Private helpers that never leave their module, or that subclass a library's
# exception on purpose (Starlette's HTTPException for the body limit).
_OUTSIDE = {"_TooLarge", "_JwksError"}


def test_when_product_modules_are_walked_then_every_exception_is_a_ragseal_error() -> None:
    outside = [e.__qualname__ for e in _product_exceptions()
               if not issubclass(e, RagsealError) and e.__qualname__ not in _OUTSIDE]
    assert outside == []


@pytest.mark.parametrize(("name", "builtin"), [
    ("ragseal.classification.PolicyError", ValueError),
    ("ragseal.classification.DetectorError", RuntimeError),
    ("ragseal.ingest.ManifestError", ValueError),
    ("ragseal.api._settings.ConfigError", ValueError),
    ("ragseal.api._policies.PolicyVersionNotFound", LookupError),
])
def test_when_an_error_was_caught_as_a_builtin_then_it_still_is(name: str,
                                                                builtin: type) -> None:
    module, _, attr = name.rpartition(".")
    kind = getattr(importlib.import_module(module), attr)
    assert issubclass(kind, RagsealError) and issubclass(kind, builtin)


def test_when_the_root_package_is_imported_then_it_exports_the_tree() -> None:
    assert {"RagsealError", "InvalidInputError", "NotFoundError",
            "UnavailableError"} <= set(ragseal.__all__)
    for category in (InvalidInputError, NotFoundError, UnavailableError):
        assert issubclass(category, RagsealError)


def test_when_errors_are_mapped_to_http_then_the_category_decides_unless_named() -> None:
    from ragseal.api._errors import http_error
    from ragseal.retrieval import RetrievalIdError
    from ragseal.store import AuditError, KeyringError

    kinds: tuple[type[RagsealError], ...] = (
        AuditError, KeyringError, InvalidInputError, NotFoundError, UnavailableError,
        RagsealError)
    answers = {kind.__name__: http_error(kind("detail")) for kind in kinds}
    answers["RetrievalIdError"] = http_error(RetrievalIdError())
    assert {n: (a.status, a.code) for n, a in answers.items()} == {
        "AuditError": (503, "audit_unavailable"),
        "KeyringError": (503, "keys_unavailable"),
        "RetrievalIdError": (422, "invalid_retrieval_id"),
        "InvalidInputError": (422, "invalid_request"),
        "NotFoundError": (404, "not_found"),
        "UnavailableError": (503, "unavailable"),
        "RagsealError": (500, "internal"),
    }
    # A fixed message: what the error carried never reaches the client.
    assert all("detail" not in a.message for a in answers.values())


def test_when_errors_are_mapped_for_the_cli_then_the_component_prefixes_the_line() -> None:
    from ragseal.api.cli._errors import CommandFailed, UsageError, exit_line
    from ragseal.classification import PolicyError
    from ragseal.store import StoreError

    assert exit_line(PolicyError("levels: bad")) == (2, "policy: levels: bad")
    assert exit_line(StoreError("store busy")) == (2, "store busy")
    assert exit_line(UsageError("--manifest is required")) == (2, "--manifest is required")
    assert exit_line(CommandFailed(1, "1 file(s) refused")) == (1, "1 file(s) refused")
