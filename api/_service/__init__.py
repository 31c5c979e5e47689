"""The service layer: every operation the CLI and the HTTP routes share.

Both front ends are thin adapters over these classes (parse, call, render);
each operation writes its own audit record, once, where it happens, so the
CLI and the API can no longer drift (the CLI's retrieve record lacked
``retrieval_hash``; its ingest records were written after the whole run).

:func:`build_operations` assembles one of each over the composition root's
collaborators (:class:`~ragseal.api._container.Services`, or a test's stub):
the CLI uses ``Services.ops``, the app builds ``app.state.ops`` in its
lifespan and the routes receive each operation through its own ``Annotated``
dependency (``api/_routes/_deps.py``). Callers pass who acts: a verified
:class:`~ragseal.retrieval.Principal` (HTTP, ``ragseal query``) or an
operator :class:`~ragseal.store.Actor` (``cli:<OS user>``).

::

    Auditor        one audit record, with the policy fingerprint     _audit
    RetrievalOps   retrieve, inspect                                 _retrieval
    DocumentOps    delete, the records of an ingest as it commits    _documents
    QuarantineOps  list, release, add                                _quarantine
    PolicyOps      read, versions, push/rollback                     _policy
    KeyOps         rotate, retire, status                            _keys

Errors (in the tree, ``ragseal/_errors.py``): :class:`DocumentNotFound`,
:class:`NothingQuarantined` (not found), :class:`QueryTooLong` (invalid input).
"""

from ._audit import Auditor, Who
from ._build import Operations, build_operations
from ._documents import DocumentOps
from ._errors import DocumentNotFound, NothingQuarantined, NotInTenant, QueryTooLong
from ._keys import KeyOps
from ._policy import PolicyOps
from ._quarantine import QuarantineOps
from ._retrieval import RetrievalOps, Retrieved

__all__ = [
    "Auditor",
    "DocumentNotFound",
    "DocumentOps",
    "KeyOps",
    "NotInTenant",
    "NothingQuarantined",
    "Operations",
    "PolicyOps",
    "QuarantineOps",
    "QueryTooLong",
    "RetrievalOps",
    "Retrieved",
    "Who",
    "build_operations",
]
