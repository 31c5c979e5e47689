"""A declared recognizer's ``GATE`` skips texts no pattern can match, and
only those: the same findings as Presidio's read of every text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer import PatternRecognizer
from ragseal.classification._secrets import BearerTokenRecognizer

VALUE = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9Zq81mX4"
TEXTS = [
    f"Authorization: Bearer {VALUE}",
    f"curl -H 'authorization: bearer\t{VALUE}' https://api.example.com",
    f"AUTHORIZATION: BEARER        {VALUE}",  # 8 spaces: the look-behind's limit
    f"Bearer\n{VALUE}",  # a line break is no separator
    f"xBearer {VALUE}",  # no word start
    f"Bearer{VALUE}",
    "The bearer of this letter is Dr. Okafor.",
    f"no keyword before {VALUE}",
    "",
]


def _spans(results) -> list[tuple[int, int, float]]:  # type: ignore[no-untyped-def]
    return sorted((r.start, r.end, r.score) for r in results)


@pytest.mark.parametrize("text", TEXTS)
def test_when_gated_then_findings_equal_the_ungated_read(text: str) -> None:
    recognizer = BearerTokenRecognizer()
    assert recognizer.GATE
    gated = _spans(recognizer.analyze(text, ["API_TOKEN"]))
    # Presidio's own read of the whole text, every pattern, no gate.
    whole = _spans(PatternRecognizer.analyze(recognizer, text, ["API_TOKEN"]))
    assert gated == whole


def test_when_keyword_present_then_token_found_and_when_absent_then_nothing() -> None:
    recognizer = BearerTokenRecognizer()
    text = TEXTS[0]
    found = recognizer.analyze(text, ["API_TOKEN"])
    assert [(r.start, r.end) for r in found] == [(text.index(VALUE), len(text))]
    assert recognizer.analyze(TEXTS[7], ["API_TOKEN"]) == []


# An attacker's document tries to carry a token the gate skips: any casing of
# the keyword, any run of separators (Unicode spaces, tabs, line breaks),
# word characters glued before it, junk around it.
_KEYWORD = st.sampled_from(["Bearer", "bearer", "BEARER", "bEaReR", "Bear", "xBearer",
                            "_Bearer", "Bearer:", "Bearer=", "\u0412earer"])
_SEPARATOR = st.lists(st.sampled_from([" ", "\t", "\n", "\r", "\u00a0", "\u2003", "\v"]),
                      min_size=0, max_size=10).map("".join)
_TOKEN = st.sampled_from([VALUE, VALUE[:15], VALUE + "==", "Zq81mX4/+~._-" * 2])
_JUNK = st.text(alphabet="Bb earAUTHORIZATION:'\"=\t\n", max_size=20)


@settings(max_examples=300, deadline=None)
@given(_JUNK, _KEYWORD, _SEPARATOR, _TOKEN, _JUNK)
def test_when_an_adversary_shapes_the_keyword_then_the_gate_never_drops_a_finding(
        before: str, keyword: str, separator: str, token: str, after: str) -> None:
    recognizer = BearerTokenRecognizer()
    text = before + keyword + separator + token + after
    gated = _spans(recognizer.analyze(text, ["API_TOKEN"]))
    assert gated == _spans(PatternRecognizer.analyze(recognizer, text, ["API_TOKEN"]))
