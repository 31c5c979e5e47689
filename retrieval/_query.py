"""Mask a query the way its principal may search.

An entity in the query whose type the principal may unmask becomes the same
keyed pseudonym the chunks carry (asking about a person finds that person's
chunks); any other becomes the bare type tag, so that a name typed into a
query can never reveal who a masked pseudonym stands for. Type names typed
by hand (``PERSON``, ``[PERSON]``, ``<PERSON>``) are normalised to the same
tag, so "where does PERSON work" and a masked name rank identically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragseal.classification import Policy, Pseudonymizer, TextClassifier, mask

from ._principal import Principal

__all__ = ["MaskedQuery", "mask_query"]


@dataclass(frozen=True)
class MaskedQuery:
    """What is embedded, and the search tags of the entities this principal
    may search by (keyed hashes; see :meth:`Pseudonymizer.search_tag`)."""

    text: str
    tags: tuple[str, ...]

    def __repr__(self) -> str:
        return f"MaskedQuery(len={len(self.text)}, tags={len(self.tags)})"


def _type_tags(policy: Policy) -> re.Pattern[str]:
    names = "|".join(sorted((re.escape(n) for n in policy.entity_rules), key=len, reverse=True))
    return re.compile(rf"(?<![\w<\[{{])[<\[{{]?({names})[>\]}}]?(?![\w>\]}}])")


def mask_query(
    query: str,
    principal: Principal,
    policy: Policy,
    classifier: TextClassifier,
    pseudonyms: Pseudonymizer,
) -> MaskedQuery:
    """The text to embed for ``query`` on behalf of ``principal``, and its tags."""
    findings = classifier.classify(query).findings
    entitled = [f for f in findings if policy.may_unmask(principal.roles, f.entity)]
    masked = mask(
        query,
        findings,
        policy,
        pseudonyms,
        principal.tenant,
        bare=lambda f: not policy.may_unmask(principal.roles, f.entity),
    ).text
    tags = tuple(sorted({
        pseudonyms.search_tag(principal.tenant, f.entity, query[f.start : f.end])
        for f in entitled
    }))
    if policy.entity_rules:
        masked = _type_tags(policy).sub(lambda m: f"<{m.group(1)}>", masked)
    return MaskedQuery(masked, tags)
