"""Re-classifying stored chunks adds masking, never removes it."""

from __future__ import annotations

from ragseal.classification import default_policy
from ragseal.ingest._relabel import merge_spans

POLICY = default_policy()


def test_when_nothing_new_is_found_then_the_stored_spans_are_kept_as_they_are() -> None:
    stored = (("PERSON", 0, 5, 0.85),)
    assert merge_spans(POLICY, stored, []) is stored
    assert merge_spans(POLICY, stored, [("PERSON", 0, 5, 0.85)]) is stored


def test_when_a_new_type_is_found_then_it_is_added() -> None:
    stored = (("PERSON", 0, 5, 0.85),)
    merged = merge_spans(POLICY, stored, [("US_SSN", 10, 21, 0.85)])
    assert merged == (("PERSON", 0, 5, 0.85), ("US_SSN", 10, 21, 0.85))


def test_when_a_more_sensitive_span_covers_a_stored_one_then_it_replaces_it() -> None:
    stored = (("PHONE_NUMBER", 10, 21, 0.6),)
    assert merge_spans(POLICY, stored, [("US_SSN", 10, 21, 0.85)]) == (("US_SSN", 10, 21, 0.85),)


def test_when_a_new_span_would_unmask_part_of_a_stored_one_then_it_is_left_out() -> None:
    stored = (("US_SSN", 10, 21, 0.85),)
    # Less sensitive, or not covering the stored span: the stored span stays whole.
    assert merge_spans(POLICY, stored, [("PHONE_NUMBER", 10, 21, 0.6)]) is stored
    assert merge_spans(POLICY, stored, [("API_TOKEN", 12, 30, 0.9)]) is stored
