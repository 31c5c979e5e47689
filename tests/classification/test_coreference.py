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
        ("Approved the expansion of the Joliet pilot.", "Joliet"),
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
