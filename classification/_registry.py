"""The recognizer registry: which recognizer serves which entity type.

One declared table, :data:`REGISTRY`, in the order the engine runs the
recognizers. A policy's ``entities:`` select the registrations that serve
them; the floor types (secrets) select theirs whenever the policy knows
them at all, even beside a steward's rule of that name (the floor cannot be
lowered). Steward rules (``recognizers:``) are built by
:mod:`._policy_recognizers`.

Listing the table imports no Presidio: a registration names its class by
module and name, imported when an engine is built. The registry is closed:
only this table names classes; YAML never does.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._policy import Policy

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

__all__ = [
    "HIPAA_ENTITIES",
    "LANGUAGE",
    "NER_LABELS",
    "PRESIDIO_ENTITIES",
    "REGISTRY",
    "SECRET_ENTITIES",
    "Registration",
    "build_recognizers",
    "supported_entities",
    "unsupported_entities",
]

LANGUAGE = "en"
_PRESIDIO = "presidio_analyzer.predefined_recognizers"

# Presidio entity -> spaCy NER labels producing it.
NER_LABELS: dict[str, tuple[str, ...]] = {
    "PERSON": ("PERSON",),
    "LOCATION": ("GPE", "LOC"),
    "ORGANIZATION": ("ORG",),
    "DATE_TIME": ("DATE", "TIME"),
    "NRP": ("NORP",),
}


@dataclass(frozen=True, slots=True)
class Registration:
    """One recognizer class and the entity types it serves.

    ``module`` is Presidio's predefined recognizers or a module of this
    package (``._tuned``). ``shared``: one instance serves every enabled type
    of the registration (it is given ``supported_entities``); ``language``:
    the class takes ``supported_language``; ``floor``: built for the types
    the policy knows at all, not only those under ``entities:``.
    """

    entities: frozenset[str]
    module: str
    name: str
    options: tuple[tuple[str, object], ...] = ()
    language: bool = True
    shared: bool = False
    floor: bool = False

    def build(self, wanted: frozenset[str]) -> EntityRecognizer:
        """An instance serving ``wanted`` (a subset of :attr:`entities`)."""
        cls = getattr(importlib.import_module(self.module, __package__), self.name)
        kwargs: dict[str, object] = dict(self.options)
        if self.language:
            kwargs["supported_language"] = LANGUAGE
        if self.shared:
            kwargs["supported_entities"] = sorted(wanted)
        recognizer: EntityRecognizer = cls(**kwargs)
        return recognizer


def _one(entity: str, module: str, *names: str, language: bool = True,
         floor: bool = False) -> list[Registration]:
    return [Registration(frozenset({entity}), module, name, language=language, floor=floor)
            for name in names]


def _presidio(entity: str, name: str) -> list[Registration]:
    return _one(entity, _PRESIDIO, name)


_SECRETS = "._secrets"
_HIPAA = "._hipaa"

REGISTRY: tuple[Registration, ...] = (
    # spaCy NER: one instance for every NER type the policy enables.
    Registration(frozenset(NER_LABELS), "._ner", "FilteredSpacyRecognizer", shared=True),
    # Presidio's pattern recognizers, ours where they were tuned (``_tuned``).
    *_presidio("ABA_ROUTING_NUMBER", "AbaRoutingRecognizer"),
    *_presidio("AU_MEDICARE", "AuMedicareRecognizer"),
    *_presidio("AU_TFN", "AuTfnRecognizer"),
    *_presidio("CA_SIN", "CaSinRecognizer"),
    *_one("CREDIT_CARD", "._tuned", "TunedCreditCardRecognizer"),
    *_presidio("CRYPTO", "CryptoRecognizer"),
    *_presidio("DATE_TIME", "DateRecognizer"),
    *_one("EMAIL_ADDRESS", "._email", "PrivateDomainEmailRecognizer"),
    *_one("IBAN_CODE", "._tuned", "TunedIbanRecognizer"),
    *_presidio("IN_AADHAAR", "InAadhaarRecognizer"),
    *_presidio("IN_PAN", "InPanRecognizer"),
    *_presidio("IP_ADDRESS", "IpRecognizer"),
    *_presidio("MAC_ADDRESS", "MacAddressRecognizer"),
    *_presidio("MEDICAL_LICENSE", "MedicalLicenseRecognizer"),
    Registration(frozenset({"PHONE_NUMBER"}), "._tuned", "WindowedPhoneRecognizer",
                 options=(("possible", True),)),
    *_one("PHONE_NUMBER", "._tuned", "LenientPhoneRecognizer"),
    *_presidio("SG_NRIC_FIN", "SgFinRecognizer"),
    *_presidio("UK_DRIVING_LICENCE", "UkDrivingLicenceRecognizer"),
    *_presidio("UK_NHS", "NhsRecognizer"),
    *_presidio("UK_NINO", "UkNinoRecognizer"),
    *_presidio("UK_PASSPORT", "UkPassportRecognizer"),
    *_presidio("UK_POSTCODE", "UkPostcodeRecognizer"),
    *_one("URL", "._tuned", "WindowedUrlRecognizer"),
    *_one("US_BANK_NUMBER", "._tuned", "ContextBankRecognizer"),
    *_one("US_DRIVER_LICENSE", "._tuned", "ContextLicenseRecognizer"),
    *_presidio("US_ITIN", "UsItinRecognizer"),
    *_presidio("US_MBI", "UsMbiRecognizer"),
    *_presidio("US_NPI", "UsNpiRecognizer"),
    *_presidio("US_PASSPORT", "UsPassportRecognizer"),
    *_presidio("US_SSN", "UsSsnRecognizer"),
    *_presidio("UUID", "UuidRecognizer"),
    # Secrets: the floor, whatever the policy enables.
    *_one("AWS_ACCESS_KEY", _SECRETS, "AwsAccessKeyRecognizer", language=False, floor=True),
    *_one("PRIVATE_KEY", _SECRETS, "PrivateKeyRecognizer", language=False, floor=True),
    *_one("API_TOKEN", _SECRETS, "JwtRecognizer", "BearerTokenRecognizer",
          "KnownTokenRecognizer", "KeywordSecretRecognizer", "QuotedHighEntropyRecognizer",
          "AssignedSecretRecognizer", language=False, floor=True),
    *_one("PASSWORD", _SECRETS, "PasswordRecognizer", language=False, floor=True),
    # Name lists and street shapes beside the NER.
    *_one("LOCATION", "._places", "PlaceRecognizer"),
    *_one("PERSON", "._names", "PersonNameRecognizer"),
    *_one("STREET_ADDRESS", "._address", "StreetAddressRecognizer"),
    # HIPAA Safe Harbor identifiers Presidio lacks (``_hipaa``; none is on by default).
    *_one("ACCOUNT_NUMBER", _HIPAA, "AccountNumberRecognizer"),
    *_one("AGE_OVER_89", _HIPAA, "AgeOver89Recognizer"),
    *_one("DEVICE_SERIAL", _HIPAA, "DeviceSerialRecognizer"),
    *_one("FAX_NUMBER", _HIPAA, "FaxNumberRecognizer"),
    *_one("HEALTH_PLAN_ID", _HIPAA, "HealthPlanIdRecognizer"),
    *_one("MEDICAL_RECORD_NUMBER", _HIPAA, "MedicalRecordNumberRecognizer"),
    *_one("ZIP_CODE", _HIPAA, "ZipCodeRecognizer"),
)


def _served(registrations: Iterable[Registration]) -> frozenset[str]:
    return frozenset(e for r in registrations for e in r.entities)


SECRET_ENTITIES: frozenset[str] = _served(r for r in REGISTRY if r.floor)
HIPAA_ENTITIES: frozenset[str] = _served(r for r in REGISTRY if r.module == _HIPAA)
# Types Presidio's own default analyzer also knows (benchmarks compare on them).
PRESIDIO_ENTITIES: frozenset[str] = _served(
    r for r in REGISTRY if r.module in (_PRESIDIO, "._tuned", "._email"))


def supported_entities() -> frozenset[str]:
    """Built-in entity types a policy may enable under ``entities:``."""
    return _served(REGISTRY)


def unsupported_entities(policy: Policy) -> list[str]:
    """Entity types the policy enables that no recognizer supports."""
    return sorted(set(policy.entities) - supported_entities())


def build_recognizers(policy: Policy) -> list[EntityRecognizer]:
    """The registry's recognizers for ``policy``, then one per steward rule (imports Presidio)."""
    from ._policy_recognizers import policy_recognizers

    enabled = frozenset(policy.entities)
    known = frozenset(policy.entity_rules)
    recognizers = []
    for registration in REGISTRY:
        wanted = registration.entities & (known if registration.floor else enabled)
        if wanted:
            recognizers.append(registration.build(wanted))
    return recognizers + policy_recognizers(policy)
