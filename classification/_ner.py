"""spaCy NER findings, with the DATE_TIME readings that identify nothing dropped.

The small English model tags as DATE or TIME every duration (``2 months``,
``50 year old``), relative expression (``this morning``, ``last night``),
bare year (``2001``, ``the 1990s``) and many plain numbers (ZIP codes, house
numbers). None of these identifies a person; HIPAA's Safe Harbor rule keeps
years and the rest are not dates of anything. A DATE_TIME reading from NER
is kept only when it holds a calendar element finer than a year: a month or
weekday name, a numeric date (``5/25/1934``, ``1979-05-16``), a time of day
(``11:28``, ``3 pm``). Numeric dates must be possible dates (``50-98-28``
is a phone fragment, not a date). A PERSON, LOCATION, ORGANIZATION or NRP
reading needs a letter (the model sometimes calls ``12/11/1952`` a person);
a PERSON has no digit; an ORGANIZATION is no common acronym (``SSN``, ``ATM``, ``ASAP``), and spans
lose the whitespace and line breaks the model sometimes takes along.

The model also reads many lone names as organisations or places
(``Kaylee``, ``Phillips``, ``Georgina``): an ORGANIZATION or LOCATION span
that looks like a person by the Census name lists
(:func:`._names.looks_like_person`), and is no known place
(:func:`._places.is_place`), is reported as PERSON, the more sensitive
reading.
"""

from __future__ import annotations

import regex
from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

__all__ = ["FilteredSpacyRecognizer", "is_specific_date"]

_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec",
)  # fmt: skip
_DAYS = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mon", "tue",
    "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
)  # fmt: skip
_MONTH = r"(?:0?[1-9]|1[0-2])"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_SPECIFIC = regex.compile(
    r"\b(?:" + "|".join(_MONTHS + _DAYS) + r")\b\.?"
    rf"|(?<![\d/.-])(?:\d{{4}}([/.-]){_MONTH}\1{_DAY}"  # 1979-05-16
    rf"|{_DAY}([/.-]){_DAY}\2(?:\d{{4}}|\d{{2}}))(?![\d/.-])"  # 5/25/1934, 16.05.79
    rf"|(?<![\d/.-]){_MONTH}/\d{{4}}(?![\d/.-])"  # 05/1979
    r"|\b(?:[01]?\d|2[0-3]):[0-5]\d\b"  # 11:28
    r"|\b(?:0?[1-9]|1[0-2])\s*(?:a\.?m|p\.?m)\b\.?",  # 3 pm
    regex.IGNORECASE,
)


# Acronyms the model reads as organisations; they name kinds of things (curated).
_NOT_ORGANISATIONS = frozenset("""
SSN IBAN BIC SWIFT ATM ASAP PIN CVV CVC DOB ID DL VAT TIN EIN ITIN NPI MRN PDF FAQ CEO CFO CTO
COO HR IT QA PR KPI ROI API URL IP VPN SMS OTP FYI ETA RSVP PO PS NB TBD N/A OK
""".split())
_RELABEL = frozenset({"ORGANIZATION", "LOCATION"})
_LETTER = regex.compile(r"\p{L}")


def is_specific_date(value: str) -> bool:
    """True when ``value`` names a calendar element finer than a year."""
    return _SPECIFIC.search(value) is not None


class FilteredSpacyRecognizer(SpacyRecognizer):
    """Presidio's spaCy recognizer; DATE_TIME only for specific dates and times."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = super().analyze(text, entities, nlp_artifacts)
        for r in results:  # the model's spans sometimes take a line break along
            value = text[r.start:r.end]
            r.start += len(value) - len(value.lstrip())
            r.end -= len(value) - len(value.rstrip())
        kept = [r for r in results
                if r.start < r.end and _plausible(r.entity_type, text[r.start:r.end])]
        if "PERSON" in self.supported_entities:
            from ._names import looks_like_person
            from ._places import is_place

            for r in kept:
                if r.entity_type in _RELABEL and looks_like_person(text[r.start:r.end]):
                    if r.entity_type != "LOCATION" or not is_place(text[r.start:r.end]):
                        r.entity_type = "PERSON"
        return kept


def _plausible(entity: str, value: str) -> bool:
    if entity == "DATE_TIME":
        return is_specific_date(value)
    if entity == "ORGANIZATION" and value.upper() in _NOT_ORGANISATIONS:
        return False
    if entity == "PERSON" and any(c.isdigit() for c in value):
        return False  # names have no digits ("addr 2001:db8::8a2e" was a PERSON)
    # A name, place or organisation has letters ("12/11/1952" is no PERSON).
    return _LETTER.search(value) is not None
