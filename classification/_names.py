"""Person names from the US Census name lists, next to spaCy's PERSON.

The small English model misses many names (``Colton Svenningsen``), reads
lone names as organisations (``Kaylee``, ``Phillips``) and never reads a
name in lower case (``christine fiorentino``). The 1990 US Census lists of
first names (5,494) and surnames (88,799), public-domain data shipped by the
MIT-licensed ``names`` package, give :class:`PersonNameRecognizer`:

- a capitalised first name from the list followed by one or two capitalised
  words (particles such as ``van der`` allowed): score 0.6 when the last word
  is a listed surname, else 0.45, which needs a context word (``name``,
  ``Mr``, ``Dear``...) to pass the default ``min_score``;
- a lower-case first name followed by a lower-case listed surname: score
  0.3, counted only with a context word;

- two or three capitalised words right after a cue that only people take
  (``approved by``, ``signed by``, ``Employee``, ``Dr.``, ``Dear``...),
  whatever the first name (the lists are US names of 1990: ``Tomasz``,
  ``Amara`` are not in them): score 0.55;

and :func:`looks_like_person` lets the NER recognizer read an ORG span that is
a listed first name (plus capitalised words) or a lone listed name as PERSON
(the more sensitive reading).

First names that are also everyday words (``Will``, ``May``, ``Grant``,
``Hope``...) and spaCy's stop words never start a name.
"""

from __future__ import annotations

import functools
from importlib import resources

import regex
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from ._context import phrase_before

__all__ = ["PersonNameRecognizer", "looks_like_person", "name_lists"]

# Listed first names that are everyday English words or titles (curated).
_COMMON_WORDS = frozenset("""
will may june april august mark bill grant rose art chase hope summer guy dawn faith joy grace
page rich lane dean drew ray gene jack jean sky star miles rusty sandy pat sue don al ed king
major young long brown white green black gray grey hall wood stone price penny ruby pearl
crystal amber ivory jade iris lily daisy holly ivy heather olive violet autumn winter spring
christian angel angela chance cash sterling rocky river storm sunny forest glen dale clay
cliff rod lamar lee carol carl bob buck buddy bud ward marshal marshall earl duke baron prince
royal junior senior sonny son norman frank mason hunter taylor porter cooper parker baker
carter tucker fisher miller smith doctor judge case field hill park street road way north
south east west lincoln washington jackson jefferson madison houston austin dallas denver
phoenix paris china india georgia virginia carolina florida kansas nevada montana dakota
""".split())
_PARTICLES = r"(?:van|von|de|der|den|da|di|del|della|la|le|du|dos|das|ter|ten|bin|al|el|st\.?)"
_CAP = r"(?:[\p{Lu}]['’][\p{Lu}][\p{Ll}]+|[\p{Lu}][\p{Ll}]+(?:[-'’][\p{Lu}]?[\p{Ll}]+)?)"
_CAPITAL_NAME = regex.compile(
    rf"(?<![\p{{L}}\p{{N}}])({_CAP})((?:[ ](?:{_PARTICLES}[ ]){{0,3}}{_CAP}){{1,2}})(?![\p{{L}}])"
)
# What only a person follows: an act done "by" someone, a role or a title.
_PERSON_CUE = regex.compile(
    r"(?:\b(?:(?i:approved|signed|authori[sz]ed|countersigned|reviewed|requested|submitted"
    r"|prepared|written|escalated|assigned|interviewed|referred|witnessed|notarized)[ ]by"
    r"|(?i:employee|colleague|manager|supervisor|contractor|candidate|applicant|patient"
    r"|tenant|spouse|dear|attn|mr|mrs|ms|dr|prof)\.?)|(?i:\bcc:?))[ ]$"
    # a form's name field, an e-mail header's display name
    r"|(?i:(?<!(?:account|company|file|user|host|domain|product|project|bank|vendor|business"
    r"|legal entity|payee)[ ])\b(?:full\s+|legal\s+|employee\s+)?name|\bfrom|\bto|\bcc"
    r"|\breply-to)[ \t]*:[ \t]*$"
)
# Cue-only names (no listed first name) are dropped when spaCy reads an
# organisation, place or product there, or a word names a team ("signed by
# Acme Robotics", "prepared by Finance Operations").
_NOT_PEOPLE = frozenset({"ORG", "GPE", "LOC", "FAC", "PRODUCT", "NORP", "EVENT", "WORK_OF_ART"})
_TEAM_WORDS = frozenset("""
operations finance legal engineering sales marketing support team teams robotics logistics
security facilities payroll procurement compliance accounting office staff board desk
accounts receivable payable customer success service services department helpdesk billing
""".split())


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)


def _cued(text: str, start: int, end: int, tail: list[str],
          not_people: list[tuple[int, int]]) -> bool:
    """Capitalised words at ``start:end`` right after a person cue, and no team or
    NER organisation/place/product there."""
    return (
        len(tail) <= 2
        and not any(w.lower() in _TEAM_WORDS for w in tail)
        and not _inside(start, end, not_people)
        and phrase_before(_PERSON_CUE, text, start, 40)
    )


_LOWER_WORD = regex.compile(r"(?<![\p{L}\p{N}@./-])[\p{Ll}]{2,}(?![\p{L}\p{N}@])")
_ORG_WORDS = frozenset("""
inc ltd llc plc corp corporation company co group bank university college school institute
foundation association society holdings partners capital ventures labs systems solutions
technologies services consulting agency department ministry council committee club church
hospital clinic center centre trust fund gmbh ag sa nv bv
""".split())

_NAME = "PersonNameRecognizer"


@functools.lru_cache(maxsize=1)
def name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames), lower case, from the Census files in ``names``."""
    from spacy.lang.en.stop_words import STOP_WORDS

    def read(file: str) -> set[str]:
        text = resources.files("names").joinpath(file).read_text(encoding="ascii")
        return {line.split(maxsplit=1)[0].lower() for line in text.splitlines() if line.strip()}

    skip = _COMMON_WORDS | STOP_WORDS
    first = read("dist.male.first") | read("dist.female.first")
    last = read("dist.all.last")
    return frozenset(first - skip), frozenset(last - STOP_WORDS)


def looks_like_person(value: str) -> bool:
    """An NER span that is a listed first name (+ capitalised words) or a lone listed name."""
    first, last = name_lists()
    words = value.split()
    if not 1 <= len(words) <= 3 or any(w.lower().strip(".,") in _ORG_WORDS for w in words):
        return False
    if not all(w[:1].isupper() and w[1:2].islower() for w in words):
        return False
    head = words[0].lower()
    if len(words) == 1:
        return head in first or head in last
    return head in first


class PersonNameRecognizer(EntityRecognizer):
    """``PERSON`` from Census first names and surnames (see the module doc)."""

    ENTITY = "PERSON"
    STRONG = 0.6  # listed first name + listed surname
    WEAK = 0.45  # listed first name + capitalised word: needs context
    LOWER = 0.3  # lower case: needs context
    CUED = 0.55  # any capitalised words after a cue only people take
    CONTEXT = ("name", "named", "called", "mr", "mrs", "ms", "miss", "dr", "dear", "hello",
               "user", "patient", "customer", "client", "guardian", "beneficiary", "partner",
               "signed", "regards", "sincerely", "contact", "employee", "manager", "spouse",
               "wife", "husband", "daughter", "mother", "father", "brother", "sister", "friend",
               "colleague", "attention", "attn")

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            name=_NAME,
            supported_language=supported_language,
            context=list(self.CONTEXT),
        )

    def load(self) -> None:
        name_lists()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        first, last = name_lists()
        not_people = [
            (e.start_char, e.end_char) for e in (nlp_artifacts.entities if nlp_artifacts else ())
            if e.label_ in _NOT_PEOPLE
        ]
        out: list[RecognizerResult] = []
        pos = 0
        while (m := _CAPITAL_NAME.search(text, pos, timeout=1.0)) is not None:
            tail = m.group(2).split()
            if any(w.lower() in _ORG_WORDS for w in tail):
                pos = m.start(2) + 1
                continue
            if m.group(1).lower() in first:
                score = self.STRONG if tail[-1].lower() in last else self.WEAK
                if score < self.CUED and _cued(text, m.start(), m.end(), tail, not_people):
                    score = self.CUED
            elif _cued(text, m.start(), m.end(), tail, not_people):
                score = self.CUED
            else:
                pos = m.start(2) + 1  # "Dear Teresa ...": try again from the next word
                continue
            out.append(self._result(m.start(), m.end(), score))
            pos = m.end()
        words = list(_LOWER_WORD.finditer(text, timeout=1.0))
        for a, b in zip(words, words[1:], strict=False):
            if (
                text[a.end():b.start()] == " "
                and a.group() in first
                and b.group() in last
                and len(b.group()) > 2
            ):
                out.append(self._result(a.start(), b.end(), self.LOWER))
        return out

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            self.ENTITY, start, end, score,
            analysis_explanation=AnalysisExplanation(
                recognizer=_NAME, original_score=score, textual_explanation="census name lists",
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: _NAME,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )
