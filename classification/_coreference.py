"""People within one document: a name found once is masked wherever that person is named.

Ingest classifies a whole document before chunking it, so the findings of a
text are the document's. Two passes over them, both on PERSON only:

:func:`drop_false_names`
    Readings of the statistical model no reader would take for a person: a
    span cut at a line break keeps only the pieces that still read as names
    (``Oakland, CA\\nPhone:`` -> nothing), an all-capitals word
    (``DIRECTORS``), a single word after a determiner (``the Northwind
    expansion``) or opening a sentence, a line or a list item (``Refer to a
    card``) unless the Census lists know it as a name.
:func:`propagate_names`
    Every capitalised part of a multi-word PERSON (``Helen Zhao``) is a
    PERSON wherever it stands alone in the same document (``Helen``,
    ``Zhao``, ``Aisha's``, a name broken over two lines), unless it is an
    everyday word (``Will``, ``May``) or already inside a finding.
"""

from __future__ import annotations

from collections.abc import Iterable

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
_DETERMINER = regex.compile(r"(?i:\b(?:the|a|an|our|your|their|its|this|that|these|those)\s+)$")
# A sentence, line or list item opens just before: "\n", ". ", "(b) ", "15:02  ", "- ".
_OPENING = regex.compile(r"(?:^|[\n.!?;]\s*|\(\w\)\s+|\d{1,2}:\d{2}\s+|^\s*[-*•]\s+)$")
_LABEL_AFTER = regex.compile(r"\s*:")


def drop_false_names(findings: Iterable[Finding], text: str) -> list[Finding]:
    """Drop or cut PERSON readings that are headings, verbs, labels or organisations."""
    from ._names import name_lists

    first, _ = name_lists()
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
                if not _NAME_WORD.fullmatch(value) or _LABEL_AFTER.match(text, end):
                    continue  # "Phone:" is a field label
                before = text[max(0, start - 24):start]
                opening = i == 0 and _OPENING.search(before)
                if value.lower() not in first and (_DETERMINER.search(before) or opening):
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
    alternatives = "|".join(regex.escape(p) for p in sorted(parts, key=len, reverse=True))
    pattern = regex.compile(
        rf"(?<![\p{{L}}\p{{N}}@._-])(?:{alternatives})(?![\p{{L}}\p{{N}}@]|\.\w)")
    taken = sorted((f.start, f.end) for f in findings)
    added = []
    for m in pattern.finditer(text, timeout=1.0):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        added.append(Finding("PERSON", m.start(), m.end(), parts[m.group()], PROPAGATED))
    return findings + added
