"""Keyed passage fingerprints: keyed per tenant, robust to light rewording."""

from __future__ import annotations

import hashlib

import pytest
from ragseal.store import Fingerprinter

FP = Fingerprinter(b"f" * 32)
TEXT = ("The quarterly payroll adjustment was approved by the compensation committee "
        "after reviewing the benchmark data for engineering salaries.")


def test_when_text_is_reworded_lightly_then_most_fingerprints_survive() -> None:
    variant = ("A quarterly payroll adjustment is approved by a compensation committee, "
               "after it reviewed benchmark data for Engineering salary.")
    original = set(FP.fingerprints("acme", TEXT))
    assert len(original & set(FP.fingerprints("acme", variant))) >= len(original) // 2


def test_when_case_punctuation_and_spacing_change_then_fingerprints_are_equal() -> None:
    noisy = TEXT.upper().replace(" ", "  \n").replace(".", "!")
    assert FP.fingerprints("acme", noisy) == FP.fingerprints("acme", TEXT)


def test_when_tenant_or_key_differs_then_fingerprints_share_nothing() -> None:
    base = set(FP.fingerprints("acme", TEXT))
    assert not base & set(FP.fingerprints("globex", TEXT))
    assert not base & set(Fingerprinter(b"g" * 32).fingerprints("acme", TEXT))


def test_when_fingerprinted_then_values_are_sorted_letters_and_not_unkeyed_hashes() -> None:
    values = FP.fingerprints("acme", TEXT)
    assert values == sorted(set(values)) and len(values) > 5
    # Letters only: no run of digits at rest for a canary (an SSN's last four) to hide in.
    assert all(len(v) == 14 and v.isalpha() and v.islower() for v in values)
    from ragseal.store._fingerprints import _letters

    shingles = ("quarter payroll adjust", "quarterly payroll adjustment")
    unkeyed = {_letters(int.from_bytes(hashlib.sha256(s.encode()).digest()[:8], "big"))
               for s in shingles}
    assert not unkeyed & set(values)


def test_when_shingles_are_made_then_offsets_cover_their_words_in_the_text() -> None:
    text = "Ünïcode ﬁle: quarterly payroll adjustment approved."
    for s in FP.shingles("acme", text):
        assert 0 <= s.start < s.end <= len(text)
    first = FP.shingles("acme", text)[0]
    assert text[first.start : first.end].startswith("Ünïcode")


def test_when_text_has_fewer_words_than_a_shingle_then_nothing() -> None:
    assert FP.fingerprints("acme", "the payroll") == []


def test_when_repr_then_key_hidden() -> None:
    assert "f" * 8 not in repr(FP)


def test_when_secret_is_short_then_value_error() -> None:
    with pytest.raises(ValueError):
        Fingerprinter(b"short")
