"""Presidio's pattern recognizers, tuned for recall without losing their checks.

Each class extends a predefined recognizer and keeps its validation, so the
near misses of Presidio's own tests (bad Luhn, bad mod-97, wrong lengths)
stay undetected:

``TunedCreditCardRecognizer``
    Presidio's pattern plus the issuer ranges and lengths it misses:
    Mastercard's 2-series (2221-2720), 19-digit cards (Visa, Discover,
    UnionPay, Maestro) grouped by four, and 14-digit Diners grouped 4-6-4.
    Every match still needs the Luhn checksum.
``TunedIbanRecognizer``
    Also reads IBANs written all in lower case (``gb82west...``); the
    mod-97 check runs on the upper-cased value as before.
``ContextLicenseRecognizer``
    Presidio's US driver licence patterns score 0.01-0.3, below any useful
    ``min_score`` even after a context boost, so a licence number is never
    found. Here a match counts (score 0.6) only when a licence phrase
    (``driver's license``, ``DL#``, ``license number``...) stands in the
    few words before it; without one it is dropped: a bare 9-digit number
    is not a licence.
``LenientPhoneRecognizer``
    ``phonenumbers`` (Presidio's ``PhoneRecognizer``) rejects numbers that are
    not valid in one of its regions: extensions (``x1234``), the ``001``
    dialling prefix, invalid area codes, and short national formats
    (``25-62-29-72``, ``(69) 948-538``). This one reads phone *shapes*:
    a strong shape (``+`` or ``00`` prefix, an area code in parentheses,
    an extension, or ``ddd-ddd-dddd`` with an optional ``1-``) with 10 to
    15 digits scores 0.5; any
    other grouped run of 7 to 12 digits (or three pairs) scores 0.25 and needs a phone word
    around it (``call``, ``phone``, ``fax``, ``office``...), which Presidio's
    context enhancer turns into 0.6. Dates, years and plain amounts are not
    phone shapes (no ``/``, ``,`` or four-digit-year grouping).
``PossiblePhoneRecognizer`` (a second pass of ``WindowedPhoneRecognizer``)
    ``phonenumbers``' VALID check knows which prefixes a numbering plan has
    in use; a made-up or newly opened range fails it, and so do numbers
    written with the trunk ``(0)`` after the country code
    (``+44 (0)115 4960914``). This one accepts a number of a *possible*
    length (phonenumbers' POSSIBLE leniency) only where a reader would see a
    phone number anyway: in international form (``+CC``, and the country
    code is still checked) with at least 8 digits, or with 7+ digits after a
    telephony word (``call``, ``phone``, ``tel``, ``fax``, ``mobile``...)
    within 30 characters before it on the same line. ``number`` or
    ``contact`` alone do not count (account and contact ids).

Why one module of this size: each class is one predefined Presidio
recognizer tuned (card, IBAN, licence, bank, two phone passes, URL); they
share the phone shapes and Presidio's recognizer imports, and the registry
names them from here.

Why one module past 400 lines: each class is a small subclass of one
Presidio recognizer; keeping every tuning together lets a reviewer compare
them with Presidio's originals in one read.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

import phonenumbers
import regex
from presidio_analyzer import AnalysisExplanation, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    IbanRecognizer,
    PhoneRecognizer,
    UrlRecognizer,
    UsBankRecognizer,
    UsLicenseRecognizer,
)

from ._checksums import luhn_ok
from ._context import PhraseRequiredRecognizer, phrase_before

__all__ = [
    "ContextBankRecognizer",
    "ContextLicenseRecognizer",
    "LenientPhoneRecognizer",
    "TunedCreditCardRecognizer",
    "TunedIbanRecognizer",
    "WindowedPhoneRecognizer",
    "WindowedUrlRecognizer",
]


_MAESTRO_12 = "Maestro 12 digits"
_CARD_WORD = regex.compile(
    r"(?i:\bcard|\bcredit\b|\bdebit\b|\bmaestro\b|\bvisa\b|\bmastercard\b|\bpayment|\bpay\b)"
)


class TunedCreditCardRecognizer(PhraseRequiredRecognizer, CreditCardRecognizer):
    """Presidio's card recognizer plus 2-series, 19-digit and Diners 4-6-4 layouts."""

    PHRASE = _CARD_WORD

    PATTERNS = [
        *CreditCardRecognizer.PATTERNS,
        # Mastercard 2221-2720, 16 digits.
        Pattern(
            "Mastercard 2-series",
            r"\b2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)[- ]?\d{4}[- ]?\d{4}[- ]?\d{4}\b",
            0.3,
        ),
        # 19 digits grouped 4-4-4-4-3 or unseparated (Visa, Discover, UnionPay, Maestro).
        Pattern(
            "19-digit card",
            r"\b(?:4\d{3}|5[06-9]\d{2}|6\d{3})(?:[- ]?\d{4}){3}[- ]?\d{3}\b",
            0.3,
        ),
        # Diners Club 14 digits, 4-6-4.
        Pattern("Diners 4-6-4", r"\b3[0689]\d{2}[- ]?\d{6}[- ]?\d{4}\b", 0.3),
        # JCB 15 digits starting 2131, any grouping.
        Pattern("JCB 2131", r"\b2131(?:[- ]?\d){11}\b", 0.3),
        # 13-15 digits grouped by four from the left (4-4-4-1 .. 4-4-4-3).
        Pattern("4-4-4-short", r"\b[1-6]\d{3}([- ])\d{4}\1\d{4}\1\d{1,3}\b", 0.3),
        # Maestro's 12-digit cards; counted only after a card word (see analyze).
        Pattern(
            _MAESTRO_12,
            r"\b(?:50(?:18|20|38)|5[6-8]\d\d|6304|6759|676[1-3]|0604|6390)(?:[- ]?\d{4}){2}\b",
            0.3,
        ),
    ]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            patterns=list(self.PATTERNS),
            supported_language=supported_language,
            name="TunedCreditCardRecognizer",
        )

    def validate_result(self, pattern_text: str) -> bool:
        digits = sum(c.isdigit() for c in pattern_text)
        return 12 <= digits <= 19 and bool(super().validate_result(pattern_text))

    def needs_phrase(self, result: RecognizerResult) -> bool:
        # Maestro's 12-digit layout only: other card layouts stand alone.
        explanation = result.analysis_explanation
        digits = result.end - result.start
        return explanation is not None and explanation.pattern_name == _MAESTRO_12 and digits < 15


class TunedIbanRecognizer(IbanRecognizer):
    """Presidio's IBAN recognizer, also for IBANs written all in lower case.

    Not case-insensitive: Presidio's tests reject mixed case (``LV80 bANK``)
    and a regex ignoring case would run into the next word (``7601 failed``).
    The text is read a second time with ASCII letters upper-cased (same
    length), and a match there counts only if the original is all lower case.
    """

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language=supported_language, name="TunedIbanRecognizer")

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = super().analyze(
            text, entities, nlp_artifacts, regex_flags  # type: ignore[arg-type]
        )
        if not _LOWER_IBAN_START.search(text):
            return results
        upper = text.translate(_ASCII_UPPER)
        for r in super().analyze(upper, entities, nlp_artifacts, regex_flags):  # type: ignore[arg-type]
            value = text[r.start:r.end]
            if value.islower() and not any(r.start < o.end and o.start < r.end for o in results):
                results.append(r)
        return results


_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_LOWER_IBAN_START = regex.compile(r"\b[a-z]{2}\d{2}")


class ContextLicenseRecognizer(PhraseRequiredRecognizer, UsLicenseRecognizer):
    """US driver licence numbers, only right after a licence phrase."""

    PHRASE_SCORE = 0.6
    PHRASE = regex.compile(
        r"(?:\bdriver'?s?\W{0,2}\s*(?:licen[cs]e|lic\.?|permit)|\bdriving\s+licen[cs]e"
        r"|\bDL\s*(?:#|no\.?|number)?|\bCDL|\blicen[cs]e\s*(?:#|no\.?|number|id))"
        r"[\s:#.\-]*(?:(?:is|was|number|no\.?|id)\s+){0,3}$",
        regex.IGNORECASE,
    )
    PHRASE_GATE = regex.compile(r"\b(?:driv|c?dl|licen)", regex.IGNORECASE)

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language=supported_language,
                         name="ContextLicenseRecognizer")


class ContextBankRecognizer(PhraseRequiredRecognizer, UsBankRecognizer):
    """US bank account numbers (8-17 digits), only right after an account phrase.

    Presidio's pattern scores 0.05 and its context words lift it to 0.4,
    below any useful ``min_score``: ``my bank account number is 0123456789``
    was never found. Here a match counts (score 0.6) when ``bank account``,
    ``account number``, ``acct #``, ``checking``/``savings account`` stands
    in the few words before it; a bare number stays a number.
    """

    PHRASE_SCORE = 0.6
    PHRASE = regex.compile(
        r"(?:\b(?:bank|checking|savings|deposit)\s+(?:account|acct)\.?|\b(?:account|acct)\.?"
        r"\s*(?:#|no\.?|number|num\.?))[\s:#.\-]*(?:(?:is|was|number|no\.?|ending\s+in)\s+)"
        r"{0,3}$",
        regex.IGNORECASE,
    )

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language=supported_language, name="ContextBankRecognizer")


_PHONE_WORDS = (
    "phone", "telephone", "tel", "mobile", "cell", "call", "fax", "office", "reach", "dial",
    "answering", "contact", "whatsapp", "sms", "text", "ring", "landline", "hotline",
)  # fmt: skip

# Prefix: +CC, 00CC or the US 001; then an optional (area); then 2-4 digit
# groups joined by one space, dot or dash; then an optional extension.
_PREFIX = r"(?:\+\d{1,3}|00\d{0,3})"
_GROUPS = r"\d{2,4}(?:[ .-]\d{2,4}){0,3}[ .-]\d{2,6}"
_EXT = r"(?:[ ]?(?:x|ext\.?|extension)[ ]?\d{1,6})"
_PHONE = (
    rf"(?<![\w+/.:-])(?<!\d,)(?:(?:{_PREFIX}|1)[ .-]?)?(?:\(\d{{1,4}}\)[ .-]?)?{_GROUPS}{_EXT}?"
    r"(?![\w/]|[.,:-]\d)"
    r"|(?<![\w+])\+\d{8,15}(?!\w)"  # +15551234567
)
_STRONG = regex.compile(
    rf"^(?:{_PREFIX}.*|.*\(\d{{1,4}}\).*|.*{_EXT}|(?:1[ .-]?)?\d{{3}}([ .-])\d{{3}}\1\d{{4}})$",
    regex.IGNORECASE,
)
_SEP = regex.compile(r"[ .-]")
_DATE_LIKE = regex.compile(r"^(?:\d{4}[-.]\d{1,2}[-.]\d{1,2}|\d{1,2}[-.]\d{1,2}[-.]\d{4})$")


class LenientPhoneRecognizer(PatternRecognizer):
    """Phone-shaped numbers ``phonenumbers`` rejects; weak shapes need a phone word."""

    STRONG_SCORE = 0.5
    WEAK_SCORE = 0.25

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity="PHONE_NUMBER",
            name="LenientPhoneRecognizer",
            supported_language=supported_language,
            patterns=[Pattern("phone shape", _PHONE, self.WEAK_SCORE)],
            context=list(_PHONE_WORDS),
            global_regex_flags=regex.IGNORECASE | regex.MULTILINE,
        )

    def analyze(
        self,
        text: str,
        entities: Sequence[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = super().analyze(text, list(entities), nlp_artifacts,
                                                          regex_flags)
        kept = []
        for r in results:
            value = text[r.start:r.end]
            digits = sum(c.isdigit() for c in value)
            if _DATE_LIKE.match(value) or _not_a_phone(value):
                continue
            if _STRONG.match(value) and 10 <= digits <= 18:
                r.score = self.STRONG_SCORE
            elif not (7 <= digits <= 12 or (digits == 6 and len(_SEP.split(value)) == 3)):
                continue
            kept.append(r)
        return kept


# A stretch that may hold a phone number: digits with phone punctuation,
# an optional leading "+" or "(" and an extension; at least 5 digits.
_PHONE_WINDOW = regex.compile(
    r"[+(]?\d(?:[\d \t().\-/\[\]]|(?i:x|ext\.?|extension)[ ]?\d)*\d", regex.ASCII
)
_MIN_WINDOW_DIGITS = 6  # no region's valid number is shorter (ZIP codes are skipped)
_PAD = 16  # characters of surrounding text the matcher sees (it checks neighbours)


# Stretches no region reads as a phone: dates, SSN-shaped numbers (also the
# weak 3-6 and 5-4 SSN layouts, and ZIP+4), dotted quads (an IP address,
# valid or not: ``192.168.1.256``).
_NOT_PHONE_SHAPE = regex.compile(
    r"\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}(?: \d{1,2})?|\d{3}-\d{2}-\d{4}"
    r"|\d{3}-\d{6}|\d{5}-\d{4}|\d{1,3}(?:\.\d{1,3}){3}"
)
_COUNTING = ("0123456789", "1234567890", "9876543210")


def _not_a_phone(stretch: str) -> bool:
    """A stretch the matcher would reject anyway, a card number (Luhn, 13-19
    digits), or counting (``0123456789``, a placeholder)."""
    if _NOT_PHONE_SHAPE.fullmatch(stretch):
        return True
    digits = "".join(c for c in stretch if c.isdigit())
    if any(digits in run or run in digits for run in _COUNTING if len(digits) >= 7):
        return True
    return stretch.isdigit() and 13 <= len(stretch) <= 19 and luhn_ok(stretch)


_PHONE_NAME = "PhoneRecognizer"


# A telephony word, then at most 30 characters of the same line up to the number.
_TELEPHONY_CUE = regex.compile(
    r"(?i:\b(?:tel|telephone|phone|phones|cellphone|cell|mobile|fax|call|calls|called|calling"
    r"|dial|ring|whatsapp|sms|landline|hotline|reach|reached)\b)[^\n]{0,30}$"
)
_MIN_CUED_DIGITS = 7
_MIN_INTERNATIONAL_DIGITS = 8
_POSSIBLE_NAME = "PossiblePhoneRecognizer"


class WindowedPhoneRecognizer(PhoneRecognizer):
    """Presidio's ``phonenumbers`` recognizer, run only where digits cluster.

    ``PhoneNumberMatcher`` scans the whole text once per region and parses
    every digit group it meets (ZIP codes, years, amounts) eight times over.
    Here one cheap regex picks the stretches of digits and phone punctuation
    with at least six digits (not a date, an SSN shape or a Luhn-valid card
    number: the card recognizer reads those); the matcher runs on each stretch plus 16
    characters either side (it judges a candidate by its neighbours:
    ``1979-05-16 11`` alone is a valid number, ``1979-05-16 11:28`` is not),
    and keeps what overlaps the stretch, offsets shifted back. A stretch
    starting with ``+`` is matched in one region only (the country code
    decides, not the region), and once a region reads the whole stretch as
    one number the others are not tried.

    With ``possible=True`` (the default in ragseal's registry) a stretch that
    no region validated gets a second, POSSIBLE-leniency pass when it is in
    a phone's context (see ``PossiblePhoneRecognizer`` in the module doc);
    those results name ``PossiblePhoneRecognizer``. ``possible=False`` is
    exactly Presidio's recognizer, windowed.
    """

    def __init__(self, supported_language: str = "en", *, possible: bool = False) -> None:
        super().__init__(supported_language=supported_language, name=_PHONE_NAME)
        self._possible = possible
        self._leniency: int = self.leniency if self.leniency is not None else 1

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        seen: set[tuple[int, int]] = set()
        for m in _PHONE_WINDOW.finditer(text):
            digits = sum(c.isdigit() for c in m.group())
            if digits < _MIN_WINDOW_DIGITS or _not_a_phone(m.group()):
                continue
            lo, hi = max(0, m.start() - _PAD), min(len(text), m.end() + _PAD)
            window = text[lo:hi]
            # "+CC..." is read the same in every region: one pass is enough.
            international = m.group()[0] == "+"
            regions = self.supported_regions[:1] if international else self.supported_regions
            found = False
            for region in regions:
                covered = False
                matches = phonenumbers.PhoneNumberMatcher(window, region, leniency=self._leniency)
                for match in matches:
                    start, end = match.start + lo, match.end + lo
                    if start < m.end() and m.start() < end and (start, end) not in seen:
                        seen.add((start, end))
                        results.append(self._result(start, end, region, _PHONE_NAME))
                        found = True
                    covered = covered or (start <= m.start() and m.end() <= end)
                if covered:
                    break  # the whole stretch is one number: other regions add nothing
            if not found and self._possible and self._in_phone_context(
                    text, m, digits, international):
                results += self._possible_numbers(window, lo, m, regions)
        return results

    @staticmethod
    def _in_phone_context(text: str, m: regex.Match[str], digits: int,
                          international: bool) -> bool:
        if international:
            return digits >= _MIN_INTERNATIONAL_DIGITS
        return digits >= _MIN_CUED_DIGITS and phrase_before(_TELEPHONY_CUE, text, m.start(), 40)

    def _possible_numbers(self, window: str, lo: int, m: regex.Match[str],
                          regions: Sequence[str]) -> list[RecognizerResult]:
        for region in regions:
            spans = [
                (x.start + lo, x.end + lo)
                for x in phonenumbers.PhoneNumberMatcher(
                    window, region, leniency=phonenumbers.Leniency.POSSIBLE)
                if x.start + lo < m.end() and m.start() < x.end + lo
            ]
            if spans:
                return [self._result(s, e, region, _POSSIBLE_NAME) for s, e in spans]
        return []

    def _result(self, start: int, end: int, region: str, name: str) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.supported_entities[0],
            start=start,
            end=end,
            score=self.SCORE,
            analysis_explanation=AnalysisExplanation(
                recognizer=name,
                original_score=self.SCORE,
                textual_explanation=f"Recognized as {region} region phone number, using {name}",
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


# A dot between a letter or digit and a letter: every URL the patterns
# below can match has one ("example.com", "www.x.org/a").
_URL_HINT = regex.compile(r"[A-Za-z0-9-]\.[A-Za-z]")
_SPACE = regex.compile(r"\s")


class WindowedUrlRecognizer(UrlRecognizer):
    """Presidio's URL recognizer, run only on the words that hold a dotted name.

    Its patterns start with ``[a-z0-9.\\-]{1,253}`` and no anchor, so the
    regex engine tries them at every position of the text: the costliest
    recognizer by far (as much as all others together on 500-character
    paragraphs). No pattern can cross whitespace, so matching each
    whitespace-delimited word that holds a dotted name gives the same
    findings, offsets shifted back.
    """

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language=supported_language, name="UrlRecognizer")

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        end = -1
        for hint in _URL_HINT.finditer(text):
            if hint.start() < end:
                continue  # same word as the last hint
            space = _SPACE.search(text[: hint.start()][::-1])
            start = hint.start() - space.start() if space else 0
            after = _SPACE.search(text, hint.end())
            end = after.start() if after else len(text)
            word = text[start:end]
            for r in super().analyze(word, entities, nlp_artifacts, regex_flags):
                r.start += start
                r.end += start
                results.append(r)
        return results
