"""The access filter, built only from the authenticated principal."""

from __future__ import annotations

from ragseal.classification import Policy
from ragseal.store import AccessFilter

from ._principal import Principal

__all__ = ["access_filter"]


def access_filter(principal: Principal, policy: Policy) -> AccessFilter:
    """What ``principal`` may see, as the engine filters it (CONTRACT.md:
    tenant equal, level <= clearance, groups intersect or sub among users).

    Nothing but the principal and the policy goes in: no caller-supplied
    filter can widen it.
    """
    return AccessFilter(
        tenant=principal.tenant,
        max_level=policy.clearance(principal.roles),
        groups=principal.groups,
        user=principal.sub,
    )
