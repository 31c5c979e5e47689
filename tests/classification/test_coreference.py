"""People within one document: lone first names and surnames of a detected person are
masked too; headings, verbs, labels and organisations read as people are not."""

from __future__ import annotations

import pytest
from ragseal.classification import Classifier, default_policy
from ragseal.classification._coreference import drop_false_names, propagate_names
from ragseal.classification._findings import Finding


def person(text: str, value: str, detector: str = "FilteredSpacyRecognizer") -> Finding:
    start = text.index(value)
    return Finding("PERSON", start, start + len(value), 0.85, detector)


def values(text: str, findings: list[Finding]) -> list[str]:
    return sorted(text[f.start:f.end] for f in findings)


def test_when_full_name_found_once_then_first_name_and_surname_masked_everywhere() -> None:
    text = ("Memo from Helen Marsh.\nThanks to everyone; Helen will follow up.\n"
            "Ms. Marsh's office has the list.\n\nHelen")
    out = propagate_names([person(text, "Helen Marsh")], text)
    assert values(text, out) == ["Helen", "Helen", "Helen Marsh", "Marsh"]


def test_when_name_is_inside_an_email_address_then_not_propagated() -> None:
    text = "Helen Marsh <helen.marsh@acme.example> wrote to Marsh."
    out = propagate_names([person(text, "Helen Marsh")], text)
    assert values(text, out) == ["Helen Marsh", "Marsh"]


def test_when_multiword_reading_is_a_team_or_title_then_nothing_propagates() -> None:
    text = "From: Customer Support\nSupport will call. Work hard, General Counsel."
    found = [person(text, "Customer Support"), person(text, "General Counsel")]
    assert values(text, propagate_names(found, text)) == ["Customer Support", "General Counsel"]


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("Refer to a card only by its last four digits.", "Refer"),
        ("(b) Close the Northwind expansion.", "Northwind"),
        ("Approved the expansion of the Lumenfield pilot.", "Lumenfield"),
        ("Oakland, CA\nPhone: (510) 555-0134", "CA\nPhone"),
        ("CONFIDENTIAL - BOARD OF DIRECTORS ONLY", "DIRECTORS"),
    ],
)
def test_when_reading_is_a_verb_heading_label_or_org_then_dropped(text: str, reading: str) -> None:
    assert drop_false_names([person(text, reading)], text) == []


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("Thanks to Daniel for the fix.", "Daniel"),
        ("Report by Priya Raman, CFO.", "Priya Raman"),
        ("Signed:\nMaria Gonzalez", "Maria Gonzalez"),
        ("\nDaniel had a strong year.", "Daniel"),  # a listed first name opening a line
        ("Alvir spent a year abroad.", "Alvir"),  # opens a sentence, a verb follows
        ("Unlike the Jensen novel, it is short.", "Jensen"),  # a listed surname
        ("Mr. Leiva flew home.", "Leiva"),  # after an honorific
        ("Matthew: Remember me?", "Matthew"),  # a speaker, not a field label
    ],
)
def test_when_reading_is_a_name_then_kept(text: str, reading: str) -> None:
    assert values(text, drop_false_names([person(text, reading)], text)) == [reading]


def test_when_name_breaks_over_a_line_then_each_line_kept() -> None:
    text = "Prepared by Maria\nGonzalez today"
    out = drop_false_names([person(text, "Maria\nGonzalez")], text)
    assert values(text, out) == ["Gonzalez", "Maria"]


@pytest.mark.slow
def test_when_document_names_a_person_then_lone_names_are_masked_end_to_end() -> None:
    classifier = Classifier(default_policy())
    text = ("Aisha Patel starts family leave next week; congratulations, Aisha!\n\n"
            "Refer to a card only by its last four digits.\n\nHelen\n\n-- Helen Zhao, CEO")
    found = {text[f.start:f.end] for f in classifier.classify(text).findings
             if f.entity == "PERSON"}
    assert {"Aisha Patel", "Aisha", "Helen", "Helen Zhao"} <= found
    assert "Refer" not in found


def _by_alternation(findings: list[Finding], text: str) -> list[tuple[int, int]]:
    """The spans the former one-regex-per-document scan added (the reference)."""
    import regex

    parts = sorted({w for f in findings for w in (text[f.start:f.end].split()[0],
                                                  text[f.start:f.end].split()[-1])},
                   key=len, reverse=True)
    pattern = regex.compile(r"(?<![\p{L}\p{N}@._-])(?:" + "|".join(map(regex.escape, parts))
                            + r")(?![\p{L}\p{N}@]|\.\w)")
    return [m.span() for m in pattern.finditer(text)
            if not any(f.start < m.end() and m.start() < f.end for f in findings)]


@pytest.mark.parametrize(
    "text",
    [
        "Mary-Jane Dunn met Mary-Janet, then Mary and Dunn's sister; mary-jane; X-Mary.",
        "Anne’Marie Dunn: O'Dunn, Anne’Marie and Marie; helen@Dunn.example; Dunn.io; Dunn.",
        "Sean Neil\nNeil O'Neil Neils Sean-Neil Sean\nNeil. _Sean Sean2 @Sean (Sean) D'Sean",
    ],
)
def test_when_parts_are_prefixes_hyphenated_or_in_addresses_then_same_as_the_alternation(
    text: str,
) -> None:
    first = text.split(maxsplit=2)
    found = [person(text, " ".join(first[:2]).rstrip(":"))]
    out = propagate_names(found, text)
    added = sorted((f.start, f.end) for f in out if f.detector == "DocumentNameRecognizer")
    assert added == _by_alternation(found, text)
    assert added  # the check is not vacuous


def test_when_document_is_long_with_many_findings_then_parts_outside_them_are_added() -> None:
    block = "Helen Marsh called 555-0100 about Marsh. Helen wrote. "
    text = block * 2_000
    found = [person(text, "Helen Marsh")] + [
        Finding("PHONE_NUMBER", i + 19, i + 27, 0.7, "PhoneRecognizer")
        for i in range(0, len(text), len(block))]
    added = [f for f in propagate_names(found, text) if f.detector == "DocumentNameRecognizer"]
    # Per block "Marsh." and "Helen wrote"; "Helen" and "Marsh" of the name
    # too, except in the first block, where the name is a finding.
    assert len(added) == 2 + 4 * 1_999
