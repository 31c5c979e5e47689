"""HIPAA Safe Harbor identifiers that Presidio has no recognizer for.

Each is a small pattern recognizer that a steward switches on under
``entities:`` (none is in the default policy). Most identifiers are only
distinguishable from other numbers by the words around them, so those
patterns *require* a context word in the few words before the value (checked
here, not left to Presidio's score boost, which a low ``min_score`` would
bypass):

=======================  ==========================================  =============
entity                   value                                       needs context
=======================  ==========================================  =============
MEDICAL_RECORD_NUMBER    ``MRN 00123456``, ``MR# 4455667``           MRN, medical record
HEALTH_PLAN_ID           member/subscriber/policy id, 6-20 chars     health plan, member id
ACCOUNT_NUMBER           6-17 digits, optional dashes                account, acct
DEVICE_SERIAL            ``SN`` / serial number + 6-20 chars         serial, device, implant
FAX_NUMBER               a phone-like number                         fax, facsimile
AGE_OVER_89              90-125                                      aged, years old, age
ZIP_CODE                 5 digits (+4)                               zip, postal
=======================  ==========================================  =============

Safe Harbor note on ZIP codes: the first three digits may be kept when the
area they cover holds more than 20,000 people (otherwise ``000``); masking
the whole code, as this recognizer's finding does, is always compliant.
Ages 90 and over must be aggregated into "90 or older"; younger ages are
not identifiers.
"""

from __future__ import annotations

import regex
from presidio_analyzer import Pattern

from ._context import PhraseRequiredRecognizer

__all__ = [
    "AccountNumberRecognizer",
    "AgeOver89Recognizer",
    "DeviceSerialRecognizer",
    "FaxNumberRecognizer",
    "HealthPlanIdRecognizer",
    "HipaaRecognizer",
    "MedicalRecordNumberRecognizer",
    "ZipCodeRecognizer",
]

_FLAGS = regex.MULTILINE | regex.IGNORECASE


class HipaaRecognizer(PhraseRequiredRecognizer):
    """A pattern recognizer whose matches need one of ``REQUIRED`` just before them."""

    ENTITY = ""
    PATTERNS: tuple[Pattern, ...] = ()
    REQUIRED: tuple[str, ...] = ()  # regexes, one must match in the window before
    CONTEXT: tuple[str, ...] = ()
    WINDOW = 40

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # One of REQUIRED, then at most three words up to the value.
        if cls.REQUIRED and "PHRASE" not in cls.__dict__:
            cls.PHRASE = regex.compile(
                r"(?:" + "|".join(cls.REQUIRED) + r")[\s:#.\-]*(?:\S+\s+){0,3}\S*$", _FLAGS)

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            name=type(self).__name__,
            supported_language=supported_language,
            patterns=[Pattern(p.name, p.regex, p.score) for p in self.PATTERNS],
            context=list(self.CONTEXT),
            global_regex_flags=_FLAGS,
        )


class MedicalRecordNumberRecognizer(HipaaRecognizer):
    ENTITY = "MEDICAL_RECORD_NUMBER"
    PATTERNS = (Pattern("mrn", r"(?<![\w-])[A-Z]{0,3}-?\d{5,12}(?![\w-])", 0.6),)
    REQUIRED = (r"\bMRN\b", r"\bMR\s?#", r"medical\s+record(?:\s+(?:number|no\.?|#))?",
                r"\bchart\s+(?:number|no\.?|#)", r"patient\s+(?:id|number|no\.?)")
    CONTEXT = ("mrn", "medical", "record", "chart", "patient")


class HealthPlanIdRecognizer(HipaaRecognizer):
    ENTITY = "HEALTH_PLAN_ID"
    PATTERNS = (Pattern("plan_id", r"(?<![\w-])(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{5,19}(?![\w-])",
                        0.6),)
    REQUIRED = (r"health\s+plan", r"\bmember\s+(?:id|number|no\.?|#)",
                r"\bsubscriber\s+(?:id|number|no\.?|#)", r"\binsurance\s+(?:id|number|no\.?|#)",
                r"\bbeneficiary\s+(?:id|number|no\.?|#)", r"\bgroup\s+(?:number|no\.?|#)",
                r"\bpolicy\s+(?:id|number|no\.?|#)")
    CONTEXT = ("health", "plan", "member", "subscriber", "insurance", "beneficiary", "policy")


class AccountNumberRecognizer(HipaaRecognizer):
    ENTITY = "ACCOUNT_NUMBER"
    PATTERNS = (Pattern("account", r"(?<![\w-])\d(?:[ -]?\d){5,16}(?![\w-])", 0.6),)
    REQUIRED = (r"\baccount\b", r"\bacct\b", r"\ba/c\b")
    CONTEXT = ("account", "acct")


class DeviceSerialRecognizer(HipaaRecognizer):
    ENTITY = "DEVICE_SERIAL"
    PATTERNS = (Pattern("serial", r"(?<![\w-])(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{5,19}(?![\w-])",
                        0.6),)
    REQUIRED = (r"\bserial(?:\s+(?:number|no\.?|#))?", r"\bS/?N\b", r"\bdevice\s+(?:id|identifier)",
                r"\bUDI\b", r"\bimplant\s+(?:id|serial)")
    CONTEXT = ("serial", "device", "implant", "udi")


class FaxNumberRecognizer(HipaaRecognizer):
    ENTITY = "FAX_NUMBER"
    PATTERNS = (Pattern(
        "fax",
        r"(?<![\w+])(?:\+?\d{1,3}[ .-]?)?(?:\(\d{2,4}\)|\d{2,4})[ .-]?\d{3,4}[ .-]?\d{3,4}(?!\w)",
        0.6,
    ),)
    REQUIRED = (r"\bfax(?:ed|ing)?\b", r"\bfacsimile\b", r"\bF:")
    CONTEXT = ("fax", "facsimile")


class AgeOver89Recognizer(HipaaRecognizer):
    ENTITY = "AGE_OVER_89"
    PATTERNS = (
        # "93 years old", "aged 97", "age: 102"; 90..125
        Pattern("age", r"(?<![\w.])(?:9\d|1[01]\d|12[0-5])(?=[\s-]*(?:years?|yrs?|y/?o)\b)", 0.7),
        Pattern("aged", r"(?<=\b(?:aged?|age:)\s*)(?:9\d|1[01]\d|12[0-5])(?![\w.])", 0.7),
    )
    CONTEXT = ("age", "aged", "old", "years")


class ZipCodeRecognizer(HipaaRecognizer):
    ENTITY = "ZIP_CODE"
    PATTERNS = (Pattern("zip", r"(?<![\w-])\d{5}(?:-\d{4})?(?![\w-])", 0.6),)
    CONTEXT = ("zip", "postal", "postcode")

    # A state code right before the ZIP must be upper case ("TX", not "to").
    PHRASE = regex.compile(
        r"(?i:\bzip(?:\s*code)?\b|\bpostal\s+code\b|\bpostcode\b)[\s:#.\-]*(?:\S+\s+){0,3}\S*$"
        r"|\b[A-Z]{2},?\s*$",
        regex.MULTILINE,
    )
