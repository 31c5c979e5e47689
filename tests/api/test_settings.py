"""Settings: environment in, validated frozen values out, fail closed, no secret shown."""

from __future__ import annotations

import base64
from pathlib import Path

import pydantic
import pytest
from ragseal.api._settings import ConfigError, Settings

CANARY = "CANARY-7f3e9b1c-do-not-leak-this-secret-value-anywhere"
STRONG_SECRET = "s" * 32


def test_when_nothing_is_set_then_defaults_follow_the_contract(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RAGSEAL_DATA_DIR")

    settings = Settings()

    assert settings.data_dir == Path(".ragseal")
    assert settings.keyring_dir == Path(".ragseal") / "keys"
    assert settings.policy is None
    assert settings.qdrant_url is None
    assert settings.qdrant_api_key is None
    assert settings.collection == "ragseal_chunks"
    assert settings.jwt_secret is None
    assert settings.jwt_jwks is None
    assert settings.jwt_audience == "ragseal"
    assert settings.jwt_issuer is None
    assert settings.master_key is None
    assert settings.master_key_bytes() is None
    assert settings.retrieval_id_ttl == 900
    assert settings.max_query_chars == 2000
    assert settings.max_top_k == 50
    assert settings.max_body_bytes > 0
    assert settings.rate_limit_per_minute >= 0


def test_when_variables_are_set_then_they_are_read_with_the_ragseal_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RAGSEAL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAGSEAL_POLICY", str(tmp_path / "policy.yaml"))
    monkeypatch.setenv("RAGSEAL_COLLECTION", "acme_chunks")
    monkeypatch.setenv("RAGSEAL_JWT_SECRET", STRONG_SECRET)
    monkeypatch.setenv("RAGSEAL_JWT_AUDIENCE", "chatbot")
    monkeypatch.setenv("RAGSEAL_JWT_ISSUER", "https://idp.example")
    monkeypatch.setenv("RAGSEAL_RETRIEVAL_ID_TTL", "60")
    monkeypatch.setenv("RAGSEAL_MAX_TOP_K", "10")

    settings = Settings()

    assert settings.data_dir == tmp_path / "data"
    assert settings.policy == tmp_path / "policy.yaml"
    assert settings.collection == "acme_chunks"
    assert settings.jwt_secret is not None
    assert settings.jwt_secret.get_secret_value() == STRONG_SECRET
    assert settings.jwt_audience == "chatbot"
    assert settings.jwt_issuer == "https://idp.example"
    assert settings.retrieval_id_ttl == 60
    assert settings.max_top_k == 10


def test_when_data_dir_is_isolated_by_the_suite_then_settings_use_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data_dir = Settings().data_dir

    assert data_dir.is_absolute()
    assert data_dir.is_relative_to(tmp_path_factory.getbasetemp())


def test_when_keyring_is_unset_then_it_lives_under_the_data_dir(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).keyring_dir == tmp_path / "keys"


def test_when_keyring_is_set_then_it_is_kept_apart_from_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", keyring=tmp_path / "vault")

    assert settings.keyring_dir == tmp_path / "vault"


def test_when_settings_are_built_then_they_cannot_be_changed() -> None:
    settings = Settings()

    with pytest.raises(pydantic.ValidationError):
        settings.collection = "other"


def test_when_an_unknown_setting_is_passed_then_it_is_refused() -> None:
    with pytest.raises(ConfigError, match="RAGSEAL_JWT_SECRETT"):
        Settings(jwt_secrett=STRONG_SECRET)


def test_when_a_config_error_is_raised_then_it_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


# --- JWT secret -------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("x" * 31, id="31-bytes"),
        pytest.param("short", id="short"),
    ],
)
def test_when_jwt_secret_is_empty_or_short_then_startup_is_refused(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("RAGSEAL_JWT_SECRET", secret)

    with pytest.raises(ConfigError, match="RAGSEAL_JWT_SECRET"):
        Settings()


def test_when_jwt_secret_has_32_bytes_then_it_is_accepted() -> None:
    assert Settings(jwt_secret="é" * 16).jwt_secret is not None  # 16 chars, 32 bytes


def test_when_neither_secret_nor_jwks_is_set_then_require_jwt_refuses() -> None:
    with pytest.raises(ConfigError, match="RAGSEAL_JWT_SECRET or RAGSEAL_JWT_JWKS"):
        Settings().require_jwt()


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"jwt_secret": STRONG_SECRET}, id="secret"),
        pytest.param({"jwt_jwks": Path("jwks.json")}, id="jwks"),
    ],
)
def test_when_secret_or_jwks_is_set_then_require_jwt_passes(values: dict[str, object]) -> None:
    Settings(**values).require_jwt()


def test_when_both_secret_and_jwks_are_set_then_startup_is_refused() -> None:
    with pytest.raises(ConfigError, match="RAGSEAL_JWT_SECRET and RAGSEAL_JWT_JWKS"):
        Settings(jwt_secret=STRONG_SECRET, jwt_jwks=Path("jwks.json"))


@pytest.mark.parametrize("name", ["RAGSEAL_JWT_JWKS", "RAGSEAL_POLICY", "RAGSEAL_QDRANT_URL"])
def test_when_a_variable_is_set_but_empty_then_startup_is_refused(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "")

    with pytest.raises(ConfigError, match=name):
        Settings()


# --- Qdrant -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://qdrant.internal:6333",
        "http://10.0.0.5:6333",
        "http://localhost.attacker.example:6333",
    ],
)
def test_when_api_key_would_travel_over_plain_http_then_startup_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="RAGSEAL_QDRANT_API_KEY"):
        Settings(qdrant_url=url, qdrant_api_key=CANARY)


@pytest.mark.parametrize(
    "url",
    [
        "https://qdrant.example:6333",
        "http://localhost:6333",
        "http://127.0.0.1:6333",
        "http://127.8.9.1:6333",
        "http://[::1]:6333",
    ],
)
def test_when_api_key_goes_over_https_or_loopback_then_it_is_accepted(url: str) -> None:
    settings = Settings(qdrant_url=url, qdrant_api_key=CANARY)

    assert settings.qdrant_api_key is not None


def test_when_api_key_is_set_without_a_url_then_startup_is_refused() -> None:
    with pytest.raises(ConfigError, match="RAGSEAL_QDRANT_URL"):
        Settings(qdrant_api_key=CANARY)


def test_when_url_is_plain_http_without_api_key_then_it_is_accepted() -> None:
    assert Settings(qdrant_url="http://qdrant.internal:6333").qdrant_url is not None


@pytest.mark.parametrize(
    "url", ["qdrant:6333", "ftp://qdrant.example", "https://", "http://host:notaport"]
)
def test_when_qdrant_url_is_not_http_then_startup_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="RAGSEAL_QDRANT_URL"):
        Settings(qdrant_url=url)


def test_when_qdrant_url_carries_credentials_then_it_is_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigError, match="RAGSEAL_QDRANT_URL") as raised:
        Settings(qdrant_url=f"https://admin:{CANARY}@qdrant.example")

    assert CANARY not in str(raised.value)


@pytest.mark.parametrize("name", ["bad name", "a/b", "x" * 256])
def test_when_collection_name_is_unsafe_then_startup_is_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="RAGSEAL_COLLECTION"):
        Settings(collection=name)


# --- master key -------------------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [base64.b64encode, base64.urlsafe_b64encode],
    ids=["standard", "urlsafe"],
)
def test_when_master_key_is_base64_of_32_bytes_then_it_is_decoded(encode: object) -> None:
    raw = bytes(range(200, 232))
    encoded = encode(raw).decode()  # type: ignore[operator]

    assert Settings(master_key=encoded).master_key_bytes() == raw


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(base64.b64encode(b"k" * 16).decode(), id="16-bytes"),
        pytest.param(base64.b64encode(b"k" * 33).decode(), id="33-bytes"),
        pytest.param("not base64 at all!", id="not-base64"),
        pytest.param("k" * 32, id="raw-32-chars"),
        pytest.param(CANARY, id="canary"),
    ],
)
def test_when_master_key_is_not_base64_of_32_bytes_then_startup_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("RAGSEAL_MASTER_KEY", value)

    with pytest.raises(ConfigError, match="RAGSEAL_MASTER_KEY") as raised:
        Settings()

    assert value not in str(raised.value)


# --- operational limits -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RAGSEAL_RETRIEVAL_ID_TTL", "0"),
        ("RAGSEAL_MAX_TOP_K", "51"),
        ("RAGSEAL_MAX_TOP_K", "0"),
        ("RAGSEAL_MAX_QUERY_CHARS", "-1"),
        ("RAGSEAL_MAX_BODY_BYTES", "ten"),
        ("RAGSEAL_RATE_LIMIT_PER_MINUTE", "-5"),
    ],
)
def test_when_a_limit_is_out_of_range_then_startup_is_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError, match=name):
        Settings()


# --- secrets never shown ----------------------------------------------------


def test_when_settings_hold_secrets_then_repr_str_and_dumps_hide_them() -> None:
    settings = Settings(
        jwt_secret=CANARY,
        qdrant_url="https://qdrant.example",
        qdrant_api_key=CANARY,
        master_key=base64.b64encode(CANARY.encode()[:32]).decode(),
    )
    master = base64.b64encode(CANARY.encode()[:32]).decode()

    shown = [repr(settings), str(settings), settings.model_dump_json(), repr(settings.model_dump())]

    for text in shown:
        assert CANARY not in text
        assert master not in text


def test_when_a_secret_is_refused_then_the_error_does_not_echo_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    short_canary = CANARY[:20]
    monkeypatch.setenv("RAGSEAL_JWT_SECRET", short_canary)
    caplog.set_level("DEBUG")

    with pytest.raises(ConfigError) as raised:
        Settings()

    assert short_canary not in str(raised.value)
    assert short_canary not in repr(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__
    assert short_canary not in caplog.text
