"""Hint-gated secret recognizers read only the lines holding a hint: the same
findings as a read of the whole text, offsets in the whole text."""

from __future__ import annotations

import pytest
from presidio_analyzer import PatternRecognizer
from ragseal.classification._secrets import (
    AssignedSecretRecognizer,
    PasswordRecognizer,
    _HintGatedRecognizer,
)

TEXT = (
    "Deploy notes\r\n"
    "db_password = \"Xk9!mQ2#vL\"\n"
    "\n"
    "  url: postgres://app:S3cretPw9@db.internal:5432/app\n"
    "nothing here\n"
    "api_key: 'f3Kq9Lm2Zx8Rt'\n"
    "client_secret=Qw7Er9Ty2Ui4\n"
    "run --password hunter22x now\n"
    "if (\"Zy8Xw7Vu6\" == auth_token) {}\n"
    "last line with PASSWORD: Tr0ub4dor&3"
)


@pytest.mark.parametrize("recognizer", [PasswordRecognizer(), AssignedSecretRecognizer()])
def test_when_text_has_many_lines_then_findings_equal_the_whole_text_read(recognizer) -> None:  # type: ignore[no-untyped-def]
    # The gate's read of the patterns (PasswordRecognizer adds its prose
    # phrases on top of it, which no pattern read has).
    by_lines = sorted((r.start, r.end, r.score) for r in _HintGatedRecognizer.analyze(
        recognizer, TEXT, []))
    # Presidio's own read of the whole text, every pattern over every line.
    whole = sorted((r.start, r.end, r.score) for r in PatternRecognizer.analyze(
        recognizer, TEXT, []))
    assert by_lines == whole
    assert by_lines  # not vacuous
    for start, end, _ in by_lines:
        assert "\n" not in TEXT[start:end]


def test_when_a_line_holds_no_hint_then_its_value_is_not_read_twice() -> None:
    runs = PasswordRecognizer()._hinted_runs("a\npassword = x1\npwd=y2\nb\n://c")
    assert runs == [(2, 22), (25, 29)]
