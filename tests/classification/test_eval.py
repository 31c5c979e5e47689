"""Evaluation arithmetic on hand-computed cases (no model is loaded)."""

from __future__ import annotations

import json

import pytest
from ragseal.classification._eval import (
    Counts,
    EvalInputError,
    LabeledSample,
    Span,
    evaluate,
    parse_labeled,
    parse_mapping,
)

TEXT = "Call Maria Lopez at 555-0100 in Paris today."
#       0    5    10   15   20   25   30   35   40
MARIA = Span("PERSON", 5, 16)
PHONE = Span("PHONE_NUMBER", 20, 28)
PARIS = Span("GPE", 32, 37)


def sample(*spans: Span, text: str = TEXT) -> LabeledSample:
    return LabeledSample(text, spans)


def test_when_counts_are_known_then_precision_recall_and_f2_follow_the_formulas() -> None:
    c = Counts(tp=3, fp=1, fn=2)
    assert c.precision == pytest.approx(0.75)
    assert c.recall == pytest.approx(0.6)
    # F2 = 5PR / (4P + R) = 5 * 0.45 / 3.6
    assert c.f2 == pytest.approx(0.625)


def test_when_nothing_is_predicted_then_precision_is_undefined_not_zero() -> None:
    c = Counts(fn=4)
    assert c.precision is None
    assert c.recall == 0.0
    assert c.f2 is None
    assert Counts(tp=0, fp=1, fn=1).f2 == 0.0


def test_when_every_span_matches_exactly_then_all_figures_are_one() -> None:
    report = evaluate([sample(MARIA, PHONE)], [[MARIA, PHONE]], scheme="exact")
    assert report.overall == Counts(tp=2)
    assert report.overall.f2 == 1.0
    assert report.per_type["PERSON"] == Counts(tp=1)


def test_when_a_span_is_partly_found_then_overlap_counts_it_and_exact_does_not() -> None:
    # Prediction "Maria" (5..10) against gold "Maria Lopez" (5..16): IoU 5/11 < 0.5.
    short = [Span("PERSON", 5, 10)]
    assert evaluate([sample(MARIA)], [short]).per_type["PERSON"] == Counts(fp=1, fn=1)
    # Prediction "Maria Lope" (5..15): IoU 10/11 >= 0.5: a hit for overlap only.
    near = [Span("PERSON", 5, 15)]
    assert evaluate([sample(MARIA)], [near]).per_type["PERSON"] == Counts(tp=1)
    assert evaluate([sample(MARIA)], [near], scheme="exact").per_type["PERSON"] == Counts(
        fp=1, fn=1
    )
    assert evaluate([sample(MARIA)], [short], iou=0.4).per_type["PERSON"] == Counts(tp=1)


def test_when_spans_differ_only_by_edge_punctuation_then_they_match_exactly() -> None:
    text = "Mail (maria@example.com) now"
    gold = sample(Span("EMAIL_ADDRESS", 5, 24), text=text)  # with the brackets
    pred = [Span("EMAIL_ADDRESS", 6, 23)]
    assert evaluate([gold], [pred], scheme="exact").overall == Counts(tp=1)


def test_when_the_type_is_wrong_then_it_is_a_false_positive_and_a_miss() -> None:
    report = evaluate([sample(MARIA)], [[Span("LOCATION", 5, 16)]],
                      mapping={"GPE": "LOCATION"}, known_types={"PERSON", "LOCATION"})
    assert report.per_type["PERSON"] == Counts(fn=1)
    assert report.per_type["LOCATION"] == Counts(fp=1)
    assert report.pii == Counts(tp=1)  # type-agnostic: the span was found
    assert report.misses["PERSON"][0].reason == "wrong type"


def test_when_gold_types_are_mapped_then_they_are_scored_as_ours() -> None:
    samples = [sample(MARIA, PARIS)]
    report = evaluate(samples, [[MARIA, Span("LOCATION", 32, 37)]],
                      mapping={"GPE": "LOCATION"}, known_types={"PERSON", "LOCATION"})
    assert report.per_type == {"PERSON": Counts(tp=1), "LOCATION": Counts(tp=1)}
    assert report.gold_recall["GPE"] == Counts(tp=1)
    assert report.not_evaluated == {}


def test_when_a_gold_type_is_unknown_and_unmapped_then_it_is_not_evaluated() -> None:
    report = evaluate([sample(MARIA, PARIS)], [[MARIA, Span("LOCATION", 32, 37)]],
                      known_types={"PERSON", "LOCATION"})
    assert report.not_evaluated == {"GPE": 1}
    # LOCATION is no evaluated type here: its prediction is ignored, not an FP.
    assert report.ignored_predictions == {"LOCATION": 1}
    assert report.overall == Counts(tp=1)
    report = evaluate([sample(MARIA, PARIS)], [[MARIA]], mapping={"PERSON": ""},
                      known_types={"PERSON"})
    assert report.not_evaluated == {"PERSON": 1, "GPE": 1}


def test_when_counting_two_samples_then_overall_is_the_micro_sum() -> None:
    samples = [sample(MARIA, PHONE), sample(MARIA)]
    preds = [[MARIA, Span("PHONE_NUMBER", 0, 4)], []]
    report = evaluate(samples, preds)
    assert report.per_type["PERSON"] == Counts(tp=1, fn=1)
    assert report.per_type["PHONE_NUMBER"] == Counts(fp=1, fn=1)
    assert report.overall == Counts(tp=1, fp=1, fn=2)
    # P = 1/2, R = 1/3: F2 = 5 * (1/6) / (2 + 1/3) = 5/14
    assert report.overall.f2 == pytest.approx(5 / 14)
    assert [m.sample for m in report.misses["PERSON"]] == [2]
    assert report.misses["PHONE_NUMBER"][0].reason == "missed"


def test_when_one_prediction_covers_two_gold_spans_then_it_matches_one_at_most() -> None:
    text = "Ann Lee Bob Ray"
    gold = sample(Span("PERSON", 0, 7), Span("PERSON", 8, 15), text=text)
    report = evaluate([gold], [[Span("PERSON", 0, 15)]], iou=0.4)
    assert report.per_type["PERSON"] == Counts(tp=1, fn=1)


def test_when_scoring_by_token_then_each_token_counts_once() -> None:
    # Tokens of TEXT: Call Maria Lopez at 555 - 0100 in Paris today .
    gold = sample(MARIA, PHONE)
    pred = [Span("PERSON", 5, 10), Span("PHONE_NUMBER", 20, 28), Span("PERSON", 32, 37)]
    report = evaluate([gold], [pred], scheme="token")
    assert report.per_type["PERSON"] == Counts(tp=1, fp=1, fn=1)  # Maria / Paris / Lopez
    assert report.per_type["PHONE_NUMBER"] == Counts(tp=3)  # 555 - 0100
    assert report.gold_recall["PERSON"] == Counts(fn=1)
    assert report.gold_recall["PHONE_NUMBER"] == Counts(tp=1)


def test_when_reading_jsonl_then_bad_lines_are_named() -> None:
    good = json.dumps({"text": "hi Ann", "spans": [{"type": "PERSON", "start": 3, "end": 6}]})
    assert parse_labeled([good, ""])[0].spans == (Span("PERSON", 3, 6),)
    with pytest.raises(EvalInputError, match="line 2: not valid JSON"):
        parse_labeled([good, "{"])
    bad = json.dumps({"text": "hi", "spans": [{"type": "PERSON", "start": 1, "end": 9}]})
    with pytest.raises(EvalInputError, match=r"line 1\.spans\[0\]"):
        parse_labeled([bad])
    with pytest.raises(EvalInputError, match="line 1.text"):
        parse_labeled([json.dumps({"spans": []})])


def test_when_parsing_map_options_then_gold_equals_ours() -> None:
    assert parse_mapping(["GPE=LOCATION", "TITLE="]) == {"GPE": "LOCATION", "TITLE": ""}
    with pytest.raises(EvalInputError):
        parse_mapping(["GPE"])


def test_when_a_sample_is_shown_then_its_text_is_not() -> None:
    assert "Maria" not in repr(sample(MARIA))
