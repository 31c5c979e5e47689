"""Secret classes added for issue 16's third round, each with a near miss.

Every value here is made up for these tests (drawn with a seeded generator in
each vendor's published shape); none is a live credential and none comes from
another project's test data.
"""

from __future__ import annotations

import pytest
from ragseal.classification._secret_patterns import (
    counts_in_short,
    is_alphabet,
    is_placeholder,
    is_placeholder_word,
)
from ragseal.classification._secrets import (
    AssignedSecretRecognizer,
    KeywordSecretRecognizer,
    KnownTokenRecognizer,
    PasswordRecognizer,
    short_secret_ok,
)
from ragseal.classification._vendor_keywords import VENDOR_KEYWORDS

UUID = "aec14bb9-2c6d-63d1-af38-7bba792094ba"
TEAMS = ("https://contoso.webhook.office.com/webhookb2/56c39c9c-996f-5041-932c-d403d24139ce"
         "@c01c6dcb-86a8-9fe8-0b24-6407671fdab1/IncomingWebhook/0ce499beaafc65979b6227a97255c297"
         "/7da451d0-e0cf-5520-adac-d6ecd21b403c")
TINES = ("https://acme-ops.tines.com/webhook/j8zq5m7uqf8yrefxg0m2bcx3gvp96qlq/"
         "bdoljkymf4h1kzcbvzylb7x1t19iamgs")


def found(recognizer: object, text: str) -> list[str]:
    results = recognizer.analyze(text, recognizer.supported_entities, None)  # type: ignore[attr-defined]
    return sorted(text[r.start : r.end] for r in results if r.score > 0)


# -- vendor formats -----------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "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",
        "sdk-ekf65lau-5uyj-fdq9-pvfj-tezsiiyh4c3l",
        "pcsk_2u3JJ_jVcPPljSIdTPziMkn8JrH6vQKUwbNrV5x5AYUYjPyCLSdU0c6vlcOhpRsIXH6qEzV",
        "rootly_fc5c1f702640db7ba53a1b88aa8a29c1124a32e3d2cdae9f333b92bb5491daf3",
        "pri_f7c1e200673a7ae0ed8b87d681fdadb3",
        "NRII-qU1uyCb82SYN3HEGCmt1VhPUABy11nAq",
        TEAMS,
        TINES,
    ],
)
def test_when_vendor_format_stands_alone_then_found(token: str) -> None:
    assert found(KnownTokenRecognizer(), f"use {token} here") == [token]


def test_when_tableau_pat_secret_then_found() -> None:
    pat = "1fXkmDffvWOHlwl3aDrOop==:onba7Fcp2T5nUEc9KmQzOcOxSDUlPZVM"
    assert found(KnownTokenRecognizer(), f"name ci-token\n{pat}\n") == [pat]


def test_when_zapier_catch_hook_then_found() -> None:
    url = "https://hooks.zapier.com/hooks/catch/8366821/lysitx/"
    assert found(KnownTokenRecognizer(), f"POST to {url} on deploy") == [url[:-1]]


@pytest.mark.parametrize("order", ["sv_first", "sig_first"])
def test_when_azure_sas_query_then_signature_found(order: str) -> None:
    sig = "ZHc37H4NBZter7RM0RZ5%2BemPT0x1NnnjPcFj0yizh%3D"
    query = (f"sv=2024-05-04&ss=b&srt=o&sp=r&se=2027-01-01T00:00:00Z&sig={sig}"
             if order == "sv_first" else f"sig={sig}&sp=r&sv=2024-05-04")
    assert found(KnownTokenRecognizer(),
                 f"https://acct.blob.core.windows.net/c/f.txt?{query}") == [sig]


def test_when_sig_without_a_service_version_then_not_found() -> None:
    text = "https://example.org/a?sig=ZHc37H4NBZter7RM0RZ5%2BemPT0x1NnnjPcFj0yizh%3D"
    assert found(KnownTokenRecognizer(), text) == []


@pytest.mark.parametrize(
    "text",
    [
        "lsv2_pt_" + "a" * 32 + "_" + "b" * 10,  # filler
        "sdk-00000000-0000-0000-0000-000000000000",
        "https://acme.tines.com/webhook/" + "x" * 32 + "/" + "x" * 32,
    ],
)
def test_when_vendor_format_is_a_placeholder_then_not_found(text: str) -> None:
    assert found(KnownTokenRecognizer(), text) == []


# -- a vendor's name as the keyword -------------------------------------------


def test_vendor_keywords_are_names_not_everyday_words() -> None:
    assert {"mattermost", "onesignal", "cloudsmith"} <= VENDOR_KEYWORDS
    assert not {"close", "front", "vault", "monday", "postgres"} & VENDOR_KEYWORDS


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("mattermost: 7hhdj51jmoz2wdwoly329sul6v", "7hhdj51jmoz2wdwoly329sul6v"),
        ("MATTERMOST_BOT=7hhdj51jmoz2wdwoly329sul6v", "7hhdj51jmoz2wdwoly329sul6v"),
        ("cloudsmith 'jxV4kKP7ekF'", "jxV4kKP7ekF"),  # short, quoted
        (f"onesignal: {UUID}", UUID),  # many vendors' keys are UUIDs
        (f'client = OneSignal("{UUID}")', UUID),
    ],
)
def test_when_value_follows_a_vendor_name_then_found(text: str, secret: str) -> None:
    assert found(KeywordSecretRecognizer(), text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        "Jira PROJ-4821 was closed",  # a short value after a vendor needs quotes
        "cloudsmith build 4f9a2c1e",
        ".ui.sidebar~.pusher{transform:translate3d(0,0,0)}",  # a CSS class, a call
        "see api.mattermost.com/v4/7hhdj51jmoz2wdwoly329sul6v",  # a host, not a key's name
        f"onesignal_id: {UUID}",  # an id
    ],
)
def test_when_vendor_name_is_no_key_then_not_found(text: str) -> None:
    assert found(KeywordSecretRecognizer(), text) == []


# -- values after a credential word ------------------------------------------


def test_when_uuid_is_a_url_query_key_then_found() -> None:
    text = f'base_url: "https://api.example.net/v1/user?key={UUID}"'
    assert found(KeywordSecretRecognizer(), text) == [UUID]
    assert found(KeywordSecretRecognizer(), f"https://api.example.net/v1/user?id={UUID}") == []


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("ipinfo token = 'eeb975729fae92'", "eeb975729fae92"),  # short hex, 2.84 bits
        ("api token = 'qLwZrTbKmVxN'", "qLwZrTbKmVxN"),  # letters only, case flips
        ("acme token - 'Zq8rT3vX9pL2mN7k'", "Zq8rT3vX9pL2mN7k"),  # a dash as the separator
        ("service token = 'p7]Kx2{mQ9zR4!wL8vT3'", "p7]Kx2{mQ9zR4!wL8vT3"),  # one quoted literal
        ("api_token = 'rb4nz5xqhwtk'", "rb4nz5xqhwtk"),  # one case, two digits
    ],
)
def test_when_short_value_is_assigned_to_a_token_then_found(text: str, secret: str) -> None:
    assert found(KeywordSecretRecognizer(), text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        "token = 'HelloWorld'",  # CamelCase words
        "token = 'getUserName'",
        "api_key = 'AbCeFG123'",  # near-alphabet and counting
        "secret: ab12cd34ef..[Redacted]",  # cut short
        "token = 'https://example.com/a1b2c3d4e5'",  # a URL
    ],
)
def test_when_short_value_is_no_secret_then_not_found(text: str) -> None:
    assert found(KeywordSecretRecognizer(), text) == []


def test_short_value_rules() -> None:
    assert counts_in_short("AbCeFG123") and not counts_in_short("Zq8rT3vX9pL2")
    assert not short_secret_ok("HelloWorld", quoted=True) and short_secret_ok("qLwZrTbKmVxN", True)
    assert not short_secret_ok("qLwZrTbKmVxN")  # unquoted letters: a variable name


# -- hard-coded credentials in code (detect-secrets' keyword rule) -------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('if ("Tr0ub4dor&3x" == password) {', "Tr0ub4dor&3x"),
        ("if ('Tr0ub4dor&3x' !== db_secret) {", "Tr0ub4dor&3x"),
        ('char secret_key[25] = "Zq8!rT3vX9pL";', "Zq8!rT3vX9pL"),
        ('client_secret = @"Zq8!rT3vX9pL";', "Zq8!rT3vX9pL"),
        ('secret "Zq8!rT3vX9pL";', "Zq8!rT3vX9pL"),
    ],
)
def test_when_literal_meets_a_credential_name_in_code_then_found(text: str, secret: str) -> None:
    assert found(AssignedSecretRecognizer(), text) == [secret]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('password "Tr0ub4dor&3x";', "Tr0ub4dor&3x"),
        ('password = @"Tr0ub4dor&3x";', "Tr0ub4dor&3x"),
        ('char password[16] = "hunter22x";', "hunter22x"),
        ('password = "123456"', "123456"),  # weak, still a password
    ],
)
def test_when_password_literal_in_code_then_found(text: str, secret: str) -> None:
    assert found(PasswordRecognizer(), text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        'if (password == "") {',
        "if (user_password == other_password) {",
        'Enter the password "here" and press OK',  # prose
        'the secret "sauce is" good',
        'password = "my_fake_pass"',  # a documented placeholder
        'password = "examplepw"',
        'if ("changeme" == password) {',
    ],
)
def test_when_no_hard_coded_credential_then_not_found(text: str) -> None:
    assert found(PasswordRecognizer(), text) == []
    assert found(AssignedSecretRecognizer(), text) == []


def test_placeholder_word_is_not_counting() -> None:
    assert is_placeholder_word("somefakevalue") and not is_placeholder_word("123456")


@pytest.mark.parametrize(
    "text",
    [
        'req.Header.Set("API-Key", blitzAppKey)',  # an unquoted camelCase variable
        "billing secret = 'a1b2c9.billingcorp.net'",  # a host name
    ],
)
def test_when_value_is_a_variable_or_a_host_then_not_found(text: str) -> None:
    assert found(KeywordSecretRecognizer(), text) == []


# -- placeholders, narrowed (issue 16, fourth round) ----------------------------
# Right after a key named for a credential, a counting value may be a real,
# weak credential someone chose: it is masked. Filler runs, documentation
# words, an alphabet alone and a vendor's own templates stay clear.

COUNTING_40 = "abcd1234abcd1234abcd1234ABCD1234ABCD1234--__"
COUNTING_HEX = "1234567890abcdef" * 3


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"ibm_cloud_api_key: {COUNTING_40}", COUNTING_40),
        (f'secret_access_key = "{COUNTING_HEX}"', COUNTING_HEX),
        ("softlayer_api_key: " + "abcd1234" * 8, "abcd1234" * 8),
        ("--softlayer-api-key " + "abcd1234" * 8, "abcd1234" * 8),
    ],
)
def test_when_counting_value_is_assigned_to_a_credential_key_then_found(
    text: str, secret: str
) -> None:
    assert found(KeywordSecretRecognizer(), text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        "api_key: AKCxxxxxxxxxxxxxxxxxxxxxxxxxxx",  # an x-fill
        "secret_key = '****************************'",
        "api_key = 'your_api_key_here_please_123'",  # documentation words
        "api_key = abcdefghijklmnopqrstuvwxyz0123",  # an alphabet alone
        "token = 0123456789abcdefghijklmnop",
        "DATABRICKS_TOKEN=dapi123456789012345678a9bc01234defg5",  # the vendor's template
        '"token": "xoxp-1234-1234-1234-4ddbc191d40ee098cbaae6f3523ada2d"',
        "api_key = 'AbCeFG123'",  # short and counting twice: still an example
    ],
)
def test_when_assigned_value_is_surely_no_credential_then_not_found(text: str) -> None:
    assert found(KeywordSecretRecognizer(), text) == []
    assert found(AssignedSecretRecognizer(), text) == []


def test_placeholder_rules_in_and_out_of_an_assignment() -> None:
    assert is_placeholder(COUNTING_HEX) and not is_placeholder(COUNTING_HEX, assigned=True)
    assert is_placeholder("x" * 20, assigned=True) and is_placeholder("changeme", assigned=True)
    assert is_alphabet("abcdefghijklmnop") and is_alphabet("0123456789abcdef")
    assert not is_alphabet("1234567890abcdef") and not is_alphabet("abcd1234")
    assert is_placeholder("xoxp-1234-1234-1234-4ddbc191", assigned=True)  # a vendor's template


def test_when_counting_value_stands_alone_then_not_found() -> None:
    """Without a key, a counting string is documentation (no context says otherwise)."""
    assert found(KeywordSecretRecognizer(), f"the sample value {COUNTING_HEX} here") == []


# -- declarations with a type or a compound operator (issue 16, fourth round) ---


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f'var herokuToken string = "{UUID}"', UUID),  # Go: a type before "="
        (f'$herokuToken .= "{UUID}"', UUID),  # PHP
        ('ACME_TOKEN :::= "658a833a:fda69bea"', "658a833a:fda69bea"),  # Make
        ('ACME_TOKEN ?= "Zq8rT3vX9pL2mN"', "Zq8rT3vX9pL2mN"),
        (f"<herokuToken>\n    {UUID}\n</herokuToken>", UUID),  # a UUID inside the element
    ],
)
def test_when_value_is_declared_with_a_type_or_compound_operator_then_found(
    text: str, secret: str
) -> None:
    assert found(KeywordSecretRecognizer(), text) == [secret]


@pytest.mark.parametrize(
    "text",
    [
        f'var user_id string = "{UUID}"',  # an id
        'var snykToken string = "12345678-ABCD-ABCD-ABCD-1234567890AB"',  # a template
        f"<userId>\n    {UUID}\n</userId>",
    ],
)
def test_when_declared_value_is_an_id_or_template_then_not_found(text: str) -> None:
    assert found(KeywordSecretRecognizer(), text) == []
