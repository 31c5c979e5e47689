"""Person names from the Census lists: recall beyond spaCy, no everyday words."""

from __future__ import annotations

import pytest
from ragseal.classification import Classifier, default_policy
from ragseal.classification._names import PersonNameRecognizer, looks_like_person, name_lists


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    c = Classifier(default_policy())
    c.warm_up()
    return c


def people(classifier: Classifier, text: str) -> list[str]:
    return [text[f.start:f.end] for f in classifier.classify(text).findings
            if f.entity == "PERSON"]


def test_the_lists_are_loaded_without_everyday_words() -> None:
    first, last = name_lists()
    assert {"james", "mary", "colton"} <= first
    assert {"smith", "phillips"} <= last
    assert not {"will", "may", "grant", "hope", "the", "and"} & first


@pytest.mark.parametrize(("text", "expected"), [
    ("I want to add Colton Svenningsen as a beneficiary to my account", ["Colton Svenningsen"]),
    ("Dear Teresa de Vaan, welcome", ["Teresa de Vaan"]),  # surname not listed: context
    ("my name is christine smith, thanks", ["christine smith"]),
])  # fmt: skip
def test_when_a_listed_first_name_starts_a_name_then_the_person_is_found(
    classifier: Classifier, text: str, expected: list[str]
) -> None:
    assert people(classifier, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("The payroll change was approved by Tomasz Adeyemi on Monday.", ["Tomasz Adeyemi"]),
    ("The payroll change was approved by Helen Adeyemi on Monday.", ["Helen Adeyemi"]),
    ("Employee Amara Ivanova (EMP-123456) joined the staff.", ["Amara Ivanova"]),
    ("Dear Kwame Mensah, your badge is ready.", ["Kwame Mensah"]),
])  # fmt: skip
def test_when_a_cue_only_people_take_precedes_capitalised_words_then_they_are_a_person(
    classifier: Classifier, text: str, expected: list[str]
) -> None:
    # Neither Tomasz, Amara nor Kwame is in the 1990 US Census lists.
    assert people(classifier, text) == expected


@pytest.mark.parametrize("text", [
    "Updates are signed by Acme Robotics and delivered over the air.",
    "Corporate Card Reconciliation\n\nPrepared by Finance Operations for the October close.",
    "The request was approved by Legal Team on Friday.",
])  # fmt: skip
def test_when_an_organisation_or_team_follows_the_cue_then_it_is_no_person(
    classifier: Classifier, text: str
) -> None:
    assert people(classifier, text) == []


@pytest.mark.parametrize("text", [
    "Will Power and May Day are Grant Program names.",
    "The Hope Street office opens in June.",
    "the leah holmberg version was recorded later",  # lower case, no context word
    "Visit the Smith Foundation Group",
])  # fmt: skip
def test_when_capitalised_words_are_not_a_name_then_the_name_lists_find_nothing(
    text: str,
) -> None:
    found = [r for r in PersonNameRecognizer().analyze(text, ["PERSON"]) if r.score >= 0.5]
    assert found == []


@pytest.mark.parametrize(("value", "person"), [
    ("Kaylee", True), ("Phillips", True), ("Tina Alexandrov", True),
    ("Mclaughlin Ltd.", False), ("Zoolander", False), ("SSN", False), ("Bank of Mars", False),
])  # fmt: skip
def test_an_ner_organisation_that_is_a_listed_name_reads_as_a_person(
    value: str, person: bool
) -> None:
    assert looks_like_person(value) is person
