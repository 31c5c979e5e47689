"""People within one document: a name found once is masked wherever that person is named.

Ingest classifies a whole document before chunking it, so the findings of a
text are the document's. Two passes over them, both on PERSON only:

:func:`drop_false_names`
    Readings of the statistical model no reader would take for a person: a
    span cut at a line break keeps only the pieces that still read as names
    (``Oakland, CA\\nPhone:`` -> nothing), an all-capitals word
    (``DIRECTORS``, ``CA``), a field label (``Phone:``), a single word after
    a determiner that no Census list knows (``the Northwind expansion``; ``the
    Jensen novel`` stays), or opening a sentence, a line or a list item with
    an object after it, as an imperative verb does (``Refer to a card``;
    ``Alvir spent a year`` stays), unless it is a listed first name.
:func:`propagate_names`
    Every capitalised part of a multi-word PERSON (``Helen Zhao``) is a
    PERSON wherever it stands alone in the same document (``Helen``,
    ``Zhao``, ``Aisha's``, a name broken over two lines), unless it is an
    everyday word (``Will``, ``May``) or already inside a finding.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from itertools import accumulate

import regex

from ._findings import Finding

__all__ = ["drop_false_names", "propagate_names"]

PROPAGATED = "DocumentNameRecognizer"
# Words that end "names" the model reads in headers and signatures (titles,
# departments, form fields): never propagated on their own.
_NOT_NAMES = frozenset("""
general chief officer counsel director manager president review work support employee customer
success service team staff office department finance legal people operations engineering
""".split())
_NAME_WORD = regex.compile(r"\p{Lu}[\p{Ll}]+(?:['’-]\p{Lu}?[\p{Ll}]+)?")
# A propagated part: a word start (not after a letter, digit, ``@._-``) and
# the longest name shape there; a part ends before no letter, digit, ``@``
# or ``.x`` (an e-mail or a domain).
_PART_START = regex.compile(r"(?<![\p{L}\p{N}@._-])\p{Lu}\p{Ll}+(?:['’-]\p{Lu}?\p{Ll}+)?")
_PART_END = regex.compile(r"(?![\p{L}\p{N}@]|\.\w)")
_DETERMINER = regex.compile(r"(?i:\b(?:the|a|an|our|your|their|its|this|that|these|those)\s+)$")
# A sentence, line or list item opens just before: "\n", ". ", "(b) ", "15:02  ", "- ".
_OPENING = regex.compile(r"(?:^|[\n.!?;]\s*|\(\w\)\s+|\d{1,2}:\d{2}\s+|^\s*[-*•]\s+)$")
_LABEL_AFTER = regex.compile(r"\s*:")
_HONORIFIC = regex.compile(r"(?i:\b(?:mr|mrs|ms|dr|prof|sr|jr|st)\.\s*)$")
# After an imperative verb opening a sentence comes an object or a preposition
# ("Refer to", "Close the", "Accrue any"); after a name, a verb ("Alvir spent").
_OBJECT_NEXT = regex.compile(
    r"\s+(?:to|the|a|an|any|all|your|our|each|every|this|that|these|those|it|them|up|out|off"
    r"|down|on|in|at|for|with|by)\b"
)
_FIELD_LABELS = frozenset("""
phone tel telephone fax mobile cell email e-mail name address date status subject title
department location manager role notes note comment comments amount total ref reference
""".split())


def drop_false_names(findings: Iterable[Finding], text: str) -> list[Finding]:
    """Drop or cut PERSON readings that are headings, verbs, labels or organisations."""
    from ._names import name_lists

    first, last = name_lists()
    out: list[Finding] = []
    for f in findings:
        if f.entity != "PERSON" or f.detector == PROPAGATED:
            out.append(f)
            continue
        pieces = _line_pieces(f, text)
        for i, (start, end) in enumerate(pieces):
            value = text[start:end]
            words = value.split()
            if value.isupper() and len(value) > 1:
                continue  # DIRECTORS, CA: a heading or a code, not a name
            if len(words) == 1:
                word = value.lower()
                if not _NAME_WORD.fullmatch(value) or (
                        word in _FIELD_LABELS and _LABEL_AFTER.match(text, end)):
                    continue  # "Phone:" is a field label
                before = text[max(0, start - 24):start]
                opening = (i == 0 and _OPENING.search(before) and not _HONORIFIC.search(before)
                           and _OBJECT_NEXT.match(text, end))
                determined = _DETERMINER.search(before) and word not in last
                if word not in first and (determined or opening):
                    continue
            out.append(f if (start, end) == (f.start, f.end) else
                       Finding(f.entity, start, end, f.score, f.detector))
    return out


def _line_pieces(f: Finding, text: str) -> list[tuple[int, int]]:
    """The finding's span cut at line breaks, each piece trimmed of edge punctuation."""
    pieces = []
    start = f.start
    for part in text[f.start:f.end].split("\n"):
        a, b = start, start + len(part)
        while a < b and not text[a].isalnum():
            a += 1
        while b > a and not text[b - 1].isalnum():
            b -= 1
        if a < b:
            pieces.append((a, b))
        start += len(part) + 1
    return pieces if len(pieces) != 1 or "\n" in text[f.start:f.end] else [(f.start, f.end)]


def propagate_names(findings: Iterable[Finding], text: str) -> list[Finding]:
    """Add PERSON findings for the lone first names and surnames of the document's people."""
    from ._names import _COMMON_WORDS, name_lists

    first, last = name_lists()
    findings = list(findings)
    parts: dict[str, float] = {}
    for f in findings:
        if f.entity != "PERSON" or f.detector == PROPAGATED:
            continue
        words = text[f.start:f.end].split()
        if not 2 <= len(words) <= 3 or not all(_NAME_WORD.fullmatch(w) for w in words):
            continue
        given, surname = words[0].lower(), words[-1].lower()
        # A person's name, not a team or a title: the Census lists know one end of it.
        if given not in first and surname not in last:
            continue
        for w in (words[0], words[-1]):
            if w.lower() not in _COMMON_WORDS and w.lower() not in _NOT_NAMES:
                parts[w] = max(parts.get(w, 0.0), f.score)
    if not parts:
        return findings
    # Where the parts stand alone: the leftmost-longest scan of the
    # alternation ``(?<!...)(?:Helen|Zhao|...)(?!...)``, without compiling one
    # per document. A part starts a word (``_PART_START``) and is a prefix of
    # that word's longest name shape, so the candidates are few; findings
    # are looked up by bisection (starts sorted, furthest end so far), not
    # scanned per match: linear in the document, not in names x findings.
    taken = sorted((f.start, f.end) for f in findings)
    starts = [s for s, _ in taken]
    reach = list(accumulate((e for _, e in taken), max))
    added = []
    pos = 0
    while (m := _PART_START.search(text, pos)) is not None:
        start, shape = m.start(), m.group()
        end = next((start + n for n in range(len(shape), 1, -1)
                    if shape[:n] in parts and _PART_END.match(text, start + n)), None)
        if end is None:
            pos = start + 1
            continue
        pos = end
        i = bisect_left(starts, end)
        if i and reach[i - 1] > start:
            continue  # inside (or across) a finding
        added.append(Finding("PERSON", start, end, parts[text[start:end]], PROPAGATED))
    return findings + added
