"""Street addresses: the street line, extended over unit, city, state, ZIP, country."""

from __future__ import annotations

import pytest
from ragseal.classification import Classifier, parse_policy
from ragseal.classification._address import find_addresses

CASES = [
    ("She lives at 350 Fifth Avenue, New York, NY 10118. Then she left.",
     "350 Fifth Avenue, New York, NY 10118"),
    ("Send it to 12 Old Mill Rd. please", "12 Old Mill Rd."),
    ("The office is at 96 Hausergasse 59 Apt. 787, Colle Di Tora, El Salvador 25900",
     "96 Hausergasse 59 Apt. 787, Colle Di Tora, El Salvador 25900"),
    ("Address: 6750 Koskikatu 25 Apt. 864\nArtilleros\n, CO\n Uruguay 64677",
     "6750 Koskikatu 25 Apt. 864\nArtilleros\n, CO\n Uruguay 64677"),
    ("Ship to 110 Rue du Koweit, Paris", "110 Rue du Koweit, Paris"),
    ("Write to P.O. Box 101", "P.O. Box 101"),
    ("01 4589 40th Street Suite 603", "01 4589 40th Street Suite 603"),
]
NEAR_MISSES = [
    "I have 3 Apples and 4 pears",
    "In 2020 Apple sold 300 phones.",
    "Chapter 12 Street Photography",  # no house number before the name
    "the street was empty",
    "It is about 2 km away",  # street endings are literal ("u." is Hungarian utca)
    "Date: Thu, 12 Nov 2026",
    "Action items: Okafor. Due Aug 28",
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_when_an_address_is_written_then_the_whole_of_it_is_found(text: str, expected: str) -> None:
    assert [text[s:e] for s, e in find_addresses(text)] == [expected]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_when_numbers_and_words_are_not_an_address_then_nothing_is_found(text: str) -> None:
    assert find_addresses(text) == []


def test_when_the_policy_enables_street_address_then_the_classifier_finds_it() -> None:
    pol = parse_policy({"levels": ["public", "confidential"],
                        "entities": {"STREET_ADDRESS": {"level": "confidential"}}})
    text = "Her address is 350 Fifth Avenue, New York, NY 10118."
    (finding,) = Classifier(pol).classify(text).findings
    assert finding.entity == "STREET_ADDRESS"
    assert text[finding.start:finding.end] == "350 Fifth Avenue, New York, NY 10118"


@pytest.mark.parametrize(
    "text",
    [
        "Ship to 12 Hausergasse 59, Wien. Then 350 Fifth Avenue and Koskikatu 25\n"
        "6750 Koskikatu 25\n",
        "during 2010 we moved to Old Mühlenweg 12a; 40th Ring 3, u. 5, Rue du Koweit 7",
        "12 Main Ring 5\n3 Old Mill Rd Strada 4. Hauptstraße 5a Apt. 8, Berlin\n12 12 Ring 4",
        "x gate 9 y. Via Roma 3,\nP.O. Box 101 then Kirkegade 12b, 2100 København",
    ],
)
def test_when_street_word_endings_are_searched_in_windows_then_same_as_the_whole_pattern(
    text: str,
) -> None:
    from ragseal.classification import _address

    reference = _address._find(_address._STREET, text)  # the one pattern, walked everywhere
    assert find_addresses(text) == reference
    assert reference
