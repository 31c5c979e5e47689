"""Probing detection (issue 14, item 12): guessing is noticed and slowed.

The guard's logic on a fake clock; tests/security/test_containment.py runs
it through the app (429 with Retry-After, the audit record, the metric).
"""

from __future__ import annotations

from ragseal.api._probing import Alert, ProbeGuard, skeleton
from ragseal.retrieval import Principal

EMP = Principal("emp@acme.example", "acme", ("all-staff",), ("employee",))
OTHER = Principal("other@acme.example", "acme", ("all-staff",), ("employee",))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _guard(clock: Clock, alerts: list[tuple[Principal, Alert]], threshold: float = 5.0
           ) -> ProbeGuard:
    return ProbeGuard(threshold=threshold, half_life=300.0, penalty=30.0, max_penalty=100.0,
                      forgive=3600.0, keyed_hash=lambda t: f"h({t})",
                      on_alert=lambda p, a: alerts.append((p, a)), clock=clock)


def test_when_answers_differ_only_in_a_value_then_skeletons_are_equal() -> None:
    assert skeleton("Base salary USD 98,000 per year.") == skeleton(
        "Base salary USD 120,000 per year.")
    assert skeleton("The owner is Daniel Okafor.") == skeleton("The owner is Martin Keller.")
    assert skeleton("ssn 523-41-8876") == skeleton("ssn 523-41-0000")
    assert skeleton("salary per year") != skeleton("bonus per year")


def test_when_a_principal_guesses_one_value_then_it_is_throttled_and_an_alert_raised() -> None:
    clock, alerts = Clock(), []  # type: ignore[var-annotated]
    guard = _guard(clock, alerts, threshold=6.0)
    for i in range(3):
        # blocked + near duplicate (after the first): 1 + 1 per call
        guard.observe(EMP, "/v1/inspect", signals=("blocked",),
                      text=("answer", f"Base salary USD {90 + i},000 per year."))
        assert guard.retry_after(EMP) is None
    alert = guard.observe(EMP, "/v1/inspect", signals=("blocked",),
                          text=("answer", "Base salary USD 99,000 per year."))
    assert alert is not None and alerts == [(EMP, alert)]
    assert alert.signals == {"blocked": 4, "near_duplicate": 3}
    assert guard.retry_after(EMP) == 30
    assert guard.retry_after(OTHER) is None  # per principal


def test_when_a_principal_strikes_again_then_the_penalty_doubles_up_to_the_cap() -> None:
    clock, alerts = Clock(), []  # type: ignore[var-annotated]
    guard = _guard(clock, alerts, threshold=3.0)
    penalties = []
    for _ in range(4):
        for _ in range(3):
            guard.observe(EMP, "/v1/documents/{doc_id}", signals=("denied",))
        penalties.append(alerts[-1][1].penalty_seconds)
        assert guard.retry_after(EMP) == int(penalties[-1])
        clock.now += penalties[-1] + 1
        assert guard.retry_after(EMP) is None
    assert penalties == [30.0, 60.0, 100.0, 100.0]
    clock.now += 3601  # a quiet period: the doubling starts over
    for _ in range(3):
        guard.observe(EMP, "/v1/documents/{doc_id}", signals=("denied",))
    assert alerts[-1][1].penalty_seconds == 30.0


def test_when_calls_are_ordinary_then_no_throttle() -> None:
    clock, alerts = Clock(), []  # type: ignore[var-annotated]
    guard = _guard(clock, alerts)
    questions = ["How do I book travel?", "What is the expense deadline?",
                 "Who approves overtime?", "Where is the VPN guide?"]
    for _ in range(50):
        for q in questions:  # repeated questions are not near duplicates
            guard.observe(EMP, "/v1/retrieve", text=("query", q))
        guard.observe(EMP, "/v1/inspect", signals=("redacted",), text=("answer", "Fine."))
        clock.now += 120  # one redaction every two minutes decays away
    assert alerts == [] and guard.retry_after(EMP) is None


def test_when_threshold_is_zero_then_detection_is_off() -> None:
    clock, alerts = Clock(), []  # type: ignore[var-annotated]
    guard = _guard(clock, alerts, threshold=0)
    for _ in range(100):
        guard.observe(EMP, "/v1/inspect", signals=("blocked", "denied"))
    assert alerts == [] and guard.retry_after(EMP) is None
