"""Vendor token table and keyword rules: true positives and their near misses.

Every value here is made up for these tests (random strings in each vendor's
documented shape); none is a live credential and none comes from another
project's test data.
"""

from __future__ import annotations

import pytest
from ragseal.classification._secret_patterns import TOKEN_RULES, is_placeholder
from ragseal.classification._secrets import (
    JwtRecognizer,
    KeywordSecretRecognizer,
    KnownTokenRecognizer,
    PasswordRecognizer,
    QuotedHighEntropyRecognizer,
    looks_like_identifier,
)

OPENAI = ("sk-proj-pOnC1_4EakoKm5b_OAYGSTWjRlLK6sNdVU72lZ-o2_YH19dCqgn28s9DT3BlbkFJp68GZN9Z3"
          "zLIbet6_UzH_7-3eLO6m4H5x29iI-Vmy0s5bla5kzFpfITt")
SLACK_HOOK = "https://hooks.slack.com/services/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"
VAULT_BATCH = (
    "hvb.xt0_dMCUl70tPsf8ahmTGQduyl23zvEC-BVu226UAN49lBzokTuowA3y2dsIKUYb96IT_rnsCT6WgPGk77Sm"
    "JLekfi5nX69ctOrdnYlvGcfjpQtN8EP7FZEO1f_Fx4yo8W9c-BXe7rLE"
)

TOKENS = [
    OPENAI,
    "sk-svcacct-aO-rC8qLk1urN0XtzWbnXjgSTdd8PM5Pp_7vtA3R6DiZezwfg5y9cqBruxXI",
    "sk_test_BIA3fytlwlqDFX0AsDluHEChHYHYr0",
    "rk_prod_g2noa9f4DPvAIY122Ql9bw2kwJRKYInhNTrJWKUn",
    SLACK_HOOK,
    "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",
    "sgp_9da0a61353314b90_d4bdcc7d7450c847008fd8a42518aa107f174cb7",
    "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",
    "MIUqiTVg5bIn22SLtKc9zyI9HZ.PQk9Gg.ksXQHNfyuLLKTrXyb92TvdwOsudoaViVMBtFqn",
    "pypi-AgEIcHlwaS5vcmcP_njWHMpS8-pFT6Skil-NHCvP3QP-ZOwz7CSS0WBt4q3IQpOI4HsIDQspIL6",
    "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",
    "81f40fb8e6b8c961d29f2afaab5258c3-us30",
    VAULT_BATCH,
    "sntrys_eyJOI3dTvpVBjv6Zon1ZaFzgHvIVkGveBo5eT7-ey9gLlviJAaKf8HjvE/gTDY7lFeb0Xl4wvEvz_RZJv7l"
    "cSjqF8tPw",
    "Jhi8Q~aWl~1R-TkcGEoWFMwNbdRw6mF8u.9oiqaN",
]


def found(recognizer: object, text: str) -> list[str]:
    results = recognizer.analyze(text, recognizer.supported_entities, None)  # type: ignore[attr-defined]
    return sorted(text[r.start : r.end] for r in results if r.score > 0)


@pytest.mark.parametrize("token", TOKENS)
def test_when_vendor_token_stands_alone_then_found(token: str) -> None:
    assert found(KnownTokenRecognizer(), f"deploy with {token} today") == [token]


def test_when_npm_auth_token_then_value_found() -> None:
    text = "//registry.npmjs.org/:_authToken=60e76d46-8f4a-bc64-4441-189548b4e551"
    assert found(KnownTokenRecognizer(), text) == ["60e76d46-8f4a-bc64-4441-189548b4e551"]


@pytest.mark.parametrize(
    "text",
    [
        "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # placeholder run
        "xoxb-xxxxxxxxxxx-xxxxxxxxxxxxx",
        "sk_test_abcdefghijklmnopqrstuvwxyz",  # an alphabet
        "sk_live_EXAMPLEKEY00000000000000",
        "task_test_4eC39HqLyjWDarjtT1zdp7dc",  # not at a token's start
        "ntn_123 and sgp_short",  # too short
        "hooks.slack.com/services/",  # no path after it
        "pypi-AgEIcHlwaS5vcmc",  # the fixed prefix alone
        "SG.short.short",
        "the -us30 region",
        "api_org_tooShort",
    ],
)
def test_when_vendor_shape_is_a_placeholder_or_incomplete_then_not_found(text: str) -> None:
    assert found(KnownTokenRecognizer(), text) == []


def test_when_every_rule_is_declared_then_it_compiles_and_has_keywords() -> None:
    import regex

    names = [r.name for r in TOKEN_RULES]
    assert len(names) == len(set(names))
    for rule in TOKEN_RULES:
        assert rule.keywords and all(k == k.lower() for k in rule.keywords)
        regex.compile(rule.pattern)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        # keyword on the line before: a Kubernetes/compose env entry
        ('- name: FACEBOOK_TOKEN\n  value: "4I4188GsZQ19NGw1wWyHoaAHByN5"',
         "4I4188GsZQ19NGw1wWyHoaAHByN5"),
        # XML element named after the keyword, value on its own line
        ("<gitlabToken>\n    37CplGtcVN0mtk2BQLiCyOFRdNtVcZMGvJt1AoSO\n</gitlabToken>",
         "37CplGtcVN0mtk2BQLiCyOFRdNtVcZMGvJt1AoSO"),
        ("<apiKey>37CplGtcVN0mtk2BQLiCyOFRdNtVcZMGvJt1AoSO</apiKey>",
         "37CplGtcVN0mtk2BQLiCyOFRdNtVcZMGvJt1AoSO"),
        # short secrets assigned to a keyword
        ('api_key = "jA8qbCMs8jyO"', "jA8qbCMs8jyO"),
        ("client_secret: 7fQ2x9Lm4kTz", "7fQ2x9Lm4kTz"),
    ],
)
def test_when_keyword_names_the_value_then_found(text: str, secret: str) -> None:
    assert found(KeywordSecretRecognizer(), text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        "#define XXH3_SECRET_SIZE_MIN_VALUE_FOR_HASHING 136",  # code identifiers
        "typedef struct X509_pubkey_st X509_PUBKEY_ENCODED_FORM;",
        "administrator_login_password = var.db_password_for_admins",  # a reference
        'api_key = "${API_KEY_FROM_THE_ENVIRONMENT}"',
        "secret_key = os.environ.get('SECRET_KEY_FOR_SESSIONS')",
        "token_id = 3f1c2a9e-5b7d-4c1e-9a2f-6d8b0e4f7a13",  # a UUID is an id
        'api_key = "abc12345"',  # an alphabet run, not a secret
        "api_key = XXXXXXXXXXXXXXXXXXXX",
        "the token: refreshed automatically every hour",
        "- name: FACEBOOK_TOKEN\n  value: from-the-vault",  # words
        "api key\nZx8qP2mL9vT4kR7wN3sJ6hF1dG5bC0aY",  # a value on a line of its own
    ],
)
def test_when_keyword_value_is_code_or_placeholder_then_not_found(text: str) -> None:
    assert found(KeywordSecretRecognizer(), text) == []


def test_when_quoted_high_entropy_string_without_keyword_then_found() -> None:
    value = "a4pmDP4iXJ44MG508LOvndABLZCPvmDXqQYAMWHS"
    assert found(QuotedHighEntropyRecognizer(), f'conn.open("{value}")') == [value]


@pytest.mark.parametrize(
    "text",
    [
        '"sha256": "a4pmDP4iXJ44MG508LOvndABLZCPvmDXqQYAMWHS"',  # a named hash
        '"a4pmDP4iXJ44MG508LOvndABLZCPvmDXqQYAMWHS\'',  # quotes do not match
        '"internationalization-and-localization"',  # words
        '"/usr/local/lib/python3/site-packages"',
        '"0123456789abcdef0123456789abcdef"',  # low entropy hex run
    ],
)
def test_when_quoted_string_is_not_random_then_not_found(text: str) -> None:
    assert found(QuotedHighEntropyRecognizer(), text) == []


def test_when_jwt_has_header_and_payload_only_then_found() -> None:
    jwt2 = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsInJvbGUiOiJhZG1pbiJ9"
    assert found(JwtRecognizer(), f"token {jwt2} end") == [jwt2]


def test_when_two_segments_but_payload_not_json_then_not_found() -> None:
    assert found(JwtRecognizer(), "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24gYXQgYWxs") == []


@pytest.mark.parametrize(
    "text",
    [
        "password: real_key",
        "administrator_login_password = var.db_password",
        "password = self.settings.password",
    ],
)
def test_when_password_value_is_a_name_or_reference_then_not_found(text: str) -> None:
    assert found(PasswordRecognizer(), text) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [("X509_pubkey_st", True), ("XXH3_SECRET_SIZE_MIN", True), ("db.password", True),
     ("Zx8qP2mL_9vT4kR7wN3s", False), ("4I4188GsZQ19NGw1wWyH", False)],
)
def test_when_value_is_a_code_identifier_then_said_so(value: str, expected: bool) -> None:
    assert looks_like_identifier(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("AKIAIOSFODNN7EXAMPLE", True), ("xxxxxxxxxxxx", True), ("abcdefghijklmnop", True),
     ("0123456789abcdefABCDEF", True), ("Zx8qP2mL9vT4kR7wN3sJ", False),
     # a long random value keeps counting as a secret with a placeholder word in it
     ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", False)],
)
def test_when_value_is_a_placeholder_then_said_so(value: str, expected: bool) -> None:
    assert is_placeholder(value) is expected


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('api_key = "w{7}q)R$u]vy(pe[k>-_#"', "w{7}q)R$u]vy(pe[k>-_#"),
        ("client_secret: 'Tr0ub4dor&3x'", "Tr0ub4dor&3x"),
        ('if (apiKey == "Lq9#rT2!vW") {', "Lq9#rT2!vW"),
    ],
)
def test_when_quoted_value_is_assigned_to_a_credential_key_then_found(
    text: str, secret: str
) -> None:
    from ragseal.classification._secrets import AssignedSecretRecognizer

    assert found(AssignedSecretRecognizer(), text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        'api_key = "real_secret"',  # a name, not a value
        'secret_key = "please set this in the console"',  # prose
        'api_key = "${API_KEY}"',
        'private_key = "EXAMPLE-private-key"',
        'api_key = ""',
        "note = 'Tr0ub4dor&3x'",  # key is not a credential name
    ],
)
def test_when_assigned_value_is_not_a_credential_then_not_found(text: str) -> None:
    from ragseal.classification._secrets import AssignedSecretRecognizer

    assert found(AssignedSecretRecognizer(), text) == []


@pytest.mark.parametrize(
    ("text", "found_value"),
    [
        ('herokuToken = "3f1c2a9e-5b7d-4c1e-9a2f-6d8b0e4f7a13"', True),
        ('serviceSecret: "58203917465820193746"', True),
        ('request_id = "3f1c2a9e-5b7d-4c1e-9a2f-6d8b0e4f7a13"', False),
        ('tokenId = "3f1c2a9e-5b7d-4c1e-9a2f-6d8b0e4f7a13"', False),
        ("the key 3f1c2a9e-5b7d-4c1e-9a2f-6d8b0e4f7a13 in the table", False),
    ],
)
def test_when_uuid_or_long_number_is_assigned_then_only_credential_keys_count(
    text: str, found_value: bool
) -> None:
    assert bool(found(KeywordSecretRecognizer(), text)) is found_value


def test_when_aws_documented_key_pair_is_pasted_then_both_are_found() -> None:
    """AWS's documented example pair turns up in real runbooks: fail closed."""
    from ragseal.classification import Classifier, default_policy

    classifier = Classifier(default_policy())
    classifier.warm_up()
    text = ("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"
            "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
    found = {text[f.start:f.end] for f in classifier.classify(text).findings}
    assert {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"} <= found


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        # Hex tops out at 4 bits a character: this 32-hex key has 3.4.
        ("Your service key is 2afddb813193eb9d3b5bd99bf5d834cd, keep it safe",
         "2afddb813193eb9d3b5bd99bf5d834cd"),
        # A user:secret pair assigned to a token key is one value.
        ('ENTERPRISE__COMToken="7c2e91ba:d04f5a7e"', "7c2e91ba:d04f5a7e"),
        # Lower case and digits with no vowel-rich run: generated, not a word.
        ('linkedinToken="kvqtzw382hbn5r"', "kvqtzw382hbn5r"),
    ],
)
def test_when_short_or_hex_value_is_assigned_then_found(text: str, secret: str) -> None:
    assert found(KeywordSecretRecognizer(), text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        'API_KEY="glc_111111111111111111111111111111111111111111="',  # one character over
        'token4 = "xoxp-572370529330-573807301142-572331691188-####################"',
        "export SERVICE_TOKEN=ops_eyJzaWduSW5BZGRyZXNzIjoiaHR0cHM6...",  # cut short
        '"token3": "xoxp-1234-1234-1234-4ddbc191d40ee098cbaae6f3523ada2d"',  # counting
        "secret_key = 'marketing2024'",  # a word and a year: not generated
    ],
)
def test_when_value_is_filler_elided_or_counting_then_not_found(text: str) -> None:
    for recognizer in (KeywordSecretRecognizer(), KnownTokenRecognizer()):
        assert found(recognizer, text) == []


def test_when_a_backtick_value_holds_spaces_then_it_is_a_command_not_a_secret() -> None:
    from ragseal.classification._secrets import AssignedSecretRecognizer

    assert found(AssignedSecretRecognizer(), "SUMO_SECRET=`etcdctl get /sumo_secret`") == []
    assert found(AssignedSecretRecognizer(), "SUMO_SECRET=`Zq8mK2vX9pL4`") == ["Zq8mK2vX9pL4"]
