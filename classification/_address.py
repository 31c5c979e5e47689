"""Street addresses (``STREET_ADDRESS``): a pattern core, extended line by line.

Presidio has no address recognizer; spaCy tags at most the city (GPE) or a
building (FAC). An address is found from its *street line*, one of:

- house number, one to four capitalised words, a street suffix
  (``350 Fifth Avenue``, ``12 Old Mill Rd.``);
- a street word with a European street ending and a number
  (``Hausergasse 59``, ``Koskikatu 25``, ``Rue du Koweit 7``), optionally
  after a house number;
- a house number, one to three capitalised words and a number
  (``6750 Koskikatu 25``) when a unit (``Apt. 864``) or a line break follows;
- ``P.O. Box 101``.

The finding then grows over what usually follows on the same or the next
lines: a unit (``Apt.``, ``Suite``, ``Unit``, ``#``), then up to four short
capitalised parts (city, ``CO``, country) and a ZIP code, each separated by
a comma or a line break. It stops at sentence punctuation, so the words
after an address in running text are not swallowed. Context words
(``address``, ``lives``, ``ship``...) raise the score above the default
``min_score``; a bare street line scores 0.5.
"""

from __future__ import annotations

import regex
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

__all__ = ["STREET_SUFFIXES", "StreetAddressRecognizer"]

STREET_SUFFIXES = (
    "Street", "Str", "St", "Avenue", "Ave", "Av", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Ln",
    "Drive", "Dr", "Court", "Ct", "Way", "Place", "Pl", "Terrace", "Ter", "Parkway", "Pkwy",
    "Circle", "Cir", "Highway", "Hwy", "Square", "Sq", "Trail", "Trl", "Crescent", "Cres",
    "Close", "Row", "Alley", "Plaza", "Walk", "Grove", "Gardens", "Hill", "Park", "Path",
)  # fmt: skip
# Street words of European languages: as a word ending (Hauser-gasse) or a word.
_ENDINGS = (
    "straße", "strasse", "stasse", "str", "gasse", "weg", "vej", "vegen", "vägen", "gatan",
    "gata", "katu", "tie", "laan", "straat", "gade", "allee", "platz", "ring", "plein",
    "gracht", "kade", "utca", "út", "ulica", "hrauni", "gyden", "stræde", "torget",
)  # fmt: skip
_WORDS_BEFORE = ("Rue", "Via", "Viale", "Calle", "Avenida", "Rua", "R", "Av", "Piazza", "Paseo",
                 "Plaza", "Place", "Ctra", "Carrer", "Camino", "Largo", "Travessa", "Ulica")

_W = r"(?:[\p{Lu}][\p{L}'’.-]*|\d+(?:st|nd|rd|th))"  # a capitalised word, or 40th
_NUM = r"\d{1,6}[A-Za-z]?"
_SUFFIX = "|".join(sorted(STREET_SUFFIXES, key=len, reverse=True))
_ENDING = "|".join(sorted(_ENDINGS, key=len, reverse=True))
_BEFORE = "|".join(_WORDS_BEFORE)

_UNIT = r"(?i:Apt|Apartment|Suite|Ste|Unit|Flat|Room|Floor|\#)\.?[ ]?\d{1,6}[A-Za-z]?"
_STREET = regex.compile(
    rf"""
    (?<![\w-])
    (?:
        (?:{_NUM}[ ])?(?:{_NUM}[ ])(?:{_W}[ ]){{1,3}}(?:{_SUFFIX})\b\.?      # 350 Fifth Avenue
      | (?:{_NUM}[ ])?(?:{_W}[ ]){{0,2}}\p{{L}}*(?:{_ENDING})\.?[ ]{_NUM}\b  # Hausergasse 59
      | (?:{_NUM}[ ])?(?:{_BEFORE})\.?(?:[ ][\p{{L}}'’.-]+){{1,3}}[ ]{_NUM}\b  # Rue du Koweit 7
      | (?:{_NUM}[ ])?(?:{_BEFORE})\.?(?:[ ][\p{{L}}'’.-]+){{1,3}}(?=[,\n])
      | {_NUM}[ ](?:{_W}[ ]){{1,3}}{_NUM}(?=[ ,]*(?:\n|{_UNIT}))           # 6750 Koskikatu 25
      | P\.?[ ]?O\.?[ ]Box[ ]\d{{1,6}}
    )
    """,
    regex.VERBOSE,
)
_UNIT_AFTER = regex.compile(rf"[ ]*,?[ ]*\n?[ ]*{_UNIT}")
# One more part: a comma or line break, then a short capitalised phrase, a
# state code or a ZIP, never running into a sentence.
_PART = regex.compile(
    r"[ ]*(?:,[ ]*\n?|\n)[ ]*,?[ ]*"
    r"(?:[\p{Lu}][\p{L}'’.-]*(?:[ ][\p{L}'’.-]+){0,4}(?:[ ]\d{4,6}(?:-\d{4})?)?|\d{5}(?:-\d{4})?)"
    r"(?=[ ]*(?:[,\n]|$|[.!?](?:\s|$)))"
)
_ZIP_AFTER = regex.compile(r"[ ,]+(?:[A-Z]{2}[ ])?\d{5}(?:-\d{4})?\b")
_MAX_PARTS = 4


_NAME = "StreetAddressRecognizer"


class StreetAddressRecognizer(EntityRecognizer):
    """``STREET_ADDRESS``: a street line plus unit, city, state, ZIP and country."""

    ENTITY = "STREET_ADDRESS"
    CONTEXT = ("address", "lives", "live", "living", "located", "ship", "mail", "deliver",
               "send", "office", "at", "street", "moved", "residence", "home")
    SCORE = 0.5

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            name=_NAME,
            supported_language=supported_language,
            context=list(self.CONTEXT),
        )

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for start, end in find_addresses(text):
            results.append(
                RecognizerResult(
                    self.ENTITY, start, end, self.SCORE,
                    analysis_explanation=AnalysisExplanation(
                        recognizer=_NAME, original_score=self.SCORE,
                        textual_explanation="street line",
                    ),
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: _NAME,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    },
                )
            )
        return results


def find_addresses(text: str) -> list[tuple[int, int]]:
    """Spans of addresses in ``text`` (street line, then unit and trailing parts)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = _STREET.search(text, pos, timeout=1.0)
        if m is None:
            break
        start, end = m.span()
        unit = _UNIT_AFTER.match(text, end)
        if unit:
            end = unit.end()
        for _ in range(_MAX_PARTS):
            part = _PART.match(text, end)
            if part is None:
                break
            end = part.end()
        zip_code = _ZIP_AFTER.match(text, end)
        if zip_code:
            end = zip_code.end()
        spans.append((start, end))
        pos = end
    return spans
