"""Assembling the service layer from the composition root's collaborators."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._audit import Auditor
from ._documents import DocumentOps
from ._keys import KeyOps
from ._policy import PolicyOps
from ._quarantine import QuarantineOps
from ._retrieval import RetrievalOps

if TYPE_CHECKING:
    from .._container import Services
    from .._cores import CorePool
    from .._settings import Settings

__all__ = ["Operations", "build_operations"]


@dataclass(frozen=True, slots=True)
class Operations:
    """One of each operation object, sharing one :class:`Auditor`."""

    auditor: Auditor
    retrieval: RetrievalOps
    documents: DocumentOps
    quarantine: QuarantineOps
    policy: PolicyOps
    keys: KeyOps


def build_operations(root: Services, settings: Settings, *, via: str | None = None,
                     pool: Callable[[], CorePool | None] | None = None) -> Operations:
    """The operations over ``root``'s collaborators, each resolved on first use.

    Nothing is opened here: the store, the keys and the models are built by
    ``root`` when an operation first needs them (a CLI command that loads no
    model stays quick). ``via="cli"`` marks the retrieve and inspect records.
    ``pool`` gives the server's worker processes for retrieve and inspect
    (``api/_cores.py``), read at each call; ``None`` (or no pool): in process.
    """
    auditor = Auditor(lambda: root.audit, lambda: root.policy.fingerprint)
    return Operations(
        auditor=auditor,
        retrieval=RetrievalOps(paths=root.for_tenant, store=lambda: root.store,
                               ids=lambda: root.ids, audit=auditor,
                               max_query_chars=settings.max_query_chars,
                               max_top_k=settings.max_top_k, via=via, pool=pool),
        documents=DocumentOps(erase=root.erase, tenant_of=lambda d: root.keys.tenant_of(d),
                              ids=lambda: root.ids, audit=auditor),
        quarantine=QuarantineOps(store=lambda: root.store, ids=lambda: root.ids, audit=auditor,
                                 source_of=lambda t, d: root.ingestor.source_of(t, d)),
        policy=PolicyOps(policies=lambda: root.policies,
                         prepare=lambda p: root.classifier_for(p), audit=auditor,
                         relabels=lambda: root.relabels),
        keys=KeyOps(keys=lambda: root.keys, audit=auditor),
    )
