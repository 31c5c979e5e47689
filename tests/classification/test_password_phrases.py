"""Passwords written into prose and config lines: the mask covers the whole value.

Issue 16, fourth round: ``password: Tr0ub4dor&3xQz9! (ask Dana)`` was masked
as ``Tr0ub4dor`` only (the keyword recognizer's candidate stops at ``&``) and
``&3xQz9!`` stayed in clear. A partly masked secret is a leak, so every case
here asserts that each character of the value lies under a secret finding of
the shipped default policy (what ``ragseal classify`` runs) and that the
masked text holds no part of it. Every value is made up for these tests.
"""

from __future__ import annotations

import io
import json
import sys

import pytest
from ragseal.api.cli import main
from ragseal.classification import (
    Classifier,
    Pseudonymizer,
    default_policy,
    mask,
)
from ragseal.classification._secrets import PasswordRecognizer, password_like, whole_value

SECRET_TYPES = frozenset({"AWS_ACCESS_KEY", "PRIVATE_KEY", "API_TOKEN", "PASSWORD"})
VALUE = "Tr0ub4dor&3xQz9!"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    classifier = Classifier(default_policy())
    classifier.warm_up()
    return classifier


def masked_view(classifier: Classifier, text: str) -> tuple[set[int], str]:
    """(offsets under a secret finding, the text as the strictest reader sees it)."""
    result = classifier.classify(text)
    covered = {i for f in result.findings if f.entity in SECRET_TYPES
               for i in range(f.start, f.end)}
    shown = mask(text, result.findings, default_policy(), Pseudonymizer(b"k" * 32), "t")
    return covered, shown.text


# An attacker (or a hurried colleague) writing a password into a wiki page.
LEAKS = [
    (f"password: {VALUE} (ask Dana)", VALUE),
    (f"The database password is: {VALUE}", VALUE),
    (f"my password is {VALUE} so do not share it", VALUE),
    (f"pw: {VALUE}", VALUE),
    (f"pwd - {VALUE}", VALUE),
    (f"passwd={VALUE} and then restart", VALUE),
    (f"pass: {VALUE} for the shared account", VALUE),
    (f"Use password {VALUE} to log in.", VALUE),
    (f"the password for the prod db is {VALUE}", VALUE),
    (f"Password was changed to {VALUE} yesterday", VALUE),
    (f"the admin password has been reset to {VALUE} by IT", VALUE),
    (f"(password: {VALUE})", VALUE),
    (f"password: {VALUE}, then run the job", VALUE),
    (f"my password is {VALUE}.", VALUE),
    (f"**Password:** {VALUE}", VALUE),
    (f"| vpn | Password | {VALUE} |", VALUE),
    (f"Username: dana\nPassword:\n  {VALUE}\nThanks!", VALUE),
    ('the password is "correct horse battery 42" now', "correct horse battery 42"),
    ("password: \u201cblue sky & 42 apples\u201d (ask Dana)", "blue sky & 42 apples"),
    ("Passwort: Zq8!rT3vX9&pL2 (bitte nicht teilen)", "Zq8!rT3vX9&pL2"),
    ("the vpn passcode is 482913, valid today", "482913"),
    (f"the wifi password, {VALUE}, is on the fridge", VALUE),
    (f"password:\u00a0{VALUE} (no-break space)", VALUE),
    (f"password\uff1a{VALUE}", VALUE),  # a full-width colon
    (f"password: **{VALUE}**", VALUE),
    (f"Password for dana@example.org: {VALUE}", VALUE),
    ("Server=db;Password=Tr0ub{4}dor&3x;User Id=bob", "Tr0ub{4}dor&3x"),
    ("api_key: Zq8rT3vX9pL2mN7k&3x! (rotate monthly)", "Zq8rT3vX9pL2mN7k&3x!"),
]


@pytest.mark.parametrize(("text", "value"), LEAKS)
def test_when_password_written_in_text_then_whole_value_masked(
    classifier: Classifier, text: str, value: str
) -> None:
    covered, shown = masked_view(classifier, text)
    at = text.index(value)
    assert set(range(at, at + len(value))) <= covered, [text[i] for i in range(
        at, at + len(value)) if i not in covered]
    pieces = [p for p in value.replace("&", " ").replace("!", " ").split() if len(p) >= 3]
    assert not any(p in shown for p in pieces)


# Prose about passwords, and code naming them: nothing to mask.
NOT_PASSWORDS = [
    "Password: must be 12 characters long",
    "The password is required for every login.",
    "Reset your password at the portal, then sign in.",
    "the password is stored in Vault",
    "the password is 2FA-protected since May",
    "Enter the password \"here\" and press OK",
    "password = getPassword();",
    "password = args.password,",
    "Password reset: see the runbook",
    "my password is camelCase? no: it is PasswordPolicy",
    "password = \",.:-\u00a8@*\u00bf?!\"",  # symbols only: no password
    "Use the password field below.",
    "password: ${DB_PASSWORD} (from the vault)",
    "password is <your password here>",
    "Password, username and e-mail are required.",
    "def check(password: str) -> bool:",  # code naming a password
    "password: z.string().min(8),",
    "password: Optional[str] = None",
    "const password: string = form.password;",
]


@pytest.mark.parametrize("text", NOT_PASSWORDS)
def test_when_text_only_talks_about_passwords_then_nothing_masked(
    classifier: Classifier, text: str
) -> None:
    covered, _ = masked_view(classifier, text)
    assert covered == set(), text


def test_when_issue_line_goes_through_the_cli_then_value_fully_covered(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = f"password: {VALUE} (ask Dana)\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    capsys.readouterr()
    assert main(["classify", "-", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    at = text.index(VALUE)
    spans = [(f["type"], f["start"], f["end"]) for f in data["findings"]
             if f["type"] in SECRET_TYPES]
    assert ("PASSWORD", at, at + len(VALUE)) in spans, spans


def test_password_like_rules() -> None:
    assert password_like("Tr0ub4dor&3x") and password_like("482913")
    assert password_like("TrOuBaDoR")  # irregular capitals
    assert not password_like("required") and not password_like("getUserName")
    assert not password_like("2FA-protected") and not password_like("abc1")
    assert not password_like("getPassword();")  # a call


def test_whole_value_grows_to_the_value_not_into_the_next_pair() -> None:
    text = "token=Zq8rT3vX9pL2&x!;user=bob"
    start = text.index("Zq8")
    assert text[slice(*whole_value(text, start, start + 10, 6, len(text)))] == "Zq8rT3vX9pL2&x!"
    sentence = "the secret is Zq8rT3vX9pL2mN7k."
    start = sentence.index("Zq8")
    got = whole_value(sentence, start, len(sentence) - 1, 10, len(sentence))
    assert sentence[slice(*got)] == "Zq8rT3vX9pL2mN7k"  # a full stop alone ends the sentence


def test_when_pattern_value_lies_inside_a_phrase_value_then_one_finding() -> None:
    text = f"password: {VALUE} (ask Dana)"
    results = [r for r in PasswordRecognizer().analyze(text, ["PASSWORD"], None) if r.score > 0]
    assert [text[r.start:r.end] for r in results] == [VALUE]


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("| User | Password |\n|------|----------|\n| bob | Tr0ub4dor&3x |\n| ann | hunter22 |\n",
         ["Tr0ub4dor&3x", "hunter22"]),
        ("user,password\nbob,Tr0ub4dor&3x\nann,S3cr3t!x\n", ["Tr0ub4dor&3x", "S3cr3t!x"]),
        ("name\tdb_pwd\nbob\tTr0ub4dor&3x\n", ["Tr0ub4dor&3x"]),
        ("| Setting | Value |\n|---|---|\n| password | Tr0ub4dor&3x |\n", ["Tr0ub4dor&3x"]),
    ],
)
def test_when_table_has_a_password_column_then_each_cell_found(
    text: str, values: list[str]
) -> None:
    results = [r for r in PasswordRecognizer().analyze(text, ["PASSWORD"], None) if r.score > 0]
    assert sorted(text[r.start:r.end] for r in results) == sorted(values)


@pytest.mark.parametrize(
    "text",
    [
        "| Field | Rule |\n|---|---|\n| Password | must be long |\n",
        "user,password\nbob,${PW}\nann,<redacted>\n",
        "| User | Password |\nbob Tr0ub4dor&3x\n",  # no rule row: no table
    ],
)
def test_when_password_column_holds_no_password_then_not_found(text: str) -> None:
    assert [r for r in PasswordRecognizer().analyze(text, ["PASSWORD"], None) if r.score > 0] == []


# An attacker who cannot read a document still controls what it holds: many
# password phrases, phrase keys with nothing after them, unclosed quotes and
# endless `&key=` pairs must neither time out out of classify nor leave a
# part of any value in clear (the phrase regex runs under a timeout).
@pytest.mark.parametrize("text", [
    f"password: {VALUE} (ask Dana) " * 400,
    "pw: " * 5_000,
    'password "' * 2_000,
    "password=" + "a&b=" * 5_000,
    "| Password | " * 2_000,
    "password:\n" * 3_000,
])
def test_when_a_text_repeats_password_phrases_then_classify_ends_and_masks_whole_values(
    classifier: Classifier, text: str,
) -> None:
    covered, shown = masked_view(classifier, text)
    assert "&3xQz9" not in shown
    start = text.find(VALUE)
    while start >= 0:
        assert set(range(start, start + len(VALUE))) <= covered
        start = text.find(VALUE, start + 1)
