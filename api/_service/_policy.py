"""Tenant policy administration: read, versions, push and rollback, each audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ragseal.classification import Classifier, Policy

    from .._policies import InForce, TenantPolicies
    from .._policy_relabel import TenantRelabels
    from ._audit import Auditor, Who

__all__ = ["PolicyOps"]


class PolicyOps:
    """A tenant's policy versions (docs/POLICY.md); the caller says whose tenant.

    Args:
        policies: the tenant policy service (PolicyStoreError when unusable).
        prepare: builds and warms the classifier of a new version before it
            is stored, so an unusable one is refused, never half-applied.
        audit: the audit writer.
        relabels: the background relabels of a server (the CLI relabels in
            the foreground instead, ``api/cli/_policy.py``).
    """

    def __init__(self, *, policies: Callable[[], TenantPolicies],
                 prepare: Callable[[Policy], Classifier], audit: Auditor,
                 relabels: Callable[[], TenantRelabels]) -> None:
        self._policies = policies
        self._prepare = prepare
        self._audit = audit
        self._relabels = relabels

    def __repr__(self) -> str:
        return "PolicyOps()"

    def read(self, who: Who, tenant: str, version: int | None = None) -> InForce:
        """The tenant's policy in force, or one of its versions (0: the base).

        Raises:
            PolicyUnavailable: it cannot be read (audited as failed).
            PolicyVersionNotFound: no such version.
        """
        from .._policies import PolicyUnavailable

        policies = self._policies()
        try:
            found = (policies.in_force(tenant) if version is None
                     else policies.version(tenant, version))
        except PolicyUnavailable:
            self._audit.record("policy_read", who, "failed", reason="policy_unavailable")
            raise
        self._audit.record("policy_read", who, version=found.version)
        return found

    def versions(self, who: Who, tenant: str) -> tuple[list[dict[str, object]], int]:
        """Every version (number, fingerprint, author, time; no text) and the one in force."""
        policies = self._policies()
        listed = policies.history(tenant)
        current = policies.in_force(tenant).version
        self._audit.record("policy_versions", who, versions=len(listed))
        return listed, current

    def push(self, who: Who, tenant: str, text: str) -> tuple[InForce, InForce]:
        """Store ``text`` (YAML or JSON) as the tenant's newest version: (previous, new).

        Raises:
            PolicyRefused: invalid for this tenant (the key path; audited as invalid).
        """
        return self._change("policy_update", who, lambda p: p.push(
            tenant, text, author=who.sub, prepare=self._prepare))

    def rollback(self, who: Who, tenant: str, version: int) -> tuple[InForce, InForce]:
        """Make a copy of ``version`` the tenant's newest version: (previous, new).

        Raises:
            PolicyVersionNotFound: no such version (audited as not found).
        """
        return self._change("policy_rollback", who, lambda p: p.rollback(
            tenant, version, author=who.sub, prepare=self._prepare))

    def relabel_later(self, previous: InForce, new: InForce) -> None:
        """Start the background relabel of the tenant when ``new`` labels chunks differently."""
        from .._policies import reclassify_needed, relabel_needed

        if relabel_needed(previous.policy, new.policy):
            self._relabels().request(
                new.tenant, reclassify=reclassify_needed(previous.policy, new.policy))

    def relabel_status(self, tenant: str) -> dict[str, object]:
        """The tenant's background relabel: state and counts."""
        return self._relabels().status(tenant).as_dict()

    def _change(self, action: str, who: Who,
                change: Callable[[TenantPolicies], tuple[InForce, InForce]]
                ) -> tuple[InForce, InForce]:
        from .._policies import PolicyRefused, PolicyUnavailable, PolicyVersionNotFound

        policies = self._policies()
        self._audit.require()  # no audit trail, no change
        try:
            previous, new = change(policies)
        except PolicyRefused:
            self._audit.record(action, who, "invalid", reason="invalid_policy")
            raise
        except PolicyVersionNotFound:
            self._audit.record(action, who, "not_found")
            raise
        except PolicyUnavailable:
            self._audit.record(action, who, "failed", reason="policy_unavailable")
            raise
        self._audit.record(action, who, version=new.version,
                           previous=previous.policy.fingerprint,
                           fingerprint=new.policy.fingerprint,
                           previous_version=previous.version)
        return previous, new
