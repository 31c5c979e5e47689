"""Keyed passage fingerprints: find where an answer quotes a stored chunk.

A chunk's original text is normalised (NFKC, case-folded, words only,
common function words dropped, a light suffix stemmer) and cut into word
shingles of :data:`SHINGLE_WORDS` words.

**Values are wildcards** (format v2): every word holding a digit, every
number word (``ninety``, ``thousand``) and every word inside a detected
entity span (names, e-mails, SSNs: the spans the classifier found, given
by the caller) becomes one placeholder, and a run of placeholders
collapses into one. A passage is thus fingerprinted by its *wording*, never
by the values it holds: whether an answer matches a chunk does not depend
on the chunk's SSN, salary or names, so the provenance check of
``/v1/inspect`` cannot confirm a guessed value (issue 14; docs/THREATS.md).
Collapsing also hides how many words or digit groups a value has
(``98,000`` and ``1,200,000`` look alike). Each shingle becomes the first
64 bits of ``HMAC-SHA256(tenant key, shingle)``, written as 14 lower-case
letters (base 26): a keyword, and never a run of decimal digits at rest
(Qdrant Edge keeps payloads as JSON text, where integers would be digit
strings that a canary such as the last four digits of an SSN can be
found in by chance; docs/TRAPS.md). The tenant key is
derived with HKDF from an installation secret, so the same passage gives
unrelated fingerprints in two tenants, and nobody without the secret can
test a guessed passage against the store: no plaintext and no unkeyed hash
is ever stored.

Every shingle is kept (no winnowing): dropping function words and stemming
already make fingerprints robust to light rewording, and keeping them all
is what gives paraphrase recall (docs/INSPECT.md). A 256-token chunk has
about 100-180 of them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ragseal._keyed import keyed_digest

__all__ = ["FINGERPRINT_FIELD", "FINGERPRINT_FORMAT", "SHINGLE_WORDS", "Fingerprinter", "Shingle"]

# Payload field holding a chunk's fingerprints (integer payload index).
FINGERPRINT_FIELD = "fp"
SHINGLE_WORDS = 3
# The format of stored fingerprints; part of the HKDF info, so fingerprints
# of another format never match (v1 hashed values in clear: an oracle).
FINGERPRINT_FORMAT = 2
# What a value becomes in a shingle (never a word: ``_WORD`` has no "#").
WILDCARD = "#"
FINGERPRINT_CHARS = 14  # 26**14 > 2**64
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
_WORD = re.compile(r"[^\W_]+")

# Function words carry no provenance and are what a paraphrase changes
# first ("the" -> "a", "is" -> "was"); dropping them lets shingles span them.
_STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves per via upon whose shall
may might must us
""".split())

# Spelled-out numbers are values like digits ("ninety-eight thousand").
_NUMBER_WORDS = frozenset("""
zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
hundred thousand million billion trillion
""".split())

# Longest first; a suffix is stripped only if at least 3 characters remain.
_SUFFIXES = ("ations", "ation", "ingly", "ments", "ment", "ings", "ing", "edly", "ies", "ied",
             "ers", "er", "ed", "es", "ly", "s")


def _stem(word: str) -> str:
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=65536)
def _term(word: str) -> str | None:
    folded = word.casefold()
    if folded in _STOPWORDS:
        return None
    if folded in _NUMBER_WORDS or any(c.isdigit() for c in folded):
        return WILDCARD
    return _stem(folded)


def _letters(n: int) -> str:
    chars = []
    for _ in range(FINGERPRINT_CHARS):
        n, r = divmod(n, 26)
        chars.append(_ALPHABET[r])
    return "".join(reversed(chars))


@dataclass(frozen=True, slots=True)
class Shingle:
    """One fingerprint of a text and where its words lie (character offsets)."""

    value: str
    start: int
    end: int


class Fingerprinter:
    """Keyed shingle fingerprints under an installation secret
    (``keys.secret("fingerprints")``), one derived key per tenant."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("fingerprint secret must be at least 16 bytes")
        self._secret = secret
        self._keys: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return "Fingerprinter(<key hidden>)"

    def _key(self, tenant: str) -> bytes:
        key = self._keys.get(tenant)
        if key is None:
            key = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"ragseal/fingerprints/v{FINGERPRINT_FORMAT}".encode() + b"\x00"
                + tenant.encode(),
            ).derive(self._secret)
            self._keys[tenant] = key
        return key

    def shingles(self, tenant: str, text: str,
                 values: Sequence[tuple[int, int]] = ()) -> list[Shingle]:
        """Every shingle of ``text`` in order, with the character span it covers.

        ``values`` are character spans of detected entities: their words
        are wildcards, like numbers. Offsets are into ``text`` as given: NFKC
        normalisation is applied per word, so it never shifts a position.
        """
        spans = sorted(values)
        terms: list[tuple[str, int, int]] = []
        k = 0
        for m in _WORD.finditer(text):
            while k < len(spans) and spans[k][1] <= m.start():
                k += 1
            if k < len(spans) and spans[k][0] < m.end():
                term: str | None = WILDCARD  # a word of a detected value
            else:
                word = m.group()
                if not word.isascii():
                    word = unicodedata.normalize("NFKC", word)
                term = _term(word)
            if term is None:
                continue
            if term == WILDCARD and terms and terms[-1][0] == WILDCARD:
                terms[-1] = (WILDCARD, terms[-1][1], m.end())  # one placeholder per run
            else:
                terms.append((term, m.start(), m.end()))
        key = self._key(tenant)
        out: list[Shingle] = []
        n = SHINGLE_WORDS
        for i in range(len(terms) - n + 1):
            window = terms[i : i + n]
            n64 = int.from_bytes(keyed_digest(key, " ".join(t for t, _, _ in window))[:8], "big")
            out.append(Shingle(_letters(n64), window[0][1], window[-1][2]))
        return out

    def fingerprints(self, tenant: str, text: str,
                     values: Sequence[tuple[int, int]] = ()) -> list[str]:
        """The sorted, distinct fingerprints of ``text`` (what a payload stores:
        deterministic, so a re-ingest writes the same payload)."""
        return sorted({s.value for s in self.shingles(tenant, text, values)})
