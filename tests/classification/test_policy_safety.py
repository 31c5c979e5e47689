"""Policy safety: catastrophic regexes are refused with their key path; checksums."""

from __future__ import annotations

import pytest
from ragseal.classification import Classifier, PolicyError, parse_policy
from ragseal.classification._checksums import luhn_ok, mod97_ok


def policy(patterns: list[str], **extra: object) -> dict[str, object]:
    return {
        "levels": ["public", "restricted"],
        "recognizers": [
            {"entity": "EMPLOYEE_ID", "patterns": [r"\bEMP-\d{6}\b"], "level": "restricted"},
            {"entity": "CUSTOM", "patterns": patterns, "level": "restricted", **extra},
        ],
    }


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)+", r"(a|a)*", r"(.*)*", r"(\d+)*x", r"(?:\w+\s?){1,}$", r"(x+x+)+y", r"(\w+\s?)*$"],
)
def test_when_a_pattern_can_backtrack_catastrophically_then_the_policy_is_refused(
    pattern: str,
) -> None:
    with pytest.raises(PolicyError, match=r"recognizers\[1\]\.patterns\[1\]: regular expression"):
        parse_policy(policy([r"\bOK-\d+\b", pattern]))


@pytest.mark.parametrize(
    "pattern",
    [r"\bEMP-\d{6}\b", r"(ab)+", r"(\d{3})+", r"[(+]+x", r"\b[A-Z]{2}\d+\b", r"(a{1,3})+"],
)
def test_when_a_pattern_is_linear_then_it_is_accepted(pattern: str) -> None:
    parse_policy(policy([pattern]))


def test_when_the_validator_is_unknown_then_its_key_path_is_named() -> None:
    with pytest.raises(PolicyError, match=r"recognizers\[1\]\.validator"):
        parse_policy(policy([r"\d+"], validator="crc32"))


@pytest.mark.parametrize(
    ("value", "ok"),
    [("4111 1111 1111 1111", True), ("4111 1111 1111 1112", False), ("79927398713", True)],
)
def test_when_checking_luhn_then_only_valid_numbers_pass(value: str, ok: bool) -> None:
    assert luhn_ok(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("GB82 WEST 1234 5698 7654 32", True), ("GB82 WEST 1234 5698 7654 33", False),
     ("DE89370400440532013000", True)],
)
def test_when_checking_mod97_then_only_valid_ibans_pass(value: str, ok: bool) -> None:
    assert mod97_ok(value) is ok


def test_when_a_custom_recognizer_has_a_validator_then_failing_matches_are_dropped() -> None:
    pol = parse_policy(policy([r"\b\d{4}-\d{4}-\d{4}-\d{4}\b"], validator="luhn", score=0.9))
    text = "good 4111-1111-1111-1111 bad 4111-1111-1111-1112"
    found = [text[f.start:f.end] for f in Classifier(pol).classify(text).findings]
    assert found == ["4111-1111-1111-1111"]
