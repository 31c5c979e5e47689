"""Span edges decided by context: deny-list terms and URL passwords keep their neighbours clear."""

from __future__ import annotations

from typing import Any

import pytest
from ragseal.classification import parse_policy
from ragseal.classification._classifier import Classifier
from ragseal.classification._corrections import trim_at_deny_list
from ragseal.classification._findings import Finding

POLICY: dict[str, Any] = {
    "levels": ["public", "internal", "confidential", "restricted"],
    "entities": {
        "PERSON": {"level": "confidential", "mask": "pseudonym"},
        "EMAIL_ADDRESS": {"level": "confidential"},
        "PASSWORD": {"level": "restricted", "gate": True},
    },
    "recognizers": [
        {"entity": "CODENAME", "deny_list": ["Kestrel", "Bluefin"], "level": "restricted"},
    ],
}


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    c = Classifier(parse_policy(POLICY))
    c.warm_up()
    return c


def spans(classifier: Classifier, text: str) -> list[tuple[str, str]]:
    return [(f.entity, text[f.start:f.end]) for f in classifier.classify(text).findings]


@pytest.mark.parametrize(
    "text",
    [
        "Project Kestrel ships in May.",
        "The board approved Project Kestrel yesterday.",
        "Operation Bluefin is on hold.",
    ],
)
def test_when_deny_list_word_follows_a_capitalised_word_then_only_the_term_is_found(
    classifier: Classifier, text: str
) -> None:
    found = spans(classifier, text)
    assert ("CODENAME", "Kestrel" if "Kestrel" in text else "Bluefin") in found
    assert all(value in ("Kestrel", "Bluefin") for _, value in found)


def test_when_a_real_name_stands_beside_the_term_then_the_name_stays_a_person() -> None:
    text = "Kestrel Alice Johnson"
    findings = [
        Finding("CODENAME", 0, 7, 1.0, "policy.recognizers[0].deny_list"),
        Finding("PERSON", 0, 21, 0.85, "FilteredSpacyRecognizer"),
    ]
    kept = trim_at_deny_list(findings, text)
    assert [(f.entity, text[f.start:f.end]) for f in kept] == [
        ("CODENAME", "Kestrel"), ("PERSON", "Alice Johnson")]


def test_when_steward_pattern_is_no_deny_list_then_ner_reading_untouched() -> None:
    text = "Project Kestrel"
    findings = [
        Finding("CODENAME", 8, 15, 0.9, "policy.recognizers[0]"),
        Finding("PERSON", 0, 15, 0.85, "FilteredSpacyRecognizer"),
    ]
    assert trim_at_deny_list(findings, text) == findings


@pytest.mark.parametrize(
    ("text", "password"),
    [
        ("https://deploy:Vr8!kq2z@git.example.com/repo.git", "Vr8!kq2z"),
        ("clone https://user:password@host.example.org now", "password"),
    ],
)
def test_when_url_carries_a_password_then_the_host_stays_clear(
    classifier: Classifier, text: str, password: str
) -> None:
    found = spans(classifier, text)
    assert ("PASSWORD", password) in found
    assert not any("example" in value for _, value in found)


def test_when_an_email_stands_alone_then_still_found(classifier: Classifier) -> None:
    assert ("EMAIL_ADDRESS", "ana@example.com") in spans(classifier, "write to ana@example.com")
