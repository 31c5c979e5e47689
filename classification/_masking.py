"""Masks: what a reader sees in place of a span it may not read.

Three masks, chosen per entity type by the policy:

- ``pseudonym``: ``<PERSON_3f9a2b>``, a keyed hash (HMAC-SHA256 under an
  installation secret, per tenant) of the normalised value, so the same
  person carries the same tag across the whole corpus and the LLM can tell
  people apart, while nobody without the key can test a guess;
- ``redact``: ``<US_SSN>``, the bare type;
- ``last4``: ``<CREDIT_CARD_****1111>``, the last four digits.

:func:`mask` returns the masked text with a map back to original offsets,
which the ingest pipeline uses to chunk the masked text (what gets
embedded) and still seal the original text of each chunk.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ragseal._keyed import keyed_digest

from ._findings import Finding
from ._policy import Policy

__all__ = ["MaskedText", "Pseudonymizer", "mask", "placeholder"]

PSEUDONYM_HEX = 6
_SPACE = re.compile(r"\s+")
_POSSESSIVE = re.compile(r"['\u2019]s?$")  # spaCy keeps "Maria Gonzalez's" as one PERSON
_EDGE_PUNCT = ".,;:!?\"'()[]{}<>"


def placeholder(entity: str) -> str:
    """The bare type tag: what redaction shows, and what a query carries
    for an entity its principal may not search by."""
    return f"<{entity}>"


def _normalise(entity: str, value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    if "@" not in value:
        value = _POSSESSIVE.sub("", value)
    value = value.strip(_EDGE_PUNCT)
    value = _SPACE.sub(" ", value).casefold()
    if entity in {"CREDIT_CARD", "PHONE_NUMBER", "US_SSN", "IBAN_CODE", "US_BANK_NUMBER"}:
        value = re.sub(r"[\s\-./()]", "", value)
    return value


class Pseudonymizer:
    """Stable keyed pseudonyms: ``<TYPE_xxxxxx>`` for a tenant and value."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("pseudonym key must be at least 16 bytes")
        self._key = key

    def __repr__(self) -> str:
        return "Pseudonymizer(<key hidden>)"

    def search_tag(self, tenant: str, entity: str, value: str) -> str:
        """A keyed hash of an entity value, stored with the chunks that name it,
        so that a principal entitled to the type can search by that value.
        Same normalisation as :meth:`tag`; a different label, so neither
        can be computed from the other."""
        return keyed_digest(
            self._key, "search", tenant, entity, _normalise(entity, value)).hex()[:24]

    def tag(self, tenant: str, entity: str, value: str) -> str:
        digest = keyed_digest(self._key, tenant, entity, _normalise(entity, value)).hex()
        return f"<{entity}_{digest[:PSEUDONYM_HEX]}>"


def _last4(entity: str, value: str) -> str:
    digits = [c for c in value if c.isdigit()]
    if len(digits) < 8:  # too short to show any part of it safely
        return placeholder(entity)
    return f"<{entity}_****{''.join(digits[-4:])}>"


@dataclass(frozen=True)
class MaskedText:
    """A masked text and, per piece, where it came from in the original.

    ``pieces`` are ``(masked_start, original_start, original_end, is_mask)``
    in order; an unmasked piece has the same length in both texts.
    """

    text: str
    pieces: tuple[tuple[int, int, int, bool], ...]
    masked_types: tuple[str, ...]

    def __repr__(self) -> str:
        return f"MaskedText(len={len(self.text)}, masked_types={self.masked_types!r})"

    def to_original(self, pos: int, *, end: bool = False) -> int:
        """Map a masked offset to the original text. A position inside a mask
        snaps outwards (start to the span start, end to the span end)."""
        starts = [p[0] for p in self.pieces]
        i = max(bisect_right(starts, pos) - 1, 0)
        if end and i > 0 and pos == self.pieces[i][0]:
            i -= 1  # an end offset belongs to the piece it closes
        m_start, o_start, o_end, is_mask = self.pieces[i]
        if is_mask:
            return o_end if end else o_start
        return min(o_start + (pos - m_start), o_end)


def mask(
    text: str,
    findings: Sequence[Finding],
    policy: Policy,
    pseudonyms: Pseudonymizer,
    tenant: str,
    reveal: Callable[[Finding], bool] = lambda _f: False,
    bare: Callable[[Finding], bool] = lambda _f: False,
    pseudonym: Callable[[Finding], bool] = lambda _f: False,
) -> MaskedText:
    """Replace each finding the reader may not see with its mask.

    ``findings`` must be non-overlapping and sorted (``resolve_overlaps``).
    ``reveal(f)`` says whether the reader may see ``f`` in clear; the
    default masks everything (the strictest view, used for embeddings).
    ``bare(f)`` forces the bare type tag instead of the policy's mask (a
    query term its principal may not search by). ``pseudonym(f)`` forces
    the keyed pseudonym whatever the policy's mask (a retrieval that asked
    for pseudonyms in place of values the reader may see).
    """
    out: list[str] = []
    pieces: list[tuple[int, int, int, bool]] = []
    masked_types: list[str] = []
    cursor = pos = 0
    for f in findings:
        if f.start < cursor or f.end > len(text):
            raise ValueError("findings must be sorted, non-overlapping and inside the text")
        if reveal(f):
            continue
        if f.start > cursor:
            pieces.append((pos, cursor, f.start, False))
            out.append(text[cursor : f.start])
            pos += f.start - cursor
        value = text[f.start : f.end]
        kind = policy.entity_rule(f.entity).mask
        if bare(f):
            token = placeholder(f.entity)
        elif kind == "pseudonym" or pseudonym(f):
            token = pseudonyms.tag(tenant, f.entity, value)
        elif kind == "last4":
            token = _last4(f.entity, value)
        else:
            token = placeholder(f.entity)
        pieces.append((pos, f.start, f.end, True))
        out.append(token)
        pos += len(token)
        cursor = f.end
        if f.entity not in masked_types:
            masked_types.append(f.entity)
    if cursor < len(text) or not pieces:
        pieces.append((pos, cursor, len(text), False))
        out.append(text[cursor:])
    return MaskedText("".join(out), tuple(pieces), tuple(sorted(masked_types)))
