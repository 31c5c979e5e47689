"""Token expiry leeway is a setting with a small default (issue 20, item 7)."""

from __future__ import annotations

import time

import jwt
import pytest
from ragseal.api._auth import AuthError, TokenVerifier
from ragseal.api._settings import ConfigError, Settings

SECRET = "leeway-test-secret-" + "q" * 40


def _expired(seconds_ago: int) -> str:
    now = int(time.time())
    claims = {"sub": "emp@acme.example", "aud": "ragseal", "iat": now - 3600,
              "exp": now - seconds_ago}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def test_when_a_token_expired_20_seconds_ago_then_the_default_leeway_refuses_it() -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET))
    with pytest.raises(AuthError):
        verifier.verify(_expired(20))


def test_when_the_operator_sets_a_longer_leeway_then_it_applies() -> None:
    verifier = TokenVerifier(Settings(jwt_secret=SECRET, jwt_leeway_seconds=60))
    assert verifier.verify(_expired(20)).sub == "emp@acme.example"


def test_when_the_leeway_comes_from_the_environment_then_it_is_read_and_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAGSEAL_JWT_LEEWAY_SECONDS", "0")
    assert Settings(jwt_secret=SECRET).jwt_leeway_seconds == 0
    monkeypatch.setenv("RAGSEAL_JWT_LEEWAY_SECONDS", "3600")
    with pytest.raises(ConfigError, match="RAGSEAL_JWT_LEEWAY_SECONDS"):
        Settings(jwt_secret=SECRET)
