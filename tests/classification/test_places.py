"""Countries and major cities from tzdata's tables (LOCATION)."""

from __future__ import annotations

import pytest
from ragseal.classification._places import PlaceRecognizer, is_place, place_names


def places(text: str) -> list[str]:
    return [text[r.start:r.end] for r in PlaceRecognizer().analyze(text, ["LOCATION"])]


def test_the_tables_give_countries_and_cities() -> None:
    countries, cities = place_names()
    assert {"Luxembourg", "Burkina Faso", "Korea", "Antigua and Barbuda"} <= countries
    assert {"Montevideo", "Mexico City", "Paris"} <= cities
    assert "Center" not in cities  # America/North_Dakota/Center is a small town


@pytest.mark.parametrize(("text", "expected"), [
    ("i'm originally from burkina faso", ["burkina faso"]),
    ("I am in LUXEMBOURG for a business trip", ["LUXEMBOURG"]),
    ("home city Montevideo: great", ["Montevideo"]),
    ("Federated States of Micronesia 47980", ["Federated States of Micronesia"]),
    ("who's coming to philippines with me?", ["philippines"]),
])  # fmt: skip
def test_when_a_country_or_city_is_written_then_it_is_found(
    text: str, expected: list[str]
) -> None:
    assert places(text) == expected


@pytest.mark.parametrize("text", [
    "the turkey was roasted with china plates",  # everyday words in lower case
    "ask chad and jordan",  # first names in lower case
    "Center the text; the paris office is closed",  # no city in lower case
    "ChInA",
])  # fmt: skip
def test_when_a_place_name_is_an_everyday_word_then_it_is_not_found(text: str) -> None:
    assert places(text) == []


def test_a_listed_place_is_not_read_as_a_person() -> None:
    assert is_place("Paris") and not is_place("Georgina")
