"""The policy in force per tenant: versions, cache, validation (docs/POLICY.md).

:class:`TenantPolicies` joins the base policy (``RAGSEAL_POLICY`` or the
bundled one: version 0 of every tenant) with the tenant versions of a
:class:`~ragseal.store.PolicyStore`. It is the one place that decides which
policy a tenant's request runs under; the HTTP routes and the CLI are thin
adapters over it.

Freshness: a tenant's policy is cached, and the cache is checked against the
store's newest version number at most every ``recheck`` seconds (1 s by
default), so a version pushed by the CLI or by another replica applies in
every process within a couple of seconds (the contract says 5).

Fail closed: a tenant whose newest version cannot be read or parsed (a
damaged store, a policy a newer ragseal wrote) gets :class:`PolicyUnavailable`
for every request, never the base or an older, possibly looser version.

Errors::

    PolicyUnavailable      the tenant's policy cannot be read (503)
    PolicyRefused          a new version is invalid for this tenant (422)
    PolicyVersionNotFound  no such version (404)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ragseal.classification import (
    Policy,
    PolicyError,
    decode_policy_text,
    default_policy,
    load_policy,
    parse_policy,
)
from ragseal.store import PolicyStore, PolicyStoreError, PolicyVersion

from ragseal import InvalidInputError, NotFoundError, UnavailableError

__all__ = [
    "InForce",
    "PolicyRefused",
    "PolicyUnavailable",
    "PolicyVersionNotFound",
    "TenantPolicies",
    "base_policy",
    "parse_tenant_text",
    "reclassify_needed",
    "relabel_needed",
]

log = logging.getLogger(__name__)


class PolicyUnavailable(UnavailableError):
    """The tenant's policy cannot be read: its requests fail (never a looser policy)."""

    def __init__(self) -> None:
        super().__init__("the tenant's policy cannot be read; an operator must repair "
                         "or roll back the policy store")


class PolicyRefused(InvalidInputError, ValueError):
    """A new version is invalid; the message names the key path."""


class PolicyVersionNotFound(NotFoundError, LookupError):
    """No such version of the tenant's policy."""


@dataclass(frozen=True, slots=True)
class InForce:
    """A tenant's policy at one version (0: the base policy)."""

    tenant: str
    version: int
    policy: Policy
    author: str | None = None
    created: float | None = None

    def meta(self) -> dict[str, object]:
        return {"version": self.version, "fingerprint": self.policy.fingerprint,
                "author": self.author, "created": self.created}


# What GET /v1/policy adds to the policy: a steward may PUT that answer back.
_ANSWER_KEYS = ("version", "fingerprint", "relabel", "previous_version")


def base_policy(chosen: Path | None, *, notes: list[str] | None = None) -> Policy:
    """The base policy: the file ``RAGSEAL_POLICY`` names, else the bundled default.

    The one place that choice is made (the composition root, ``serve``'s early
    check, ``eval``, ``policy check``). ``chosen`` is ``Settings.policy`` or a
    file given on the command line; ``notes`` receives what the floor adds.

    Raises:
        PolicyError: the file is missing or invalid (the message has the key path).
    """
    if chosen is not None:
        return load_policy(chosen, notes=notes)
    return default_policy()


def parse_tenant_text(text: str) -> Policy:
    """Parse a tenant version's text (YAML or JSON), ignoring GET's answer keys."""
    data = decode_policy_text(text)
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in _ANSWER_KEYS}
    return parse_policy(data)


def reclassify_needed(old: Policy, new: Policy) -> bool:
    """Whether ``new`` may find spans ``old`` did not: new entity types, other
    custom recognizers, or a lower score threshold. Stored spans were found
    under ``old``; such a change classifies the stored chunks again."""
    if set(new.entity_rules) - set(old.entity_rules) or new.recognizers != old.recognizers:
        return True
    return any(new.threshold(e) < old.threshold(e) for e in new.entity_rules)


def relabel_needed(old: Policy, new: Policy) -> bool:
    """Whether chunks stored under ``old`` may carry another level under ``new``:
    levels, gates (entity levels, gate flags, thresholds), markers, or what is
    detected changed."""
    if old.levels != new.levels or old.markers != new.markers:
        return True
    if reclassify_needed(old, new):
        return True
    entities = set(old.entity_rules) | set(new.entity_rules)
    for e in entities:
        a, b = old.entity_rule(e), new.entity_rule(e)
        if (a.gate or b.gate) and (a.gate != b.gate or a.level != b.level
                                   or old.threshold(e) != new.threshold(e)):
            return True
    return False


class TenantPolicies:
    """The base policy plus each tenant's stored versions, cached per tenant."""

    def __init__(self, base: Policy, store: PolicyStore, *, recheck: float = 1.0) -> None:
        self._base = base
        self._store = store
        self._recheck = recheck
        self._lock = threading.Lock()
        # tenant -> (monotonic time of the last head check, policy in force)
        self._cache: dict[str, tuple[float, InForce]] = {}
        # Called (previous, new) when a check finds a version another process
        # stored; the server relabels the tenant's chunks from it.
        self.on_change: Callable[[InForce, InForce], None] | None = None

    def __repr__(self) -> str:
        return f"TenantPolicies(base={self._base.fingerprint}, tenants={len(self._cache)})"

    @property
    def base(self) -> Policy:
        return self._base

    @property
    def store(self) -> PolicyStore:
        return self._store

    def set_base(self, policy: Policy) -> None:
        """Replace the base policy of this process (tests, a reloaded file)."""
        with self._lock:
            self._base = policy
            self._cache.clear()

    def forget(self, tenant: str) -> None:
        """Drop the cached version of ``tenant``: the next :meth:`in_force` rereads
        the store (a serving worker told of a newer version by the server)."""
        with self._lock:
            self._cache.pop(tenant, None)

    # -- reading ----------------------------------------------------------
    def _parse(self, stored: PolicyVersion) -> InForce:
        try:
            policy = parse_tenant_text(stored.text)
        except PolicyError:
            log.error("stored tenant policy does not parse",
                      extra={"tenant": stored.tenant, "version": stored.version})
            raise PolicyUnavailable() from None
        if policy.levels != self._base.levels:
            log.error("stored tenant policy has other levels than the base",
                      extra={"tenant": stored.tenant, "version": stored.version})
            raise PolicyUnavailable()
        return InForce(stored.tenant, stored.version, policy, stored.author, stored.created)

    def in_force(self, tenant: str) -> InForce:
        """The tenant's newest version (cached; rechecked every ``recheck`` s)."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(tenant)
            if cached is not None and now - cached[0] < self._recheck:
                return cached[1]
        try:
            head = self._store.head(tenant)
            if cached is not None and cached[1].version == head:
                found = cached[1]
            elif head == 0:
                found = InForce(tenant, 0, self._base)
            else:
                stored = self._store.get(tenant, head)
                if stored is None:
                    raise PolicyUnavailable()
                found = self._parse(stored)
        except PolicyStoreError:
            log.error("tenant policy store unreadable", extra={"tenant": tenant})
            with self._lock:
                self._cache.pop(tenant, None)
            raise PolicyUnavailable() from None
        except PolicyUnavailable:
            with self._lock:
                self._cache.pop(tenant, None)
            raise
        with self._lock:
            self._cache[tenant] = (now, found)
        if cached is not None and found.version > cached[1].version and self.on_change:
            self.on_change(cached[1], found)
        return found

    def version(self, tenant: str, version: int) -> InForce:
        """One version of the tenant's policy (0: the base)."""
        if version == 0:
            return InForce(tenant, 0, self._base)
        try:
            stored = self._store.get(tenant, version) if version > 0 else None
        except PolicyStoreError:
            raise PolicyUnavailable() from None
        if stored is None:
            raise PolicyVersionNotFound(f"no version {version} of this tenant's policy")
        return self._parse(stored)

    def history(self, tenant: str) -> list[dict[str, object]]:
        """Every version, oldest first, the base (0) included; no policy text."""
        try:
            stored = self._store.versions(tenant)
        except PolicyStoreError:
            raise PolicyUnavailable() from None
        base = {"version": 0, "fingerprint": self._base.fingerprint, "author": None,
                "created": None}
        return [base, *(v.meta() for v in stored)]

    # -- writing ----------------------------------------------------------
    def validate(self, text: str) -> Policy:
        """Parse ``text`` as a tenant version; :class:`PolicyRefused` with a key path."""
        try:
            policy = parse_tenant_text(text)
        except PolicyError as exc:
            raise PolicyRefused(str(exc)) from None
        if policy.levels != self._base.levels:
            raise PolicyRefused(
                f"levels: must equal the base policy's levels {list(self._base.levels)} "
                "(stored chunks are labelled with them)")
        from ragseal.classification import unsupported_entities

        missing = unsupported_entities(policy)
        if missing:
            raise PolicyRefused(f"entities.{missing[0]}: no built-in recognizer for this "
                                "entity type (define it under recognizers)")
        return policy

    def push(self, tenant: str, text: str, author: str,
             prepare: Callable[[Policy], object] | None = None) -> tuple[InForce, InForce]:
        """Store ``text`` as the tenant's next version; (previous, new).

        ``prepare`` (e.g. build and warm the policy's classifier) runs before
        anything is stored: a policy whose detectors cannot be built is
        refused, never stored to fail every request of the tenant later.
        """
        policy = self.validate(text)
        if prepare is not None:
            try:
                prepare(policy)
            except Exception as exc:  # noqa: BLE001 - any build failure refuses the policy
                log.warning("tenant policy refused at build",
                            extra={"tenant": tenant, "error": exc.__class__.__name__})
                raise PolicyRefused("(root): the policy's detectors could not be built") \
                    from None
        previous = self.in_force(tenant)
        try:
            stored = self._store.add(tenant, text, fingerprint=policy.fingerprint,
                                     author=author)
        except PolicyStoreError:
            raise PolicyUnavailable() from None
        new = InForce(tenant, stored.version, policy, stored.author, stored.created)
        with self._lock:
            current = self._cache.get(tenant)
            if current is None or current[1].version < new.version:
                self._cache[tenant] = (time.monotonic(), new)
        log.info("tenant policy version stored",
                 extra={"tenant": tenant, "version": new.version,
                        "policy": policy.fingerprint, "previous": previous.policy.fingerprint})
        return previous, new

    def rollback(self, tenant: str, version: int, author: str,
                 prepare: Callable[[Policy], object] | None = None) -> tuple[InForce, InForce]:
        """Make a copy of ``version`` the newest; (previous, new)."""
        if version == 0:
            text = _base_text(self._base)
        else:
            try:
                stored = self._store.get(tenant, version) if version > 0 else None
            except PolicyStoreError:
                raise PolicyUnavailable() from None
            if stored is None:
                raise PolicyVersionNotFound(f"no version {version} of this tenant's policy")
            text = stored.text
        return self.push(tenant, text, author, prepare)


def _base_text(policy: Policy) -> str:
    import json

    return json.dumps(policy.to_json(), indent=1, sort_keys=True)
