"""The composition root: builds every collaborator once, from Settings.

The CLI and the server both build a :class:`Services`; nothing is created at
import time. Heavy parts (Presidio and spaCy, the embedding model, the
store) are built on first use, or all at once by :meth:`Services.warm_up`
(the server does that in its lifespan, so the first request is not slow).
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import TYPE_CHECKING

from ragseal.classification import Policy, Pseudonymizer, ensure_offline
from ragseal.ingest import Ingestor, erase_document
from ragseal.retrieval import Inspector, RetrievalIds, Retriever
from ragseal.store import AuditLog, Fingerprinter, IdHasher, LocalKeyring, VectorStore

from ._service import Operations, build_operations
from ._settings import Settings

if TYPE_CHECKING:
    from ragseal.classification import Classifier
    from ragseal.ingest import Chunker, Embedder
    from ragseal.store.postgres import PgAuditLog, PgKeyring

    from ._policies import InForce, TenantPolicies
    from ._policy_relabel import TenantRelabels
    from ._tenant_paths import TenantPaths

__all__ = ["Services"]

log = logging.getLogger(__name__)


class Services:
    """Everything a command or a request needs, built lazily from ``settings``."""

    def __init__(self, settings: Settings, *, policy: Policy | None = None,
                 beside_server: bool = False, via: str | None = None) -> None:
        ensure_offline()
        self.settings = settings
        # "cli": the records of retrieve and inspect say they came from the CLI.
        self.via = via
        # A CLI command may use a running server's store through its socket;
        # the server itself must own the store (docs/ARCHITECTURE.md).
        self.beside_server = beside_server
        self._policy = policy if policy is not None else self._load_policy()
        self._lock = threading.RLock()
        self._tenant_paths: dict[tuple[str, int, str], TenantPaths] = {}
        self._classifiers: dict[str, Classifier] = {}

    def __repr__(self) -> str:
        return f"Services(data_dir={str(self.settings.data_dir)!r})"

    def _load_policy(self) -> Policy:
        from ._policies import base_policy

        return base_policy(self.settings.policy)

    # -- policy -------------------------------------------------------------
    @property
    def policy(self) -> Policy:
        return self._policy

    def set_policy(self, policy: Policy) -> None:
        """Swap the policy (and the classifier built for it) atomically.

        The new classifier is built and warmed before anything is swapped,
        so a failure leaves the old policy in force.
        """
        from ragseal.classification import Classifier

        classifier = Classifier(policy)
        classifier.warm_up()
        with self._lock:
            self._policy = policy
            self.__dict__["classifier"] = classifier
            for name in ("ingestor", "retriever", "inspector"):
                self.__dict__.pop(name, None)
            self._tenant_paths.clear()
            if "policies" in self.__dict__:
                self.policies.set_base(policy)
        log.info("policy replaced", extra={"policy": policy.fingerprint})

    # -- per tenant (docs/POLICY.md) ----------------------------------------
    @cached_property
    def policies(self) -> TenantPolicies:
        """Each tenant's policy in force: the base, or its newest stored version."""
        from ._control_plane import open_policy_store
        from ._policies import TenantPolicies

        policies = TenantPolicies(self._policy, open_policy_store(self.settings),
                                  recheck=self.settings.policy_recheck_seconds)
        policies.on_change = self._policy_changed
        return policies

    @cached_property
    def relabels(self) -> TenantRelabels:
        """Background relabels after a tenant policy change (docs/POLICY.md)."""
        from ._policy_relabel import TenantRelabels

        return TenantRelabels(self)

    def _policy_changed(self, previous: InForce, new: InForce) -> None:
        """A version another process stored: relabel here too (idempotent)."""
        from ._policies import reclassify_needed, relabel_needed

        if relabel_needed(previous.policy, new.policy):
            self.relabels.request(new.tenant,
                                  reclassify=reclassify_needed(previous.policy, new.policy))

    def policy_for(self, tenant: str) -> Policy:
        """The policy in force for ``tenant`` (PolicyUnavailable: fail closed)."""
        return self.policies.in_force(tenant).policy

    def classifier_for(self, policy: Policy) -> Classifier:
        """One warm classifier per policy fingerprint (spaCy is shared by all)."""
        if policy.fingerprint == self._policy.fingerprint:
            return self.classifier
        with self._lock:
            found = self._classifiers.get(policy.fingerprint)
        if found is None:
            from ragseal.classification import Classifier

            found = Classifier(policy)
            found.warm_up()
            with self._lock:
                if len(self._classifiers) >= 32:  # bounded: drop the oldest
                    self._classifiers.pop(next(iter(self._classifiers)))
                found = self._classifiers.setdefault(policy.fingerprint, found)
        return found

    def for_tenant(self, tenant: str) -> TenantPaths:
        """Ingest, retrieve and inspect paths under ``tenant``'s policy in force."""
        from ._tenant_paths import TenantPaths

        current = self.policies.in_force(tenant)
        key = (tenant, current.version, current.policy.fingerprint)
        with self._lock:
            found = self._tenant_paths.get(key)
            if found is None:
                if len(self._tenant_paths) >= 256:
                    self._tenant_paths.pop(next(iter(self._tenant_paths)))
                found = self._tenant_paths[key] = TenantPaths(self, current)
        return found

    # -- keys and ids -----------------------------------------------------
    @cached_property
    def keys(self) -> LocalKeyring | PgKeyring:
        """Keyring folder, or the shared control plane (``RAGSEAL_DATABASE_URL``)."""
        from ._control_plane import open_keyring

        return open_keyring(self.settings)

    @cached_property
    def ids(self) -> IdHasher:
        return IdHasher(self.keys.secret("ids"))

    @cached_property
    def pseudonyms(self) -> Pseudonymizer:
        return Pseudonymizer(self.keys.secret("pseudonyms"))

    @cached_property
    def fingerprints(self) -> Fingerprinter:
        return Fingerprinter(self.keys.secret("fingerprints"))

    @cached_property
    def retrieval_ids(self) -> RetrievalIds:
        return RetrievalIds(self.keys.secret("retrieval-ids"), self.settings.retrieval_id_ttl)

    @cached_property
    def audit(self) -> AuditLog | PgAuditLog:
        """This process's audit chain under ``data_dir/audit``, or in the shared
        control plane (docs/AUDIT.md, docs/CONTROL-PLANE.md)."""
        from ._control_plane import open_audit

        return open_audit(self.settings, self.keys.secret("audit-seal"))

    # -- models and store -------------------------------------------------
    @cached_property
    def classifier(self) -> Classifier:
        from ragseal.classification import Classifier

        classifier = Classifier(self._policy)
        classifier.warm_up()
        return classifier

    @cached_property
    def embedder(self) -> Embedder:
        from ragseal.ingest import Embedder

        embedder = Embedder()
        embedder.warm_up()
        return embedder

    @cached_property
    def chunker(self) -> Chunker:
        from ragseal.ingest import Chunker

        return Chunker()

    @cached_property
    def store(self) -> VectorStore:
        from ragseal.store import open_store

        s = self.settings
        return open_store(
            data_dir=s.data_dir,
            qdrant_url=s.qdrant_url,
            qdrant_api_key=s.qdrant_api_key.get_secret_value() if s.qdrant_api_key else None,
            collection=s.collection,
            beside_owner=self.beside_server,
        )

    # -- the three paths --------------------------------------------------
    @cached_property
    def ingestor(self) -> Ingestor:
        from ._deferred import DeferredClassifier, DeferredEmbedder

        # Deferred: an unchanged file needs no model (issue 20, item 8).
        return Ingestor(
            policy=self._policy,
            classifier=DeferredClassifier(lambda: self.classifier),
            chunker=self.chunker,
            embedder=DeferredEmbedder(lambda: self.embedder),
            store=self.store,
            keys=self.keys,
            ids=self.ids,
            pseudonyms=self.pseudonyms,
            fingerprints=self.fingerprints,
        )

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(
            policy=lambda: self._policy,
            classifier=self.classifier,
            embedder=self.embedder,
            store=self.store,
            keys=self.keys,
            pseudonyms=self.pseudonyms,
            retrieval_ids=self.retrieval_ids,
        )

    @cached_property
    def inspector(self) -> Inspector:
        return Inspector(
            policy=lambda: self._policy,
            classifier=self.classifier,
            pseudonyms=self.pseudonyms,
            retrieval_ids=self.retrieval_ids,
            store=self.store,
            keys=self.keys,
            fingerprints=self.fingerprints,
        )

    # -- the service layer (api/_service): what the CLI and the routes call --
    @cached_property
    def ops(self) -> Operations:
        return build_operations(self, self.settings, via=self.via)

    def erase(self, tenant: str, doc_id: str) -> bool:
        """Crypto-shred a document and delete its points (no model loaded)."""
        return erase_document(self.store, self.keys, tenant, doc_id)

    def warm_up(self) -> None:
        """Build everything now (server start): fail at startup, not on a request."""
        _ = (self.keys, self.audit, self.store, self.classifier, self.embedder, self.ingestor,
             self.retriever, self.inspector, self.policies)

    def close(self) -> None:
        try:
            if "audit" in self.__dict__:
                self.audit.close()  # the shutdown seal
        finally:
            if "store" in self.__dict__:
                self.store.close()
            if "keys" in self.__dict__:
                self.keys.close()
            if "policies" in self.__dict__:
                self.policies.store.close()
