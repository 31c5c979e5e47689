"""Keyword markers: phrases that raise the level of the whole document.

A phrase matches as a whole phrase (not inside a longer word), ignoring
case unless its marker says ``case_sensitive``, with any run of whitespace
(spaces, tabs, line breaks) between its words: ``STRICTLY\\n  CONFIDENTIAL``
matches ``"STRICTLY CONFIDENTIAL"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._policy import Marker, Policy

__all__ = ["MarkerMatcher", "phrase_pattern"]


def phrase_pattern(phrase: str) -> str:
    """A regular expression matching ``phrase`` with whitespace runs collapsed."""
    words = phrase.split()
    body = r"\s+".join(re.escape(word) for word in words)
    head = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
    tail = r"(?!\w)" if re.search(r"\w$", words[-1]) else ""
    return head + body + tail


class MarkerMatcher:
    """Finds the highest level that any marker phrase in a text asks for."""

    def __init__(self, policy: Policy) -> None:
        self._by_rank = self._compile(policy.markers, policy)

    @staticmethod
    def _compile(markers: Iterable[Marker], policy: Policy) -> list[tuple[int, re.Pattern[str]]]:
        groups: dict[tuple[int, bool], list[str]] = {}
        for marker in markers:
            key = (policy.rank(marker.level), marker.case_sensitive)
            groups.setdefault(key, []).extend(
                phrase_pattern(p) for p in marker.phrases if p.strip()
            )
        compiled = [
            (rank, re.compile("|".join(patterns), 0 if case_sensitive else re.IGNORECASE))
            for (rank, case_sensitive), patterns in groups.items()
            if patterns
        ]
        # Highest level first: the first hit is the answer.
        return sorted(compiled, key=lambda item: -item[0])

    def __bool__(self) -> bool:
        return bool(self._by_rank)

    def level(self, text: str) -> int | None:
        """Rank of the highest marker found in ``text``; None when there is none."""
        for rank, pattern in self._by_rank:
            if pattern.search(text):
                return rank
        return None
