"""Tuned recognizers: more recall on cards, IBANs, phones, licences, addresses;
the checksums and near misses of Presidio's own tests still hold."""

from __future__ import annotations

import pytest
from ragseal.classification import Classifier, default_policy, parse_policy
from ragseal.classification._address import find_addresses, find_lower_case_addresses
from ragseal.classification._findings import Finding, merge_adjacent
from ragseal.classification._ner import is_specific_date


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    doc = default_policy().to_json()
    entities = dict(doc["entities"])  # type: ignore[arg-type]
    for name in ("US_DRIVER_LICENSE", "STREET_ADDRESS", "DATE_TIME"):
        entities[name] = {"level": "confidential", "mask": "redact"}
    c = Classifier(parse_policy({**doc, "entities": entities}))
    c.warm_up()
    return c


def found(classifier: Classifier, text: str, entity: str) -> list[str]:
    return [text[f.start:f.end] for f in classifier.classify(text).findings if f.entity == entity]


POSITIVES = [
    # Mastercard 2-series
    ("CREDIT_CARD", "Card 2221 0000 0000 0009 on file", "2221 0000 0000 0009"),
    ("CREDIT_CARD", "Card 2720-9999-9999-9996 on file", "2720-9999-9999-9996"),
    ("CREDIT_CARD", "Card 4111 1111 1111 1111 003 on file", "4111 1111 1111 1111 003"),  # 19 digits
    ("CREDIT_CARD", "Diners 3056 930902 5904 on file", "3056 930902 5904"),
    ("CREDIT_CARD", "JCB 213100000000001 on file", "213100000000001"),
    ("CREDIT_CARD", "Pay with card 501812345673 today", "501812345673"),  # Maestro, 12 digits
    ("CREDIT_CARD", "Visa 4222 2222 2222 2 on file", "4222 2222 2222 2"),  # 13 digits by four
    ("IBAN_CODE", "my iban is gb82west12345698765432", "gb82west12345698765432"),
    ("PHONE_NUMBER", "Call 001-846-853-9089x92556 today", "001-846-853-9089x92556"),
    ("PHONE_NUMBER", "+1-177-892-0730x52646 fax", "+1-177-892-0730x52646"),
    ("PHONE_NUMBER", "They're not answering at 25-62-29-72", "25-62-29-72"),
    ("PHONE_NUMBER", "74 831 591 office", "74 831 591"),
    ("PHONE_NUMBER", "Call 1-555-123-4567 now", "1-555-123-4567"),  # US trunk prefix
    ("PHONE_NUMBER", "Call +15551234567 now", "+15551234567"),
    ("US_DRIVER_LICENSE", "My driver's license number is 578988637", "578988637"),
    ("DATE_TIME", "When: 1979-05-16 11:28:01\nWhere: the club", "1979-05-16 11:28:01"),
    ("IP_ADDRESS", "addr 2001:db8::8a2e:370:7334 x", "2001:db8::8a2e:370:7334"),  # no PERSON
]


@pytest.mark.parametrize(("entity", "text", "expected"), POSITIVES)
def test_when_a_tuned_format_is_written_then_it_is_found(
    classifier: Classifier, entity: str, text: str, expected: str
) -> None:
    assert found(classifier, text, entity) == [expected]


# Negative cases copied from Presidio's recognizer tests
# (microsoft/presidio@0aa9f8e4, presidio-analyzer/tests/test_credit_card_recognizer.py,
# test_iban_recognizer.py, test_us_ssn_recognizer.py, test_ip_recognizer.py,
# test_email_recognizer.py): bad checksums, wrong lengths, mixed case.
# benchmarks/detection.py runs all of them.
NEAR_MISSES = [
    ("CREDIT_CARD", "4012-8888-8888-1882"),  # bad Luhn
    ("CREDIT_CARD", "my credit card number is 4012-8888-8888-1882"),
    ("CREDIT_CARD", "36168002586008"),
    ("CREDIT_CARD", "2221 0000 0000 0008"),  # 2-series, bad Luhn
    ("CREDIT_CARD", "213100000000002"),  # JCB, bad Luhn
    ("CREDIT_CARD", "Order 630433748906 shipped"),  # 12 digits: not read as a card
    ("CREDIT_CARD", "Order 501812345673 shipped"),  # Maestro-shaped, Luhn-valid, no card word
    ("CREDIT_CARD", "Pay with card 501812345674 today"),  # bad Luhn
    ("IBAN_CODE", "AL47 212A 1009 0000 0002 3569 8741"),  # bad check digits
    ("IBAN_CODE", "AL47 212A 1009 0000 0002 3569 874"),  # wrong length
    ("IBAN_CODE", "LV80 bANK 0000 4351 9500 1"),  # mixed case
    ("IBAN_CODE", "CY17 0020 0128 0000 0012 0052 7601 failed"),
    ("IBAN_CODE", "gb82west12345698765433"),  # lower case, bad check digits
    ("US_SSN", "078-05-1120"),  # published sample
    ("US_SSN", "000-12-3456"),
    ("US_SSN", "1234-56-7890"),  # wrong length
    ("IP_ADDRESS", "192.168.0"),
    ("EMAIL_ADDRESS", "my email is info@presidio."),
    ("US_DRIVER_LICENSE", "The number is 578988637"),  # no licence phrase
]


@pytest.mark.parametrize(("entity", "text"), NEAR_MISSES)
def test_when_a_value_fails_its_check_then_it_is_not_found(
    classifier: Classifier, entity: str, text: str
) -> None:
    assert found(classifier, text, entity) == []


PLAIN_TEXT = [
    "Revenue grew 12.5% to 1,234,567 in 2023.",
    "Meeting on 2024-01-15 in room 4.",
    "Version 1.2.3 ships in 2 months.",
    "See section 4.2.1 and table 12 of the 2019 report.",
]


@pytest.mark.parametrize("text", PLAIN_TEXT)
def test_when_business_text_has_numbers_then_no_phone_is_found(
    classifier: Classifier, text: str
) -> None:
    assert found(classifier, text, "PHONE_NUMBER") == []


@pytest.mark.parametrize(("value", "specific"), [
    ("5/25/1934", True), ("1979-05-16", True), ("Monday", True), ("11:28:01", True),
    ("May 2020", True), ("3 pm", True),
    ("2001", False), ("the 1990s", False), ("2 months", False), ("50 year old", False),
    ("this morning", False), ("10th year", False), ("48083", False), ("50-98-28-96", False),
])  # fmt: skip
def test_a_date_reading_counts_only_with_a_calendar_element_finer_than_a_year(
    value: str, specific: bool
) -> None:
    assert is_specific_date(value) is specific


def test_when_ner_calls_a_duration_a_date_then_it_is_dropped(classifier: Classifier) -> None:
    text = "Follow up with the team in 2 months; Zoolander is a 2001 film."
    assert found(classifier, text, "DATE_TIME") == []


def test_when_a_phone_word_follows_a_long_number_then_it_counts_as_context(
    classifier: Classifier,
) -> None:
    # Context after the finding is counted from its last token, not its first.
    assert found(classifier, "21 232 945 1338 office", "PHONE_NUMBER") == ["21 232 945 1338"]
    assert found(classifier, "21 232 945 1338 apples", "PHONE_NUMBER") == []


def test_pieces_of_one_entity_separated_by_a_space_are_merged() -> None:
    text = "1979-05-16 11:28:01 and Jane"
    parts = [Finding("DATE_TIME", 0, 10, 0.6), Finding("DATE_TIME", 11, 19, 0.85),
             Finding("PERSON", 24, 28, 0.85)]
    assert merge_adjacent(parts, text) == [Finding("DATE_TIME", 0, 19, 0.85),
                                           Finding("PERSON", 24, 28, 0.85)]
    # A line break or a word between them keeps them apart; so does another type.
    apart = [Finding("DATE_TIME", 0, 10, 0.6), Finding("DATE_TIME", 20, 23, 0.6)]
    assert merge_adjacent(apart, "1979-05-16 and then 5pm") == apart
    assert merge_adjacent([Finding("PHONE_NUMBER", 0, 3, 1.0), Finding("PHONE_NUMBER", 4, 7, 1.0)],
                          "555 123") == [Finding("PHONE_NUMBER", 0, 3, 1.0),
                                         Finding("PHONE_NUMBER", 4, 7, 1.0)]


@pytest.mark.parametrize(("text", "expected"), [
    ("It is in Unit 9104 Box 2779\nDPO AP 29547. ok", "Unit 9104 Box 2779\nDPO AP 29547"),
    ("sent to USCGC Lussier\nFPO AE 05609? I am", "USCGC Lussier\nFPO AE 05609"),
    ("PSC 9236, Box 1684\nAPO AP 02137 for", "PSC 9236, Box 1684\nAPO AP 02137"),
    ("52 Rua Joaquim de Oliveira Cruz 1615 Suite 498",
     "52 Rua Joaquim de Oliveira Cruz 1615 Suite 498"),
    ("19 Ingelbrecht Knudssøns gate 222\n Suite 598\n OSLO",
     "19 Ingelbrecht Knudssøns gate 222\n Suite 598\n OSLO"),
    ("I was at 76 7 rue Charles Corbeau Apt. 406, Jaworzno",
     "76 7 rue Charles Corbeau Apt. 406, Jaworzno"),
    ("change to unit 9456 box 8731\ndpo ap 71610 for", "unit 9456 box 8731\ndpo ap 71610"),
    ("26 Veres Pálné u. 91.\nToftlund", "26 Veres Pálné u. 91"),
    ("70 95 Dora Creek Apt. 604 THE", "70 95 Dora Creek Apt. 604"),
])  # fmt: skip
def test_military_and_european_street_lines_are_found(text: str, expected: str) -> None:
    assert [text[s:e] for s, e in find_addresses(text)] == [expected]


def test_a_lower_case_street_line_counts_only_after_an_address_word(
    classifier: Classifier,
) -> None:
    text = "my new address is 19 folkestone road"
    assert find_lower_case_addresses(text)
    assert found(classifier, text, "STREET_ADDRESS") == ["19 folkestone road"]
    assert found(classifier, "we walked 5 km down the road", "STREET_ADDRESS") == []
    assert found(classifier, "I was at 5 km down the road", "STREET_ADDRESS") == []
    for text in ("He went 5 rue away", "Send it 3 via Email, now", "send 3 via email, please"):
        assert found(classifier, text, "STREET_ADDRESS") == []


def test_call_counts_as_a_phone_word_although_spacy_calls_it_a_stop_word(
    classifier: Classifier,
) -> None:
    assert found(classifier, "You can call 469 34 883", "PHONE_NUMBER") == ["469 34 883"]
    assert found(classifier, "You can see 469 34 883", "PHONE_NUMBER") == []


def test_acronyms_are_no_organisations() -> None:
    from ragseal.classification._ner import _plausible

    assert not _plausible("ORGANIZATION", "SSN")
    assert not _plausible("ORGANIZATION", "ATM")
    assert _plausible("ORGANIZATION", "Acme Corp")
    doc = default_policy().to_json()
    entities = {**doc["entities"], "ORGANIZATION": {"level": "internal", "mask": "redact"}}  # type: ignore[dict-item]
    c = Classifier(parse_policy({**doc, "entities": entities}))
    text = "Here's my SSN: 308-63-0237. Could you please block my card ASAP?"
    assert "ORGANIZATION" not in c.classify(text).entity_types


WINDOW_TEXTS = [
    "see https://example.com/a?b=c, or \"www.x.org\" and a.b. end. mail me@acme.co.uk",
    "Visit acme.com/careers or ACME.IO today.No space.after dots",
    "Call (212) 555-0199 or +44 20 7946 0958 on 1979-05-16 11:28:01, SSN 123-45-6789",
    "Tel 030 1234567, fax +49 30 1234568; card 4111 1111 1111 1111; zip 10117",
]


@pytest.mark.parametrize("text", WINDOW_TEXTS)
def test_windowed_url_and_phone_recognizers_find_what_presidios_find(text: str) -> None:
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer, UrlRecognizer
    from ragseal.classification._tuned import WindowedPhoneRecognizer, WindowedUrlRecognizer

    def spans(recognizer: object, entity: str) -> list[tuple[int, int]]:
        found = recognizer.analyze(text, [entity])  # type: ignore[attr-defined]
        return sorted({(r.start, r.end) for r in found})

    assert spans(WindowedUrlRecognizer(), "URL") == spans(UrlRecognizer(), "URL")
    # Luhn-valid card digits are left to the card recognizer on purpose.
    card = {(s, e) for s, e in spans(PhoneRecognizer(), "PHONE_NUMBER")
            if text[s:e].replace(" ", "").isdigit() and len(text[s:e].replace(" ", "")) >= 13}
    expected = [s for s in spans(PhoneRecognizer(), "PHONE_NUMBER") if s not in card]
    assert spans(WindowedPhoneRecognizer(), "PHONE_NUMBER") == expected


def test_an_ner_organisation_inside_a_validated_ip_address_is_dropped() -> None:
    doc = default_policy().to_json()
    entities = {**doc["entities"], "ORGANIZATION": {"level": "internal", "mask": "redact"}}  # type: ignore[dict-item]
    c = Classifier(parse_policy({**doc, "entities": entities}))
    text = "2001:db8::ff00:42:8329 is the server"
    assert [(f.entity, text[f.start:f.end]) for f in c.classify(text).findings] == [
        ("IP_ADDRESS", "2001:db8::ff00:42:8329")
    ]


def test_an_ner_organisation_overlapping_a_card_is_cut_back_to_its_words() -> None:
    from ragseal.classification._corrections import trim_ner_overlaps

    text = "Card 4111 1111 1111 1111 on file"
    findings = [Finding("ORGANIZATION", 0, 24, 0.85), Finding("CREDIT_CARD", 5, 24, 1.0)]
    assert trim_ner_overlaps(findings, text) == [Finding("ORGANIZATION", 0, 4, 0.85),
                                                 Finding("CREDIT_CARD", 5, 24, 1.0)]
    # Nothing but digits and spaces outside the card: the NER reading goes.
    only = [Finding("ORGANIZATION", 4, 24, 0.85), Finding("CREDIT_CARD", 5, 24, 1.0)]
    assert trim_ner_overlaps(only, text) == [Finding("CREDIT_CARD", 5, 24, 1.0)]
    # A PERSON is never cut (inside a URL it may be what makes the span sensitive).
    person = [Finding("PERSON", 0, 24, 0.85), Finding("CREDIT_CARD", 5, 24, 1.0)]
    assert trim_ner_overlaps(person, text) == person


# Numbers no numbering plan confirms (made-up or new ranges, the trunk "(0)"
# after a country code): found in international form or after a telephony word.
@pytest.mark.parametrize(("text", "expected"), [
    ("Ring me on +44(0)115 4960914 after six", "+44(0)115 4960914"),
    ("Office: +49(0) 778353374", "+49(0) 778353374"),
    ("bureau +31(0)83-4497869", "+31(0)83-4497869"),
    ("please call me at 3497576561 tomorrow", "3497576561"),
    ("mobile 39150008", "39150008"),
    ("Tel. 0063513969", "0063513969"),
])  # fmt: skip
def test_possible_numbers_in_a_phones_context_are_found(
    classifier: Classifier, text: str, expected: str
) -> None:
    assert found(classifier, text, "PHONE_NUMBER") == [expected]


@pytest.mark.parametrize("text", [
    "account number 3497576561 was closed",  # "number" is no telephony word
    "contact id 39150008 in the CRM",
    "order 3497576561 shipped",
    "We called it a day on 2019-05-16 after the audit",  # a date is no phone
    "revenue grew +12.5% to 3497576561 dollars",
    "+1234 words",
])  # fmt: skip
def test_possible_numbers_without_a_phone_context_stay_undetected(
    classifier: Classifier, text: str
) -> None:
    assert found(classifier, text, "PHONE_NUMBER") == []


@pytest.mark.parametrize(
    "text",
    [
        "Driver's license D1234567 on file; DL# A7654321; CDL 99887766",
        "driving licence no. X123-4567-890, LICENSE ID 55512345",
        "no licence word here: D1234567 and A7654321 stay numbers",
    ],
)
def test_when_licence_phrase_gate_skips_a_text_then_results_are_as_without_it(text: str) -> None:
    from ragseal.classification._tuned import ContextLicenseRecognizer

    recognizer = ContextLicenseRecognizer()
    gated = sorted((r.start, r.end, r.score) for r in recognizer.analyze(text, []))
    recognizer.PHRASE_GATE = None  # the instance reads every text
    assert gated == sorted((r.start, r.end, r.score) for r in recognizer.analyze(text, []))
