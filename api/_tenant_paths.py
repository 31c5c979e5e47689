"""The three paths (ingest, retrieve, inspect) of one tenant at one policy version.

Built by :meth:`Services.for_tenant` and cached per ``(tenant, version,
fingerprint)``: a new version of a tenant's policy gets new paths, the
other tenants keep theirs. A tenant still on the base policy gets the
Services' own base paths, so nothing is built twice. The heavy parts (the
embedder, the store, the keys, spaCy) are shared by every tenant; a
classifier is built once per policy fingerprint.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from ragseal.ingest import Ingestor
from ragseal.retrieval import Inspector, Retriever

if TYPE_CHECKING:
    from ragseal.classification import Classifier, Policy

    from ._container import Services
    from ._policies import InForce

__all__ = ["TenantPaths"]


class TenantPaths:
    """What a request of one tenant runs through, under its policy in force."""

    def __init__(self, services: Services, current: InForce) -> None:
        self._svc = services
        self.current = current

    def __repr__(self) -> str:
        return (f"TenantPaths(tenant={self.current.tenant!r}, version={self.current.version}, "
                f"policy={self.policy.fingerprint})")

    @property
    def policy(self) -> Policy:
        return self.current.policy

    @property
    def version(self) -> int:
        return self.current.version

    def _is_base(self) -> bool:
        return self.current.version == 0 and self.policy is self._svc.policy

    @cached_property
    def classifier(self) -> Classifier:
        return self._svc.classifier_for(self.policy)

    @cached_property
    def ingestor(self) -> Ingestor:
        svc = self._svc
        if self._is_base():
            ingestor = svc.ingestor
        else:
            ingestor = Ingestor(
                policy=self.policy, classifier=self.classifier, chunker=svc.chunker,
                embedder=svc.embedder, store=svc.store, keys=svc.keys, ids=svc.ids,
                pseudonyms=svc.pseudonyms, fingerprints=svc.fingerprints,
                policy_version=self.version,
            )
        return ingestor

    @cached_property
    def retriever(self) -> Retriever:
        svc = self._svc
        if self._is_base():
            return svc.retriever
        policy = self.policy
        return Retriever(
            policy=lambda: policy, classifier=self.classifier, embedder=svc.embedder,
            store=svc.store, keys=svc.keys, pseudonyms=svc.pseudonyms,
            retrieval_ids=svc.retrieval_ids,
        )

    @cached_property
    def inspector(self) -> Inspector:
        svc = self._svc
        if self._is_base():
            return svc.inspector
        policy = self.policy
        return Inspector(
            policy=lambda: policy, classifier=self.classifier, pseudonyms=svc.pseudonyms,
            retrieval_ids=svc.retrieval_ids, store=svc.store, keys=svc.keys,
            fingerprints=svc.fingerprints,
        )
