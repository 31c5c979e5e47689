"""Corrections of the recognizers' raw findings, before overlaps are resolved.

Each function takes the findings of one text (and the text) and returns
those that stand: a reading known to be wrong inside its right reading
(:data:`KNOWN_CONFUSIONS`), NER spans cut back to what lies outside a
validated finding or a steward's listed term, number readings that are
pieces of a longer identifier, and the e-mail reading of a URL's
``password@host``. The classifier calls them in order (``_classifier``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate

import regex

from ._context import phrase_before
from ._findings import Finding

__all__ = [
    "KNOWN_CONFUSIONS",
    "drop_known_confusions",
    "drop_number_fragments",
    "drop_userinfo_emails",
    "trim_at_deny_list",
    "trim_ner_overlaps",
]


# (wrong reading, right reading): a finding of the first type lying inside
# one of the second is a known false positive of the first recognizer (a
# checksum or parser validated the second) and is dropped before overlaps
# are resolved, so the span keeps the right type and level.
# NER readings inside a finding a checksum or parser validated ("ORG" on an
# IPv6 address). PERSON is left out: inside a URL it may be the one reading
# that makes the span sensitive, and a PERSON never has digits (``_ner``).
_NER_INSIDE_VALIDATED = frozenset(
    (wrong, right)
    for wrong in ("ORGANIZATION", "LOCATION", "NRP")
    for right in ("IP_ADDRESS", "EMAIL_ADDRESS", "URL", "CREDIT_CARD", "IBAN_CODE", "US_SSN",
                  "PHONE_NUMBER")
)

KNOWN_CONFUSIONS: frozenset[tuple[str, str]] = _NER_INSIDE_VALIDATED | frozenset(
    {
        ("URL", "EMAIL_ADDRESS"),
        ("PHONE_NUMBER", "IP_ADDRESS"),
        ("PHONE_NUMBER", "CREDIT_CARD"),
        ("PHONE_NUMBER", "IBAN_CODE"),
        ("PHONE_NUMBER", "US_SSN"),
        ("PHONE_NUMBER", "US_DRIVER_LICENSE"),
        ("ZIP_CODE", "STREET_ADDRESS"),
        ("DATE_TIME", "STREET_ADDRESS"),
        ("DATE_TIME", "US_DRIVER_LICENSE"),
        # Streets and towns are named after people and places ("rue Victor Hugo").
        ("PERSON", "STREET_ADDRESS"),
        ("ORGANIZATION", "STREET_ADDRESS"),
        ("LOCATION", "STREET_ADDRESS"),
        ("DATE_TIME", "CREDIT_CARD"),
        ("DATE_TIME", "IBAN_CODE"),
        ("DATE_TIME", "IP_ADDRESS"),
        ("DATE_TIME", "PHONE_NUMBER"),
        ("DATE_TIME", "US_SSN"),
        ("US_BANK_NUMBER", "CREDIT_CARD"),
        ("US_BANK_NUMBER", "IBAN_CODE"),
    }
)


_CONFUSED_WITH: dict[str, tuple[str, ...]] = {
    wrong: tuple(sorted(right for w, right in KNOWN_CONFUSIONS if w == wrong))
    for wrong, _ in KNOWN_CONFUSIONS
}


def drop_known_confusions(findings: Iterable[Finding]) -> list[Finding]:
    """Drop findings that lie inside a finding known to be their right reading."""
    findings = list(findings)
    # Per right-reading type: starts sorted, and the furthest end reached so
    # far, so "is f inside one of them" is one bisect.
    reach: dict[str, tuple[list[int], list[int]]] = {}
    for right in {r for rights in _CONFUSED_WITH.values() for r in rights}:
        spans = sorted((f.start, f.end) for f in findings if f.entity == right)
        if spans:
            reach[right] = ([s for s, _ in spans], list(accumulate((e for _, e in spans), max)))

    def confused(f: Finding) -> bool:
        for right in _CONFUSED_WITH.get(f.entity, ()):
            if right in reach:
                starts, ends = reach[right]
                i = bisect_right(starts, f.start)
                if i and ends[i - 1] >= f.end:
                    return True
        return False

    return [f for f in findings if not confused(f)]


_NER_WRONG = frozenset(w for w, _ in _NER_INSIDE_VALIDATED)
_VALIDATED = frozenset(r for _, r in _NER_INSIDE_VALIDATED)


def trim_ner_overlaps(findings: Iterable[Finding], text: str) -> list[Finding]:
    """Cut an ORG/LOCATION/NRP reading back to what lies outside a validated finding.

    The model sometimes reads ``Card 4111 1111 1111 1111`` as one
    organisation: left as is, the overlap would be merged into one card
    finding that also covers ``Card``. The NER reading keeps its longest
    piece outside the validated spans (edge whitespace and punctuation
    trimmed), or goes when no letter is left.
    """
    findings = list(findings)
    validated = [(f.start, f.end) for f in findings if f.entity in _VALIDATED]
    if not validated:
        return findings
    out: list[Finding] = []
    for f in findings:
        if f.entity not in _NER_WRONG or not any(s < f.end and f.start < e for s, e in validated):
            out.append(f)
            continue
        pieces = [(f.start, f.end)]
        for s, e in validated:
            pieces = [piece for a, b in pieces for piece in ((a, min(b, s)), (max(a, e), b))
                      if piece[0] < piece[1]]
        best = max(pieces, key=lambda p: p[1] - p[0], default=None)
        if best is None:
            continue
        a, b = best
        while a < b and not text[a].isalnum():
            a += 1
        while b > a and not text[b - 1].isalnum():
            b -= 1
        if any(c.isalpha() for c in text[a:b]):
            out.append(Finding(f.entity, a, b, f.score, f.detector))
    return out


# Readings of the statistical model and the name lists: guesses about where a
# name starts and ends, unlike a steward's listed term.
_GUESSED_BY = frozenset({"SpacyRecognizer", "FilteredSpacyRecognizer", "PersonNameRecognizer",
                         "PlaceRecognizer"})
_NER_TYPES = frozenset({"PERSON", "ORGANIZATION", "LOCATION", "NRP"})


def trim_at_deny_list(findings: Iterable[Finding], text: str) -> list[Finding]:
    """Keep a deny-list term's neighbours out of its span.

    spaCy reads ``Project Kestrel`` as one name; merged with the steward's
    ``Kestrel`` it would mask ``Project`` too. A NER or name-list reading
    that overlaps a deny-list finding keeps only its part outside, and only
    when that part is still a name by itself (:func:`._names.looks_like_person`
    for PERSON, two letters or more otherwise); ``Project`` alone is not.
    """
    findings = list(findings)
    listed = [(f.start, f.end) for f in findings if f.detector.endswith(".deny_list")]
    if not listed:
        return findings
    from ._names import looks_like_person

    out: list[Finding] = []
    for f in findings:
        if (f.entity not in _NER_TYPES or f.detector not in _GUESSED_BY
                or not any(s < f.end and f.start < e for s, e in listed)):
            out.append(f)
            continue
        pieces = [(f.start, f.end)]
        for s, e in listed:
            pieces = [p for a, b in pieces for p in ((a, min(b, s)), (max(a, e), b)) if p[0] < p[1]]
        for a, b in pieces:
            while a < b and not text[a].isalnum():
                a += 1
            while b > a and not text[b - 1].isalnum():
                b -= 1
            piece = text[a:b]
            keep = looks_like_person(piece) if f.entity == "PERSON" else (
                sum(c.isalpha() for c in piece) >= 2 and " " in piece)
            if keep:
                out.append(Finding(f.entity, a, b, f.score, f.detector))
    return out


# An IBAN's shape, whatever its check digits: two letters, two digits, then
# groups of four. Digit groups inside one are no phone, card, SSN or bank
# number even when the IBAN itself fails mod-97 (``LT12 1000 0111 0100 1001``).
_IBAN_SHAPE = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?(?![A-Za-z0-9])"
)
_INSIDE_IBAN_SHAPE = frozenset({"PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "US_BANK_NUMBER",
                                "US_DRIVER_LICENSE", "DATE_TIME"})
_JOINED = re.compile(r"[A-Za-z0-9]-$")


def drop_number_fragments(findings: Iterable[Finding], text: str) -> list[Finding]:
    """Drop number readings that are pieces of a longer identifier.

    Digit groups inside an IBAN-shaped token (valid or not), and an SSN
    shape joined by a hyphen to more characters (``Order number
    447-22-7333-X``): a reader sees one identifier there, not a phone, a
    card or a social security number.
    """
    findings = list(findings)
    ibans = [m.span() for m in _IBAN_SHAPE.finditer(text)] if any(
        f.entity in _INSIDE_IBAN_SHAPE for f in findings) else []
    out = []
    for f in findings:
        if f.entity in _INSIDE_IBAN_SHAPE and any(
                s <= f.start and f.end <= e for s, e in ibans):
            continue
        if f.entity == "US_SSN" and (
                re.match(r"-[A-Za-z0-9]", text[f.end:f.end + 2])
                or _JOINED.search(text[max(0, f.start - 2):f.start])):
            continue
        out.append(f)
    return out


_USERINFO = regex.compile(r"[a-z][a-z0-9+.\-]{1,30}://[^\s:/@]{1,128}:$", regex.IGNORECASE)


def drop_userinfo_emails(findings: Iterable[Finding], text: str) -> list[Finding]:
    """Drop the e-mail readings of ``password@host`` inside ``scheme://user:password@host``.

    The e-mail recognizer reads the password and the host as one address;
    merged with the PASSWORD finding it would run the mask on through the
    host. The password is found by ``PasswordRecognizer``; the host alone is
    not personal data.
    """
    return [
        f for f in findings
        if f.entity != "EMAIL_ADDRESS" or not phrase_before(_USERINFO, text, f.start, 200)
    ]
