"""The one exception tree of ragseal.

Every error ragseal raises on purpose is a :class:`RagsealError`. Four
categories say what kind of failure it is, and so how each front end maps
it: the CLI once (``ragseal.api.cli._errors``: exit status and the one
line), HTTP once (``ragseal.api._errors``: status and error code). A class
that callers already caught as a builtin keeps that base too (``PolicyError``
is still a ``ValueError``), so no ``except`` changes meaning.

Why here, in the root package: ``classification`` and ``store`` are both at
the bottom of the import graph and neither imports the other; the root
package is the one module every subpackage already imports (``import
ragseal.store`` runs ``ragseal/__init__.py`` first), so the tree adds no
edge to the graph.

Messages name the component and the fix; they never hold document text, a
query, a token or a key (``str(exc)`` may reach a terminal or a log).

The tree (module of each class in brackets)::

    RagsealError
    +-- InvalidInputError          bad input or usage: CLI 2, HTTP 422
    |   +-- ConfigError(ValueError)             [api._settings]
    |   +-- UsageError                          [api.cli._errors]  (was UsageProblem)
    |   +-- PolicyError(ValueError)             [classification._policy]
    |   +-- PolicyRefused(ValueError)           [api._policies]
    |   +-- UnsafeInputError(ValueError)        [classification._safe_parse]
    |   |   +-- NotJsonError
    |   +-- EvalInputError(ValueError)          [classification._eval]
    |   +-- ManifestError(ValueError)           [ingest._manifest]
    |   +-- LoadError                           [ingest._loaders]
    |   +-- IngestError                         [ingest._pipeline]
    |   +-- RetrievalIdError                    [retrieval._retrieval_id]
    |   +-- DetectorError(RuntimeError)         [classification._errors]
    |   +-- QueryTooLong                        [api._service]
    +-- NotFoundError              no such thing (or not yours): CLI 2, HTTP 404
    |   +-- PolicyVersionNotFound(LookupError)  [api._policies]
    |   +-- DocumentNotFound                    [api._service]
    |   |   +-- NotInTenant                     (CLI 1)
    |   +-- NothingQuarantined                  [api._service]    (CLI 1)
    +-- UnavailableError           a component cannot serve now: CLI 2, HTTP 503
    |   +-- StoreError                          [store._errors]
    |   |   +-- StoreLocked
    |   |   +-- ControlPlaneUnavailable         [store.postgres._db]
    |   +-- KeyringError                        [store._keyring]
    |   |   +-- DataKeyNotFound
    |   |   +-- KeyUsageExceeded
    |   +-- AuditError                          [store._audit]
    |   +-- PolicyStoreError                    [store._policy_store]
    |   +-- PolicyUnavailable                   [api._policies]
    +-- SealError                  a sealed value does not open (opaque)   [store._sealing]
    +-- PayloadError(ValueError)   a stored point is not a chunk payload   [store._stored]
    +-- AuthError                  a token refused (the edge answers 401)  [api._auth]
    +-- ApiError                   an HTTP answer chosen by a route        [api._errors]
    +-- CommandFailed              a CLI command's own exit status + line  [api.cli._errors]
"""

from __future__ import annotations

__all__ = [
    "InvalidInputError",
    "NotFoundError",
    "RagsealError",
    "UnavailableError",
]


class RagsealError(Exception):
    """Base of every error ragseal raises on purpose (see the tree above)."""


class InvalidInputError(RagsealError):
    """The caller's input (arguments, a file, a policy, a request) cannot be used."""


class NotFoundError(RagsealError):
    """The thing asked for does not exist, or is not the caller's to see."""


class UnavailableError(RagsealError):
    """A component (store, keyring, audit trail, policy store, models) cannot serve now."""
