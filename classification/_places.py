"""Countries and major cities (``LOCATION``) from the IANA time zone tables.

spaCy's small model misses many places, above all in lower case (``burkina
faso``) or in capitals (``LUXEMBOURG``). The ``tzdata`` package (already a
pinned dependency; the tables are public domain) ships ``iso3166.tab``
(249 country names) and ``zone.tab`` (~350 cities that name a time zone;
``Area/City`` entries only, not ``Area/State/Town``).
:class:`PlaceRecognizer` finds those names, plus the usual long and short
forms of a few countries (``Republic of Ireland``, ``United States``,
``Federated States of Micronesia``), as whole words:

- written capitalised or in capitals: score 0.6;
- in lower case: score 0.6 too for country names, except those that are
  everyday words or first names (``turkey``, ``chad``, ``jordan``,
  ``china``...); a city in lower case is not read.
"""

from __future__ import annotations

import functools
from importlib import resources

import regex
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

__all__ = ["PlaceRecognizer", "is_place", "place_names"]

# Long or common forms the tables do not spell out (curated).
_ALIASES = (
    "United States", "United States of America", "USA", "United Kingdom", "UK",
    "Great Britain", "England", "Scotland", "Wales", "Northern Ireland", "Republic of Ireland",
    "Czech Republic", "Czechia", "Ivory Coast", "Russia", "South Korea", "North Korea",
    "Republic of Korea", "Democratic Republic of the Congo", "Republic of the Congo",
    "Federated States of Micronesia", "Vatican City", "Holy See", "Burma", "Swaziland",
    "The Netherlands", "Holland", "Macedonia", "North Macedonia", "Cape Verde", "East Timor",
    "Timor-Leste", "Saint Lucia", "Saint Kitts and Nevis", "Antigua and Barbuda",
    "Bosnia and Herzegovina", "Trinidad and Tobago", "Saint Vincent and the Grenadines",
    "Sao Tome and Principe", "São Tomé and Príncipe", "Palestine", "Taiwan", "Hong Kong",
    "People's Republic of China", "Syria", "Laos", "Vietnam", "Brunei", "Moldova", "Iran",
    "Bolivia", "Venezuela", "Tanzania",
)  # fmt: skip
# Names that are everyday words or first names in lower case: capitals only.
_AMBIGUOUS_LOWER = frozenset({
    "turkey", "chad", "jordan", "china", "jersey", "guinea", "georgia", "niger", "mali", "oman",
    "peru", "cuba", "india", "israel", "japan", "victoria", "florence", "nice", "reading", "bath",
    "mobile", "split", "male", "lima", "panama", "chile", "iceland", "greenland", "monaco",
    "paris", "sydney", "austin", "phoenix", "denver", "dallas", "houston", "regina", "wake",
    "guernsey", "man", "christmas", "norfolk", "ascension", "uk", "usa", "st", "jamaica", "kiev",
})  # fmt: skip

_NAME = "PlaceRecognizer"


@functools.lru_cache(maxsize=1)
def place_names() -> tuple[frozenset[str], frozenset[str]]:
    """(countries, cities) as written, from tzdata's tables plus aliases."""
    tables = resources.files("tzdata").joinpath("zoneinfo")
    countries: set[str] = set(_ALIASES)
    for line in tables.joinpath("iso3166.tab").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        name = line.split("\t")[1].strip()
        base = regex.sub(r"\s*\(.*?\)", "", name)
        for variant in (base, base.replace("&", "and"), base.replace("St ", "Saint ")):
            countries.add(variant)
    cities: set[str] = set()
    for line in tables.joinpath("zone.tab").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or line.count("\t") < 2:
            continue
        zone = line.split("\t")[2].split("/")
        # Area/City only: Area/State/Town names small towns ("North_Dakota/Center").
        if len(zone) == 2 and len(zone[1]) > 3:
            cities.add(zone[1].replace("_", " "))
    return frozenset(countries), frozenset(cities - countries)


_WORD = regex.compile(r"[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*")


@functools.lru_cache(maxsize=1)
def _index() -> dict[str, list[tuple[str, ...]]]:
    """First word (lower case) -> the names starting with it, as word tuples, longest first."""
    countries, cities = place_names()
    index: dict[str, list[tuple[str, ...]]] = {}
    for name in countries | cities:
        words = tuple(w.lower() for w in _WORD.findall(name))
        if words and "".join(words) == regex.sub(r"[^\p{L}\p{N}'’-]", "", name).lower():
            index.setdefault(words[0], []).append(words)
    for names in index.values():
        names.sort(key=len, reverse=True)
    return index


def _find(text: str) -> list[tuple[int, int]]:
    """Spans of listed names: whole words, separated by whitespace only."""
    index = _index()
    words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        for name in index.get(words[i][2], ()):
            n = len(name)
            if i + n <= len(words) and all(
                words[i + k][2] == name[k]
                and (k == 0 or not text[words[i + k - 1][1]:words[i + k][0]].strip())
                for k in range(n)
            ):
                spans.append((words[i][0], words[i + n - 1][1]))
                i += n
                break
        else:
            i += 1
    return spans


@functools.lru_cache(maxsize=1)
def _lower_countries() -> frozenset[str]:
    return frozenset(c.lower() for c in place_names()[0]) - _AMBIGUOUS_LOWER


def is_place(value: str) -> bool:
    """``value`` is a listed country or city (any case)."""
    value = value.strip()
    return _find(value) == [(0, len(value))]


class PlaceRecognizer(EntityRecognizer):
    """``LOCATION``: country and major city names as whole words."""

    ENTITY = "LOCATION"
    SCORE = 0.6

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=[self.ENTITY], name=_NAME, supported_language=supported_language
        )

    def load(self) -> None:
        _index()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        out: list[RecognizerResult] = []
        for start, end in _find(text):
            value = text[start:end]
            if value.islower() and (value not in _lower_countries() or len(value) < 4):
                continue  # lower case: unambiguous country names only
            if not (value.isupper() or all(w.islower() or w[1:] == w[1:].lower()
                                               for w in value.split())):
                continue  # mIxEd case: not a written name
            out.append(
                RecognizerResult(
                    self.ENTITY, start, end, self.SCORE,
                    analysis_explanation=AnalysisExplanation(
                        recognizer=_NAME, original_score=self.SCORE,
                        textual_explanation="tzdata place names",
                    ),
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: _NAME,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    },
                )
            )
        return out
