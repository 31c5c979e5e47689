"""Secret recognizers: true positives cover the secret only; near misses stay quiet."""

from __future__ import annotations

import pytest
from ragseal.classification._secrets import (
    AwsAccessKeyRecognizer,
    BearerTokenRecognizer,
    JwtRecognizer,
    KeywordSecretRecognizer,
    KnownTokenRecognizer,
    PasswordRecognizer,
    PrivateKeyRecognizer,
    shannon_entropy,
)

# Realistic-looking, made-up values (none is a live credential).
AWS_KEY = "AKIAQ3EGRJ5KZXMBT7WN"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM_BODY = "MIIEowIBAAKCAQEAv7Qn0x3Zc9Lk2JpWq8Rt5YhN1mBf4GdS6aE0uTiXoVzKlPyC"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"
TOKEN = "Zx8qP2mL9vT4kR7wN3sJ6hF1dG5bC0aY"  # noqa: S105 - a made-up test value


def found(recognizer: object, text: str) -> list[str]:
    results = recognizer.analyze(text, recognizer.supported_entities, None)  # type: ignore[attr-defined]
    return sorted(text[r.start : r.end] for r in results if r.score > 0)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"aws_access_key_id = {AWS_KEY}", AWS_KEY),
        ("temporary key ASIAY34FZKBOKMUTVV7A in use", "ASIAY34FZKBOKMUTVV7A"),
        (f"({AWS_KEY})", AWS_KEY),
    ],
)
def test_when_aws_key_id_then_found(text: str, secret: str) -> None:
    assert found(AwsAccessKeyRecognizer(), text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        "key AKIAQ3EGRJ5KZXMBT7W here",  # AKIA + 15
        "key AKIAQ3EGRJ5KZXMBT7WNX here",  # AKIA + 17
        "key akiaq3egrj5kzxmbt7wn here",  # lower case
        "key AKIA1234567890123456 here",  # 0, 1, 8, 9 are not base32
        "key ABIAQ3EGRJ5KZXMBT7WN here",  # wrong prefix
    ],
)
def test_when_almost_aws_key_id_then_not_found(text: str) -> None:
    assert found(AwsAccessKeyRecognizer(), text) == []


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"before\n{PEM}\nafter", PEM),
        (PEM.replace("RSA ", ""), PEM.replace("RSA ", "")),
        (PEM.replace("RSA", "OPENSSH"), PEM.replace("RSA", "OPENSSH")),
        # A JSON key file keeps the line breaks as literal "\n".
        ('{"private_key": "' + PEM.replace("\n", "\\n") + '\\n"}', PEM.replace("\n", "\\n")),
        # Cut before its END line: still found, up to the last body line.
        (
            f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n{PEM_BODY}\nand then prose.",
            f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n{PEM_BODY}",
        ),
    ],
)
def test_when_private_key_block_then_whole_block_found(text: str, secret: str) -> None:
    assert found(PrivateKeyRecognizer(), text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
        "-----BEGIN PUBLIC KEY-----\n" + PEM_BODY + "\n-----END PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\n" + PEM_BODY + "\n-----END CERTIFICATE-----",
        "Paste your -----BEGIN PRIVATE KEY----- block below.",
    ],
)
def test_when_not_a_private_key_then_not_found(text: str) -> None:
    assert found(PrivateKeyRecognizer(), text) == []


def test_when_jwt_then_found_with_full_score() -> None:
    recognizer = JwtRecognizer()
    results = recognizer.analyze(f"Authorization: {JWT}", ["API_TOKEN"], None)
    assert [(r.start, r.score) for r in results] == [(15, 1.0)]


@pytest.mark.parametrize(
    "text",
    [
        "eyJub3Rqc29uIGF0IGFsbA.eyJzdWIiOiIxIn0.abc",  # header is not JSON
        "eyJmb28iOiJiYXIifQ.eyJzdWIiOiIxIn0.abc",  # JSON without "alg"
        "eyJhbGciOiJIUzI1NiJ9",  # one segment
        "eyJ%%%.eyJ.x",
    ],
)
def test_when_almost_jwt_then_not_found(text: str) -> None:
    assert found(JwtRecognizer(), text) == []


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (
            "Authorization: Bearer 2f9a8c7e6d5b4a3f2e1d0c9b8a7f6e5d",
            "2f9a8c7e6d5b4a3f2e1d0c9b8a7f6e5d",
        ),
        ("curl -H 'authorization: bearer xK9_mQ2-vL7.pR4~tN8+' x", "xK9_mQ2-vL7.pR4~tN8+"),
    ],
)
def test_when_bearer_token_then_token_only_found(text: str, secret: str) -> None:
    assert found(BearerTokenRecognizer(), text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        "the bearer of bad news",
        "Authorization: Bearer <token>",
        "Bearer abcdefghijklmnopqrstuvwxyz",  # one character class
        "Bearer aaaaaaaaaaaaaaaa1111",  # low entropy
        "Bearer authentication-required-everywhere",  # words
    ],
)
def test_when_bearer_without_credential_then_not_found(text: str) -> None:
    assert found(BearerTokenRecognizer(), text) == []


@pytest.mark.parametrize(
    "secret",
    [
        "ghp_q7RzT2mWx9LkP4vN8sB3hJ6dF1cY5gA0eU2i",
        "glpat-x9Yb2Kq7LmN4pR8sT1vW",
        "xoxb-583920174653-Hq7vR2mZ9pLx",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "AIzaSyD3x9Yb2Kq7LmN4pR8sT1vW5zA6cE0gH2j",
    ],
)
def test_when_vendor_token_then_found_without_context(secret: str) -> None:
    assert found(KnownTokenRecognizer(), f"use {secret} here") == [secret]


def test_when_vendor_prefix_is_too_short_then_not_found() -> None:
    assert found(KnownTokenRecognizer(), "ghp_short sk_live_x AIzaSyShort") == []


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"api_key={TOKEN}", TOKEN),
        (f'"apiKey": "{TOKEN}"', TOKEN),
        (f"GITHUB_TOKEN: {TOKEN}", TOKEN),
        (f"The secret is now {TOKEN}.", TOKEN),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8r4Tq2Lm",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8r4Tq2Lm",
        ),
        ("client secret c2f9a8c7e6d5b4a3f2e1d0c9b8a7f6e5", "c2f9a8c7e6d5b4a3f2e1d0c9b8a7f6e5"),
        # short, but assigned to the keyword (was missed below 20 characters)
        ("api_key=Zx8qP2mL9vT4kR7", "Zx8qP2mL9vT4kR7"),
    ],
)
def test_when_random_string_follows_keyword_then_found(text: str, secret: str) -> None:
    assert found(KeywordSecretRecognizer(), text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        "token: aaaaaaaaaaaaaaaaaaaaaaaa",  # low entropy
        "The secret to success is consistency and internationalization.",
        "the key player in kinetochore-microtubule attachment",  # words, no digits
        "a secreted phosphatidylinositol-specific phospholipase C",
        "the Dot/Icm type IVB secretion system: Dot/Icm-translocated effectors",
        "token endpoint: https://login.example.com/oauth2/v2.0/tokenAbc123XYZ",
        f"{TOKEN} appears with no keyword before it",
        f"api key\n{TOKEN}",  # not on the keyword's line
        f"token one two three four five {TOKEN}",  # too many words after the keyword
        "api_key=Zx8qP",  # too short even when assigned
        "api_key=hunterTwoSecretWord",  # a short value with words in it
    ],
)
def test_when_no_keyworded_random_string_then_not_found(text: str) -> None:
    assert found(KeywordSecretRecognizer(), text) == []


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("postgres://app:S3cr3t!pw@db.internal:5432/prod", "S3cr3t!pw"),
        ("mongodb+srv://svc:Xy7%40pw@cluster0.example.net", "Xy7%40pw"),
        ("password = hunter22", "hunter22"),
        ("password: hunter22", "hunter22"),
        ('db_password: "correct horse battery"', "correct horse battery"),
        ("DB_PASSWORD='tr0ub4dor'", "tr0ub4dor"),
        ('{"password": "p@ss w0rd"}', "p@ss w0rd"),
        ("PGPASSWORD=abc123 psql -h db", "abc123"),
        ("mysql --password=Tr0ub4dor&3 -h db", "Tr0ub4dor&3"),
        ("passwd => 'Secr3t!'", "Secr3t!"),
        ("https://username:password@example.com", "password"),  # weak, still a password
        ("pwd: Zq9!vR2x", "Zq9!vR2x"),
        ("passphrase = 'blue sky 42'", "blue sky 42"),
        # the regexes fold case Unicode's way (long s = s): so must the pre-check
        ("db_pa\u017f\u017fword = hunter22", "hunter22"),
        ("DB_PASSWORD=Hunter22x", "Hunter22x"),
    ],
)
def test_when_password_in_config_or_url_then_value_only_found(text: str, secret: str) -> None:
    assert found(PasswordRecognizer(), text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        "Reset your password at the portal.",
        "Password: must be 12 characters long",
        "password: ${DB_PASSWORD}",
        "password = <password>",
        "password: ********",
        "password: str",
        "password = os.environ['DB_PASSWORD']",
        "password: abc",  # too short to be one
        "http://example.com:8080/path",
        "mailto:ana@example.com",
    ],
)
def test_when_no_password_value_then_not_found(text: str) -> None:
    assert found(PasswordRecognizer(), text) == []


def test_when_entropy_then_bits_per_character() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)
