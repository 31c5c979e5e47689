"""Masks and the masked-to-original offset map."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ragseal.classification import Finding, default_policy
from ragseal.classification._masking import Pseudonymizer, mask, placeholder

POLICY = default_policy()
PSEUDO = Pseudonymizer(b"k" * 32)
TEXT = "Call Maria Gonzalez at 555-0142, card 4111 1111 1111 1111, SSN 536-22-8419."
FINDINGS = [
    Finding("PERSON", 5, 19, 0.85),
    Finding("PHONE_NUMBER", 23, 31, 0.75),
    Finding("CREDIT_CARD", 38, 57, 1.0),
    Finding("US_SSN", 63, 74, 0.85),
]


def test_when_fully_masked_then_each_mask_kind_applies() -> None:
    out = mask(TEXT, FINDINGS, POLICY, PSEUDO, "acme")
    assert out.text.startswith("Call <PERSON_")
    assert "<PHONE_NUMBER>" in out.text and "<US_SSN>" in out.text
    assert "<CREDIT_CARD_****1111>" in out.text
    assert "Maria" not in out.text and "536-22" not in out.text
    assert out.masked_types == ("CREDIT_CARD", "PERSON", "PHONE_NUMBER", "US_SSN")


def test_when_same_value_in_other_text_then_same_pseudonym_per_tenant() -> None:
    a = PSEUDO.tag("acme", "PERSON", "Maria Gonzalez")
    assert a == PSEUDO.tag("acme", "PERSON", "maria  gonzalez")
    assert a != PSEUDO.tag("globex", "PERSON", "Maria Gonzalez")
    assert a != Pseudonymizer(b"x" * 32).tag("acme", "PERSON", "Maria Gonzalez")


def test_when_reveal_allows_a_type_then_only_that_type_is_clear() -> None:
    out = mask(TEXT, FINDINGS, POLICY, PSEUDO, "acme", reveal=lambda f: f.entity == "PERSON")
    assert "Maria Gonzalez" in out.text and "<US_SSN>" in out.text
    assert "PERSON" not in out.masked_types


def test_when_bare_requested_then_placeholder_replaces_pseudonym() -> None:
    out = mask(TEXT, FINDINGS[:1], POLICY, PSEUDO, "acme", bare=lambda f: True)
    assert out.text == TEXT.replace("Maria Gonzalez", placeholder("PERSON"))


def test_when_offsets_mapped_back_then_unmasked_text_lines_up() -> None:
    out = mask(TEXT, FINDINGS, POLICY, PSEUDO, "acme")
    at = out.text.index(", card")
    assert out.to_original(at) == TEXT.index(", card")
    inside = out.text.index("<PERSON_") + 3
    assert out.to_original(inside) == 5
    assert out.to_original(inside, end=True) == 19
    assert out.to_original(len(out.text), end=True) == len(TEXT)


def test_when_findings_overlap_then_mask_refuses() -> None:
    with pytest.raises(ValueError):
        mask(TEXT, [Finding("PERSON", 5, 19, 1), Finding("PERSON", 10, 20, 1)], POLICY, PSEUDO, "t")


@given(st.text(max_size=200), st.data())
@settings(max_examples=80, deadline=None)
def test_when_any_spans_masked_then_clear_pieces_map_back_exactly(text: str, data: st.DataObject) -> None:
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(text)), max_size=8))))
    findings = [Finding("PERSON", a, b, 1.0) for a, b in zip(cuts[::2], cuts[1::2]) if a < b]
    out = mask(text, findings, POLICY, PSEUDO, "acme")
    for m_start, o_start, o_end, is_mask in out.pieces:
        if not is_mask:
            assert out.text[m_start : m_start + (o_end - o_start)] == text[o_start:o_end]
            assert out.to_original(m_start) == o_start
    # idempotent: masking the already-masked text finds nothing new to hide
    assert mask(out.text, [], POLICY, PSEUDO, "acme").text == out.text


@pytest.mark.parametrize("variant", ["Maria Gonzalez's", "Maria Gonzalez\u2019s", "Maria Gonzalez'",
                                     " maria   GONZALEZ ", "Maria Gonzalez."])
def test_when_name_is_possessive_or_spaced_then_same_pseudonym_and_search_tag(variant: str) -> None:
    assert PSEUDO.tag("acme", "PERSON", variant) == PSEUDO.tag("acme", "PERSON", "Maria Gonzalez")
    assert PSEUDO.search_tag("acme", "PERSON", variant) == \
        PSEUDO.search_tag("acme", "PERSON", "Maria Gonzalez")
