"""HIPAA Safe Harbor recognizers: true positives and near misses per entity type."""

from __future__ import annotations

import pytest
from ragseal.classification import Classifier, parse_policy, supported_entities
from ragseal.classification._registry import HIPAA_ENTITIES

CASES = [
    # (entity, text, expected value or None for a near miss)
    ("MEDICAL_RECORD_NUMBER", "Patient MRN: 00123456 admitted.", "00123456"),
    ("MEDICAL_RECORD_NUMBER", "Medical record number 7788990 on file", "7788990"),
    ("MEDICAL_RECORD_NUMBER", "Order 00123456 admitted.", None),  # no context
    ("MEDICAL_RECORD_NUMBER", "Patient MRN: 1234 admitted.", None),  # too short
    ("HEALTH_PLAN_ID", "Member ID: XJH4455667 for the health plan", "XJH4455667"),
    ("HEALTH_PLAN_ID", "Subscriber number W123456789", "W123456789"),
    ("HEALTH_PLAN_ID", "Member of the XJH4455667 club", None),
    ("ACCOUNT_NUMBER", "Account number 1234-5678-9012", "1234-5678-9012"),
    ("ACCOUNT_NUMBER", "acct 99887766", "99887766"),
    ("ACCOUNT_NUMBER", "Invoice 99887766", None),
    ("ACCOUNT_NUMBER", "Account number 12345", None),  # too short
    ("DEVICE_SERIAL", "Serial number SN-AB12345678", "SN-AB12345678"),
    ("DEVICE_SERIAL", "Pacemaker S/N: PM4471920", "PM4471920"),
    ("DEVICE_SERIAL", "Model PM4471920 is discontinued", None),
    ("FAX_NUMBER", "Fax: (555) 123-4567", "(555) 123-4567"),
    ("FAX_NUMBER", "Please fax it to 555-867-5309 today", "555-867-5309"),
    ("FAX_NUMBER", "Call 555-867-5309 today", None),
    ("AGE_OVER_89", "She is 93 years old.", "93"),
    ("AGE_OVER_89", "Patient aged 101 was seen", "101"),
    ("AGE_OVER_89", "She is 45 years old.", None),
    ("AGE_OVER_89", "Room 93 is free", None),
    ("AGE_OVER_89", "He is 130 years old", None),
    ("ZIP_CODE", "Austin, TX 78701", "78701"),
    ("ZIP_CODE", "zip code 90210-1234", "90210-1234"),
    ("ZIP_CODE", "I have 12345 apples", None),
    ("ZIP_CODE", "sent to 78701 people", None),
]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    entities = {e: {"level": "restricted"} for e in HIPAA_ENTITIES}
    return Classifier(parse_policy({"levels": ["public", "restricted"], "entities": entities}))


def test_when_listing_supported_entities_then_hipaa_types_are_there() -> None:
    assert HIPAA_ENTITIES <= supported_entities()
    assert "STREET_ADDRESS" in supported_entities()


@pytest.mark.parametrize(("entity", "text", "expected"), CASES)
def test_when_a_hipaa_identifier_is_in_context_then_only_it_is_found(
    classifier: Classifier, entity: str, text: str, expected: str | None
) -> None:
    found = [text[f.start:f.end] for f in classifier.classify(text).findings
             if f.entity == entity]
    assert found == ([expected] if expected else [])


def test_when_the_policy_does_not_enable_them_then_nothing_hipaa_is_found() -> None:
    pol = parse_policy({"levels": ["public"], "entities": {"EMAIL_ADDRESS": {"level": "public"}}})
    result = Classifier(pol).classify("Patient MRN: 00123456, fax 555-867-5309")
    assert not result.findings
