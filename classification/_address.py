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
- ``P.O. Box 101``; US military addresses (``PSC 1139, Box 7638`` or
  ``USNS Márquez``, then ``APO AP 94917``; USPS Publication 28).

A lower-case street line (``19 folkestone road``: house number, words, a
full street word) is read too, but
it counts only after an address word (``address``, ``ship to``, ``deliver``...).

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

__all__ = ["STREET_SUFFIXES", "StreetAddressRecognizer", "find_addresses",
           "find_lower_case_addresses"]

STREET_SUFFIXES = (
    "Street", "Str", "St", "Avenue", "Ave", "Av", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Ln",
    "Drive", "Dr", "Court", "Ct", "Way", "Place", "Pl", "Terrace", "Ter", "Parkway", "Pkwy",
    "Circle", "Cir", "Highway", "Hwy", "Square", "Sq", "Trail", "Trl", "Crescent", "Cres",
    "Close", "Row", "Alley", "Plaza", "Walk", "Grove", "Gardens", "Hill", "Park", "Path",
    "Wharf", "Quay",
    # USPS Publication 28, appendix C1: primary street suffix names
    *"""
    Alley Annex Arcade Avenue Bayou Beach Bend Bluff Bluffs Bottom Boulevard Branch Bridge Brook
    Brooks Burg Burgs Bypass Camp Canyon Cape Causeway Center Centers Circle Circles Cliff Cliffs
    Club Common Commons Corner Corners Course Court Courts Cove Coves Creek Crescent Crest
    Crossing Crossroad Crossroads Curve Dale Dam Divide Drive Drives Estate Estates Expressway
    Extension Extensions Falls Ferry Field Fields Flat Flats Ford Fords Forest Forge Forges
    Fork Forks Fort Freeway Garden Gardens Gateway Glen Glens Green Greens Grove Groves Harbor
    Harbors Haven Heights Highway Hill Hills Hollow Inlet Island Islands Isle Junction Junctions
    Key Keys Knoll Knolls Lake Lakes Landing Lane Light Lights Loaf Lock Locks Lodge Loop Mall
    Manor Manors Meadow Meadows Mews Mill Mills Mission Motorway Mount Mountain Mountains Neck
    Orchard Oval Overpass Park Parks Parkway Parkways Pass Passage Path Pike Pine Pines Place
    Plain Plains Plaza Point Points Port Ports Prairie Radial Ramp Ranch Rapid Rapids Rest Ridge
    Ridges River Road Roads Route Row Rue Run Shoal Shoals Shore Shores Skyway Spring Springs
    Spur Spurs Square Squares Station Stravenue Stream Street Streets Summit Terrace Throughway
    Trace Track Trafficway Trail Trailer Tunnel Turnpike Underpass Union Unions Valley Valleys
    Viaduct View Views Village Villages Ville Vista Walk Walks Wall Way Ways Well Wells
    """.split(),
)  # fmt: skip
# Street words of European languages: as a word ending (Hauser-gasse) or a word.
_ENDINGS = (
    "straße", "strasse", "stasse", "str", "gasse", "weg", "vej", "vegen", "vägen", "gatan",
    "gata", "katu", "tie", "laan", "straat", "gade", "allee", "platz", "ring", "plein",
    "gracht", "kade", "utca", "út", "útja", "ulica", "hrauni", "gyden", "stræde", "torget",
    "gate", "veien", "vei", "plads", "plaats", "steeg", "dreef", "iela", "väg", "strada", "ulice",
    "caddesi", "sokak", "cesta", "tér", "körút", "u.",
)  # fmt: skip
_WORDS_BEFORE = ("Rue", "Via", "Viale", "Calle", "Avenida", "Rua", "R", "Av", "Piazza", "Paseo",
                 "Plaza", "Place", "Ctra", "Carrer", "Camino", "Largo", "Travessa", "Ulica", "ul",
                 "Estrada", "Corso", "Strada", "Avinguda", "Boulevard", "Chaussée", "Allée", "C/",
                 "Avenue", "Quai", "Chemin", "Impasse", "Cours", "Rambla", "Travesía")
# Lower-case forms that start a street in running text ("7 rue Charles Corbeau").
_LOWER_BEFORE = (
    "rue|avenue|av|boulevard|bd|quai|place|chemin|allée|impasse|cours|via|viale|calle|rua"
    "|avenida|strada|piazza|estrada|corso"
)

_W = r"(?:[\p{Lu}][\p{L}'’.-]*|\d+(?:st|nd|rd|th))"  # a capitalised word, or 40th
_NUM = r"\d{1,6}[A-Za-z]?"
_SUFFIX = "|".join(sorted(set(STREET_SUFFIXES), key=len, reverse=True))
_ENDING = "|".join(regex.escape(e) for e in sorted(_ENDINGS, key=len, reverse=True))
_BEFORE = "|".join(_WORDS_BEFORE)

_MILITARY = r"[ ]*,?[ ]*\n?[ ]*(?i:[ADF]PO[ ]A[AEP])[ ]\d{5}"
# ... in running text only those that are no English words ("3 via Email").
_LOWER_BEFORE_WORD = (
    "rue|avenue|boulevard|quai|chemin|allée|impasse|calle|rua|avenida|strada|estrada"
)
_PARTICLE = r"(?:du|de|la|le|les|des|del|della|di|do|da|dos|das)"
_UNIT_WORD = r"(?i:apt|apartment|suite|ste|unit|flat|room|floor)\b"
_UNIT = r"(?i:Apt|Apartment|Suite|Ste|Unit|Flat|Room|Floor|\#)\.?[ ]?\d{1,6}[A-Za-z]?"
_ENDING_THEN_NUMBER = rf"(?:{_ENDING})\.?[ ]{_NUM}\b"
_STREET_TEMPLATE = rf"""
    (?<![\w-])
    (?:
        (?:{_NUM}[ ])?(?:{_NUM}[ ])(?:{_W}[ ]){{1,3}}(?:{_SUFFIX})\b\.?      # 350 Fifth Avenue
      ENDING_ALTERNATIVE
      | (?:{_NUM}[ ])?(?:{_BEFORE})\.?(?:[ ][\p{{L}}'’.-]+){{1,5}}[ ]{_NUM}\b  # Rue du Koweit 7
      | (?:{_NUM}[ ])?(?:{_BEFORE})\.?(?:[ ][\p{{L}}'’.-]+){{1,3}}(?=[,\n])
      | {_NUM}[ ](?:{_NUM}[ ])?(?:{_LOWER_BEFORE_WORD})(?:[ ]{_PARTICLE})*[ ][\p{{Lu}}][\p{{L}}'’-]*
        (?:[ ](?!{_UNIT_WORD})[\p{{L}}'’-]+){{0,3}}(?=[ ]*(?:[,\n]|$|{_UNIT}))  # 7 rue Charles
      | {_NUM}[ ](?:{_W}[ ]){{1,3}}{_NUM}(?=[ ,]*(?:\n|{_UNIT}))           # 6750 Koskikatu 25
      | (?i:P\.?[ ]?O\.?[ ]Box)[ ]\d{{1,6}}
      | (?i:(?:PSC|CMR|Unit)[ ]\d{{1,5}},?[ ]Box)[ ]\d{{1,5}}(?={_MILITARY})  # US military (USPS)
      | (?i:USNS|USNV|USS|USCGC)[ ][\p{{L}}'’.-]+(?:[ ][\p{{L}}'’.-]+)?(?={_MILITARY})
    )
    """
# "Hausergasse 59": a word ending in a street word, then a number. Tried at
# every word start it is two thirds of the address search, and it needs its
# own tail (street-word ending, number) somewhere in the text: a text without
# one is searched without this alternative, with the same results.
_STREET = regex.compile(
    _STREET_TEMPLATE.replace(
        "ENDING_ALTERNATIVE",
        rf"| (?:{_NUM}[ ])?(?:{_W}[ ]){{0,2}}\p{{L}}*{_ENDING_THEN_NUMBER}  # Hausergasse 59",
    ),
    regex.VERBOSE,
)
_STREET_WITHOUT_ENDING = regex.compile(
    _STREET_TEMPLATE.replace("ENDING_ALTERNATIVE", ""), regex.VERBOSE
)
# Its alternatives apart (``_with_ending``): the first, and the ending one.
_ENDING_ALTERNATIVE = rf"(?:{_NUM}[ ])?(?:{_W}[ ]){{0,2}}\p{{L}}*{_ENDING_THEN_NUMBER}"
_ENDING_STREET = regex.compile(rf"(?<![\w-])(?:{_ENDING_ALTERNATIVE})")
_FIRST_STREET = regex.compile(
    rf"(?<![\w-])(?:{_NUM}[ ])?(?:{_NUM}[ ])(?:{_W}[ ]){{1,3}}(?:{_SUFFIX})\b\.?")
_HAS_ENDING_THEN_NUMBER = regex.compile(_ENDING_THEN_NUMBER)
_SPACE_NUMBER = regex.compile(rf"[ ]{_NUM}\b")
_ENDING_SET = frozenset(_ENDINGS)
_ENDING_LENGTHS = tuple(sorted({len(e) for e in _ENDINGS}))
_UNIT_AFTER = regex.compile(rf"[ ]*,?[ ]*\n?[ ]*{_UNIT}")
# One more part: a comma or line break, then a short capitalised phrase, a
# state code or a ZIP, never running into a sentence.
_PART = regex.compile(
    r"[ ]*(?:,[ ]*\n?|\n)[ ]*,?[ ]*"
    r"(?:[\p{Lu}][\p{L}'’.-]*(?:[ ][\p{L}'’.-]+){0,4}(?:[ ]\d{4,6}(?:-\d{4})?)?|\d{5}(?:-\d{4})?)"
    r"(?=[ ]*(?:[,\n]|$|[.!?](?:\s|$)))"
)
_ZIP_AFTER = regex.compile(r"[ ,]+(?:[A-Z]{2}[ ])?\d{5}(?:-\d{4})?\b")
_MILITARY_AFTER = regex.compile(_MILITARY)
# Lower-case text ("19 folkestone road"): house number, words, a full street
# word; kept only after an address word (``_ADDRESS_WORD``).
_FULL_SUFFIXES = (
    "Street", "Avenue", "Road", "Boulevard", "Lane", "Drive", "Court", "Place", "Terrace",
    "Parkway", "Circle", "Highway", "Square", "Trail", "Crescent", "Close", "Alley", "Plaza",
    "Grove", "Gardens", "Way",
)
_ADDRESS_WORD = regex.compile(
    r"(?i:\baddress|\bship(?:ped|ping)?\s+to\b|\bsen[dt]\s+(?:\S+\s+){0,3}to\b|\bdeliver"
    r"|\bmail(?:ed)?\s+to\b|\bmoved\s+to\b|\blives?\s+(?:at|on)\b|\blocated\s+at\b"
    r"|\boffice\s+is\s+at\b)"
)
_LOWER_STREET = regex.compile(
    rf"(?<![\w-])(?:{_NUM}[ ])?{_NUM}[ ](?:"
    rf"(?:[\p{{Ll}}][\p{{L}}'’.-]*[ ]){{1,3}}(?:{'|'.join(x.lower() for x in _FULL_SUFFIXES)})\b"
    rf"|(?:{_LOWER_BEFORE})(?:[ ](?!{_UNIT_WORD})[\p{{Ll}}'’-]+){{1,4}}[ ]{_NUM}\b)"  # via x 74
)
_MAX_PARTS = 4


_NAME = "StreetAddressRecognizer"


class StreetAddressRecognizer(EntityRecognizer):
    """``STREET_ADDRESS``: a street line plus unit, city, state, ZIP and country."""

    ENTITY = "STREET_ADDRESS"
    CONTEXT = ("address", "lives", "live", "living", "located", "ship", "mail", "deliver",
               "send", "office", "at", "street", "moved", "residence", "home")
    SCORE = 0.5
    LOWER_CASE_SCORE = 0.5  # only after an address word

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
        strong = find_addresses(text)
        weak = [(s, e) for s, e in find_lower_case_addresses(text)
                if not any(s < e2 and s2 < e for s2, e2 in strong)
                and _ADDRESS_WORD.search(text, max(0, s - 60), s, timeout=1.0)]
        for (start, end), score in [(x, self.SCORE) for x in strong] + [
            (x, self.LOWER_CASE_SCORE) for x in weak
        ]:
            results.append(
                RecognizerResult(
                    self.ENTITY, start, end, score,
                    analysis_explanation=AnalysisExplanation(
                        recognizer=_NAME, original_score=score,
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
    return _find(_STREET_WITHOUT_ENDING, text, _ending_windows(text))


def find_lower_case_addresses(text: str) -> list[tuple[int, int]]:
    """Spans of lower-case street lines (``19 folkestone road``) and their parts."""
    return _find(_LOWER_STREET, text)


def _find(pattern: regex.Pattern[str], text: str,
          endings: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = 0
    found: dict[int, int | None] = {}  # per ending window: where its next match starts
    while True:
        m: regex.Match[str] | None = pattern.search(text, pos, timeout=1.0)
        if endings:
            m = _with_ending(text, pos, m, endings, found)
        if m is None:
            break
        start, end = m.span()
        spans.append((start, _extend(text, end)))
        pos = spans[-1][1]
    return spans


def _ending_windows(text: str) -> list[tuple[int, int]]:
    """Where the "Hausergasse 59" alternative can match: per street-word ending
    followed by a number (``_HAS_ENDING_THEN_NUMBER``), (from, to): ``to`` is
    that number's end, ``from`` four spaces back on its line (the
    alternative has at most three before the ending: number, two words,
    the word holding the ending). Found from the numbers after a space, the
    ending looked up in a set: an alternation of 50 endings tried at every
    position cost a third of the address search."""
    windows: list[tuple[int, int]] = []
    for m in _SPACE_NUMBER.finditer(text, timeout=1.0):
        space = m.start()
        stops = (space, space - 1) if text[space - 1 : space] == "." else (space,)
        if not any(text[max(0, stop - n) : stop] in _ENDING_SET
                   for stop in stops for n in _ENDING_LENGTHS):
            continue
        line = text.rfind("\n", 0, space) + 1
        lo = space
        for _ in range(4):
            lo = text.rfind(" ", line, lo)
            if lo < 0:
                lo = line
                break
        else:
            lo += 1
        windows.append((lo, m.end()))
    return windows


def _with_ending(text: str, pos: int, m: regex.Match[str] | None,
                 windows: list[tuple[int, int]],
                 found: dict[int, int | None]) -> regex.Match[str] | None:
    """The first match of ``_STREET`` at or after ``pos``, given ``m``, that of
    ``_STREET_WITHOUT_ENDING``.

    ``_STREET`` is ``_STREET_WITHOUT_ENDING`` with the "Hausergasse 59"
    alternative second. That alternative ends with a street-word ending and
    a number, so it is searched only in the windows before one
    (``_ending_windows``), each cut at its number (a ``\\b`` there holds in
    the whole text too); the leftmost start found is then matched on the
    whole text. Where it starts first it wins; where both start at one
    position it wins unless the first alternative matches there too: the
    answer of ``_STREET``'s own leftmost, first-alternative search, without
    walking the alternative over every word of the text. ``found`` keeps
    each window's last answer (none stays none; a start ahead of ``pos`` is
    still the next one).
    """
    limit = m.start() if m is not None else len(text)
    best: int | None = None
    for i, (lo, hi) in enumerate(windows):
        if hi <= pos:
            continue
        if lo > (limit if best is None else best):
            break  # windows start in order: none later can start earlier
        cached = found.get(i, -1)
        if cached is not None and cached < pos:
            hit = _ENDING_STREET.search(text, max(lo, pos), hi, timeout=1.0)
            found[i] = cached = hit.start() if hit is not None else None
        if cached is not None and (best is None or cached < best):
            best = cached
    if best is None or best > limit:
        return m
    if m is not None and best == m.start() and _FIRST_STREET.match(text, best, timeout=1.0):
        return m
    line_end = text.find("\n", best)
    return _ENDING_STREET.match(text, best, len(text) if line_end < 0 else line_end,
                                timeout=1.0)


def _extend(text: str, end: int) -> int:
    military = _MILITARY_AFTER.match(text, end)
    if military:
        return int(military.end())
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
    return end
