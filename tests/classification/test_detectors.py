"""The Presidio detector built from a policy: what it finds and what it must not."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from ragseal.classification import Finding, Policy, parse_policy
from ragseal.classification._classifier import Classifier
from ragseal.classification._corrections import drop_known_confusions
from ragseal.classification._detectors import DetectorError, PresidioDetector
from ragseal.classification._registry import supported_entities, unsupported_entities

POLICY: dict[str, Any] = {
    "levels": ["public", "internal", "confidential", "restricted"],
    "entities": {
        "PERSON": {"level": "confidential", "mask": "pseudonym"},
        "EMAIL_ADDRESS": {"level": "confidential"},
        "PHONE_NUMBER": {"level": "confidential", "min_score": 0.4},
        "US_SSN": {"level": "restricted", "gate": True},
        "CREDIT_CARD": {"level": "restricted", "mask": "last4"},
        "IBAN_CODE": {"level": "restricted"},
        "IP_ADDRESS": {"level": "internal"},
        "URL": {"level": "internal"},
        "AWS_ACCESS_KEY": {"level": "restricted"},
        "PRIVATE_KEY": {"level": "restricted"},
        "API_TOKEN": {"level": "restricted"},
        "PASSWORD": {"level": "restricted"},
    },
    "recognizers": [
        {
            "entity": "EMPLOYEE_ID",
            "patterns": [r"\bEMP-\d{6}\b"],
            "context": ["employee", "badge"],
            "score": 0.4,
            "level": "confidential",
        },
        {
            "entity": "PROJECT_CODENAME",
            "deny_list": ["Bluebird", "Night Jar"],
            "level": "restricted",
        },
    ],
    "min_score": 0.5,
}


@pytest.fixture(scope="session")
def policy() -> Policy:
    return parse_policy(POLICY)


@pytest.fixture(scope="session")
def detector(policy: Policy) -> PresidioDetector:
    detector = PresidioDetector(policy)
    detector.warm_up()
    return detector


@pytest.fixture(scope="session")
def classifier(policy: Policy) -> Classifier:
    classifier = Classifier(policy)
    classifier.warm_up()
    return classifier


def spans(classifier: Classifier, text: str) -> list[tuple[str, str]]:
    return [(f.entity, text[f.start : f.end]) for f in classifier.classify(text).findings]


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("Write to ana.silva@example.org today.", "EMAIL_ADDRESS", "ana.silva@example.org"),
        ("Please call (212) 555-0142 tomorrow.", "PHONE_NUMBER", "(212) 555-0142"),
        ("Her SSN is 536-22-1234.", "US_SSN", "536-22-1234"),
        ("Card 4111 1111 1111 1111 was charged.", "CREDIT_CARD", "4111 1111 1111 1111"),
        ("Card 4012888888881881 was charged.", "CREDIT_CARD", "4012888888881881"),
        (
            "IBAN DE89 3704 0044 0532 0130 00 for refunds.",
            "IBAN_CODE",
            "DE89 3704 0044 0532 0130 00",
        ),
        ("IBAN GB82WEST12345698765432 for refunds.", "IBAN_CODE", "GB82WEST12345698765432"),
        ("Host 10.20.30.40 is down.", "IP_ADDRESS", "10.20.30.40"),
        ("Maria Garcia signed the contract yesterday.", "PERSON", "Maria Garcia"),
        ("key AKIAQ3EGRJ5KZXMBT7WN leaked", "AWS_ACCESS_KEY", "AKIAQ3EGRJ5KZXMBT7WN"),
        ("dsn: postgres://app:S3cr3t!pw@db:5432/prod", "PASSWORD", "S3cr3t!pw"),
        ("Employee badge EMP-123456 expires.", "EMPLOYEE_ID", "EMP-123456"),
        ("Status of bluebird: on time.", "PROJECT_CODENAME", "bluebird"),
        ("Status of NIGHT JAR: late.", "PROJECT_CODENAME", "NIGHT JAR"),
    ],
)
def test_when_entity_present_then_found_with_exact_span(
    classifier: Classifier, text: str, entity: str, value: str
) -> None:
    assert (entity, value) in spans(classifier, text)


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("Card 4111 1111 1111 1112 was charged.", "CREDIT_CARD"),  # bad Luhn
        ("IBAN DE89 3704 0044 0532 0130 01 for refunds.", "IBAN_CODE"),  # bad mod-97
        ("Her SSN is 000-22-1234.", "US_SSN"),  # invalid area
        ("Her SSN is 666-22-1234.", "US_SSN"),  # invalid area
        ("Her SSN is 536-00-1234.", "US_SSN"),  # invalid group
        ("Host 999.20.30.40 is down.", "IP_ADDRESS"),
        ("Write to ana.silva@ today.", "EMAIL_ADDRESS"),
        ("Badge EMP-12345 expires.", "EMPLOYEE_ID"),  # five digits
        ("Order EMP-123456 shipped.", "EMPLOYEE_ID"),  # no context word: 0.4 < 0.5
        ("Order emp-123456 for the employee.", "EMPLOYEE_ID"),  # patterns are case-sensitive
        ("The Bluebirds sang.", "PROJECT_CODENAME"),  # deny list matches whole words
    ],
)
def test_when_near_miss_then_not_found(classifier: Classifier, text: str, entity: str) -> None:
    assert entity not in {e for e, _ in spans(classifier, text)}


def test_when_context_word_near_custom_pattern_then_score_raised(
    detector: PresidioDetector,
) -> None:
    without, with_context, after = detector.detect_many(
        ["Order EMP-123456 shipped.", "Employee EMP-123456 shipped.", "EMP-123456 (badge)"]
    )
    score = {f.entity: f.score for f in without}["EMPLOYEE_ID"]
    assert score == pytest.approx(0.4)
    assert {f.entity: f.score for f in with_context}["EMPLOYEE_ID"] > 0.7
    assert {f.entity: f.score for f in after}["EMPLOYEE_ID"] > 0.7


def test_when_deny_list_has_no_score_then_matches_are_certain(detector: PresidioDetector) -> None:
    [found] = detector.detect_many(["Bluebird is late."])
    assert [(f.entity, f.score, f.detector) for f in found] == [
        ("PROJECT_CODENAME", 1.0, "policy.recognizers[1].deny_list")
    ]


def test_when_registry_built_then_only_policy_entities_have_recognizers(
    detector: PresidioDetector, policy: Policy
) -> None:
    engine = detector.engine
    assert engine is not None
    entities = {e for r in engine.registry.recognizers for e in r.supported_entities}
    assert entities == set(policy.entity_rules)


def test_when_person_enabled_then_spacy_runs_ner_only(detector: PresidioDetector) -> None:
    engine = detector.engine
    assert engine is not None
    assert engine.nlp_engine.nlp["en"].pipe_names == ["ner"]


def test_when_no_ner_entity_then_spacy_only_tokenizes() -> None:
    detector = PresidioDetector(
        parse_policy({"levels": ["a"], "entities": {"EMAIL_ADDRESS": {"level": "a"}}})
    )
    detector.warm_up()
    assert detector.engine is not None
    assert detector.engine.nlp_engine.nlp["en"].pipe_names == []
    [found] = detector.detect_many(["Mail ana.silva@example.org, says Maria Garcia."])
    assert [f.entity for f in found] == ["EMAIL_ADDRESS"]


def test_when_policy_enables_no_entity_then_only_the_secret_floor_is_found() -> None:
    detector = PresidioDetector(parse_policy({"levels": ["a"]}))
    detector.warm_up()
    assert detector.detect_many(["Maria Garcia, 4111 1111 1111 1111"]) == [[]]
    (found,) = detector.detect_many(["export AWS_ACCESS_KEY_ID=AKIA2OGYBAH6STMMNXNN"])
    assert "AWS_ACCESS_KEY" in {f.entity for f in found}


def test_when_entity_type_has_no_recognizer_then_warm_up_fails_naming_it() -> None:
    policy = parse_policy(
        {"levels": ["a"], "entities": {"PERSON": {"level": "a"}, "SHOE_SIZE": {"level": "a"}}}
    )
    assert unsupported_entities(policy) == ["SHOE_SIZE"]
    with pytest.raises(DetectorError, match="SHOE_SIZE"):
        Classifier(policy).warm_up()


def test_when_listing_supported_entities_then_builtins_and_secrets_are_there() -> None:
    assert {
        "PERSON",
        "CREDIT_CARD",
        "IBAN_CODE",
        "US_SSN",
        "API_TOKEN",
        "PASSWORD",
    } <= supported_entities()


def test_when_text_too_long_for_spacy_then_detector_refuses(detector: PresidioDetector) -> None:
    with pytest.raises(DetectorError, match="split it first"):
        detector.detect_many(["x" * (detector.max_length + 1)])


@pytest.mark.parametrize(
    ("text", "entity", "value", "not_entity"),
    [
        ("Server 192.168.10.21 rebooted.", "IP_ADDRESS", "192.168.10.21", "PHONE_NUMBER"),
        ("Mail ana.silva@example.org now.", "EMAIL_ADDRESS", "ana.silva@example.org", "URL"),
    ],
)
def test_when_known_false_positive_then_right_reading_wins(
    classifier: Classifier, text: str, entity: str, value: str, not_entity: str
) -> None:
    found = spans(classifier, text)
    assert (entity, value) in found
    assert not_entity not in {e for e, _ in found}


def test_when_finding_lies_inside_its_right_reading_then_dropped() -> None:
    card = Finding("CREDIT_CARD", 10, 29, 1.0)
    findings = [
        card,
        Finding("DATE_TIME", 15, 24, 0.85),  # inside the card: dropped
        Finding("DATE_TIME", 40, 50, 0.85),  # elsewhere: kept
        Finding("PHONE_NUMBER", 5, 20, 0.4),  # sticks out of the card: kept
    ]
    assert drop_known_confusions(findings) == [findings[0], findings[2], findings[3]]


def test_when_rule_reuses_a_builtin_name_then_only_its_own_patterns_run() -> None:
    policy = parse_policy(
        {
            "levels": ["a"],
            "recognizers": [{"entity": "PERSON", "deny_list": ["Zorro"], "level": "a"}],
        }
    )
    detector = PresidioDetector(policy)
    text = "Maria Garcia met Zorro."
    assert [(f.entity, text[f.start : f.end]) for f in detector.detect(text)] == [
        ("PERSON", "Zorro")
    ]
    assert detector.engine is not None
    assert detector.engine.nlp_engine.nlp["en"].pipe_names == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Write to maria.gonzalez@acme.example today.", True),
        ("Ops list: ops-team@corp.internal", True),
        ("admin@fileserver.local is the contact", True),
        ("Send it to jane.doe@gmail.com please", True),
        ("Not an address: maria@localhost", False),
        ("Version 2.3@build is out", False),
    ],
)
def test_when_email_on_private_or_public_domain_then_detected(text: str, found: bool) -> None:
    from ragseal.classification import Classifier, default_policy

    classifier = _shared_classifier(Classifier, default_policy)
    types = {f.entity for f in classifier.classify(text).findings}
    assert ("EMAIL_ADDRESS" in types) is found


@functools.cache
def _shared_classifier(cls, factory):  # type: ignore[no-untyped-def]
    c = cls(factory())
    c.warm_up()
    return c


def test_the_ner_multiplies_with_numpys_blas_not_thincs_blis(detector: PresidioDetector) -> None:
    from ragseal.classification._engine import nlp_of
    from ragseal.classification._spacy import numpy_ops

    engine = detector.engine
    assert engine is not None
    ner = nlp_of(engine).get_pipe("ner")
    ops = {type(node.ops).__name__ + str(getattr(node.ops, "use_blis", "?"))
           for node in ner.model.walk()}  # type: ignore[attr-defined]
    assert ops == {"NumpyOpsFalse"}
    assert numpy_ops().use_blis is False


def test_a_fresh_context_gets_the_detectors_thinc_ops_before_spacy_runs(
    detector: PresidioDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI runs each request in a fresh copy of the event loop's context;
    thinc must not look its ops up there (entry points of every distribution)."""
    import contextvars

    import thinc.backends as backends
    from ragseal.classification._spacy import numpy_ops

    def no_lookup(*_a: object, **_k: object) -> None:
        raise AssertionError("thinc looked its ops up again")

    monkeypatch.setattr(backends, "get_ops", no_lookup)

    def run() -> object:
        assert backends.context_ops.get() is None
        found = detector.detect("Maria Gonzalez called from Berlin")
        assert {f.entity for f in found} >= {"PERSON"}
        return backends.context_ops.get()

    assert contextvars.Context().run(run) is numpy_ops()


def test_openblas_starts_single_threaded_unless_the_operator_chose(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    from ragseal.classification import ensure_offline

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    ensure_offline()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    ensure_offline()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"


def test_the_stepped_ner_finds_what_spacys_own_loop_finds(detector: PresidioDetector) -> None:
    """``annotate`` decodes the NER from Python (docs/TRAPS.md, Cython's profile
    hooks): same entities as ``nlp.pipe``, in the input order, empty texts
    included, batches of mixed lengths and a batch cut by the token budget."""
    from pathlib import Path

    from ragseal.classification import _spacy
    from ragseal.classification._engine import nlp_of

    engine = detector.engine
    assert engine is not None
    nlp = nlp_of(engine)
    corpus = Path(__file__).resolve().parents[2] / "samples" / "corpus"
    texts = [p.read_text(encoding="utf-8") for p in sorted(corpus.rglob("*.md"))][:8]
    assert texts
    texts += ["", "  \n", "Maria Gonzalez met Ahmed Khan in Lisbon on 12 March 2024."]
    texts += [t[:400] for t in texts[:8]]

    def ents(docs: Any) -> list[list[tuple[int, int, str]]]:
        return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]

    expected = ents(nlp.pipe(texts, batch_size=4))
    assert sum(map(len, expected)) > 20
    assert ents(_spacy.annotate(nlp, texts, batch_size=4)) == expected
    budget = _spacy.NER_BATCH_TOKENS
    try:
        _spacy.NER_BATCH_TOKENS = 300  # most batches cut by tokens, one doc alone
        assert ents(_spacy.annotate(nlp, texts, batch_size=4)) == expected
    finally:
        _spacy.NER_BATCH_TOKENS = budget
