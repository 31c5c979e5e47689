"""Numbers that are pieces of something else are not phones, cards or SSNs; bank
numbers count after an account phrase. Examples written for these tests."""

from __future__ import annotations

import pytest
from ragseal.classification import Classifier, default_policy
from ragseal.classification._corrections import drop_number_fragments
from ragseal.classification._findings import Finding
from ragseal.classification._tuned import ContextBankRecognizer


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    c = Classifier(default_policy())
    c.warm_up()
    return c


def types(classifier: Classifier, text: str) -> list[tuple[str, str]]:
    return [(f.entity, text[f.start:f.end]) for f in classifier.classify(text).findings]


@pytest.mark.parametrize(
    "text",
    [
        "IBAN: LT12 1000 0111 0100 1001",  # fails mod-97: no IBAN, and no card inside
        "FR76 3000 6000 0112 3456 7890 188 was rejected",  # bad check digits
        "host 192.168.1.256 is out of range",  # not an IP, not a phone either
        "use 10.300.20.1 for testing",
        "sample value 0123456789",  # counting
        "Order number 447-22-7333-X shipped",  # an order id, not an SSN
        "ref AB-219-09-8765 filed",
        "Zip 94107-1234",
    ],
)
def test_when_digits_belong_to_another_identifier_then_no_pii(
    classifier: Classifier, text: str
) -> None:
    assert types(classifier, text) == []


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("call me at (415) 555-0132 today", "PHONE_NUMBER", "(415) 555-0132"),
        ("SSN 219-09-8765 on file", "US_SSN", "219-09-8765"),
        ("card 4111 1111 1111 1111", "CREDIT_CARD", "4111 1111 1111 1111"),
        ("server 192.168.1.25 is up", "IP_ADDRESS", "192.168.1.25"),
    ],
)
def test_when_the_number_stands_alone_then_still_found(
    classifier: Classifier, text: str, entity: str, value: str
) -> None:
    assert (entity, value) in types(classifier, text)


def test_when_ssn_shape_is_joined_to_more_characters_then_dropped() -> None:
    text = "id 447-22-7333-X and 447-22-7333 alone"
    findings = [Finding("US_SSN", 3, 14, 0.85, "UsSsnRecognizer"),
                Finding("US_SSN", 21, 32, 0.85, "UsSsnRecognizer")]
    assert [text[f.start:f.end] for f in drop_number_fragments(findings, text)] == [
        "447-22-7333"]
    assert drop_number_fragments(findings, text)[0].start == 21


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("My bank account number is 0291847561.", "0291847561"),
        ("checking account: 48210957331", "48210957331"),
        ("acct # 7730018842 (savings)", "7730018842"),
    ],
)
def test_when_account_phrase_precedes_then_bank_number_found(text: str, number: str) -> None:
    results = ContextBankRecognizer().analyze(text, ["US_BANK_NUMBER"], None)
    assert [(text[r.start:r.end], r.score >= 0.5) for r in results] == [(number, True)]


@pytest.mark.parametrize(
    "text", ["Invoice 0291847561 is due", "Population grew to 48210957331 by then"]
)
def test_when_no_account_phrase_then_no_bank_number(text: str) -> None:
    assert ContextBankRecognizer().analyze(text, ["US_BANK_NUMBER"], None) == []
