"""Configuration: the one place that reads ``RAGSEAL_*`` from the environment.

Build a :class:`Settings` once at the entry point (server lifespan, CLI) and
pass it down to constructors; nothing else reads ``os.environ``. Settings
fail closed: a value that would weaken security (a short JWT secret, an API
key sent over plain http, a malformed master key, a variable set but empty)
stops startup with a message naming the variable, never its value. Secrets
are ``SecretStr`` and never appear in ``repr``/``str``.

Errors::

    ConfigError            the configuration cannot be used; names the variable
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from ragseal.store import decode_master_key

from ragseal import InvalidInputError

__all__ = ["ENV_PREFIX", "TOP_K_LIMIT", "ConfigError", "Settings"]

ENV_PREFIX = "RAGSEAL_"
MIN_JWT_SECRET_BYTES = 32
TOP_K_LIMIT = 50
"""The contract's bound on ``top_k`` (1..50): the request model, ``query -k`` and
``RAGSEAL_MAX_TOP_K`` all read it from here."""
_VALUE_ERROR_PREFIX = "Value error, "


class ConfigError(InvalidInputError, ValueError):
    """The configuration is unusable; the message names the variable and the fix."""


def _env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Every setting ragseal reads, from ``RAGSEAL_*`` variables or keyword arguments.

    Raises:
        ConfigError: a value is invalid or unsafe; the message names the
            variable (``RAGSEAL_...``) and never echoes the value.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
    )

    data_dir: Path = Path(".ragseal")
    policy: Path | None = None
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    collection: str = Field(default="ragseal_chunks", pattern=r"^[A-Za-z0-9_-]{1,255}$")
    jwt_secret: SecretStr | None = None
    jwt_jwks: Path | None = None
    jwt_audience: str = Field(default="ragseal", min_length=1, max_length=256)
    jwt_issuer: str | None = Field(default=None, min_length=1, max_length=1024)
    keyring: Path | None = None
    master_key: SecretStr | None = None
    database_url: SecretStr | None = None
    """``postgresql://...``: the control plane replicas share (docs/CONTROL-PLANE.md);
    unset, keys, policies, freezes and audit stay in the keyring and data folders."""

    # Operational limits.
    retrieval_id_ttl: int = Field(default=900, ge=1, le=7 * 24 * 3600)
    """Seconds a retrieval id stays valid for ``/v1/inspect``."""
    max_body_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    """Largest request body accepted (document uploads included)."""
    max_query_chars: int = Field(default=2000, ge=1, le=100_000)
    """Longest query, in characters: the retrieve request model (and so its OpenAPI
    schema), ``ragseal query`` and the gateway's last user message all read it."""
    max_top_k: int = Field(default=TOP_K_LIMIT, ge=1, le=TOP_K_LIMIT)
    """Cap on ``top_k``; the contract allows 1..50, an operator may lower it."""
    rate_limit_per_minute: int = Field(default=120, ge=0)
    """Requests per principal per minute; 0 turns rate limiting off."""
    request_timeout_seconds: float = Field(default=30.0, ge=0, le=3600)
    """Seconds before a request is answered 503 ``timeout``; 0 disables the deadline."""
    policy_recheck_seconds: float = Field(default=1.0, gt=0, le=4)
    """How often a process checks the tenant policy store for a newer version
    (docs/POLICY.md); at most 4 s, so a change applies everywhere within 5 s."""
    upload_wait_seconds: float = Field(default=20.0, ge=0, le=3600)
    """Seconds an upload's answer waits for its ingest: done by then, 201; else 202 and a
    job to poll (kept under ``request_timeout_seconds``)."""
    ingest_timeout_seconds: float = Field(default=300.0, gt=0, le=86_400)
    """Seconds one uploaded document may take to ingest; past it the work is stopped."""
    max_token_ttl: int = Field(default=24 * 3600, ge=60, le=366 * 24 * 3600)
    """Longest token lifetime accepted: ``exp`` (and ``exp - iat``) at most this far ahead."""
    workers: int | None = Field(default=None, ge=1, le=256)
    """Processes ``ragseal serve`` runs ``/v1/retrieve`` and ``/v1/inspect`` in (api/_cores.py);
    unset: one per core this process may use; 1: all in the server process."""

    # The OpenAI-compatible gateway (api/_gateway.py); off unless upstream_url is set.
    upstream_url: str | None = None
    """Base URL of an OpenAI-compatible server (``.../v1``); enables ``/v1/chat/completions``."""
    upstream_api_key: SecretStr | None = None
    upstream_model: str | None = Field(default=None, min_length=1, max_length=256)
    """Model sent upstream; unset: the caller's ``model``."""
    upstream_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    upstream_max_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    """Largest upstream answer read (body, or the sum of a stream's events)."""
    gateway_top_k: int = Field(default=5, ge=1, le=TOP_K_LIMIT)
    gateway_hold_chars: int = Field(default=64, ge=0, le=4096)
    """Characters a stream holds back so that a finding growing into them is never emitted."""
    jwt_leeway_seconds: int = Field(default=5, ge=0, le=300)
    """Clock skew tolerated on a token's ``exp``/``nbf``/``iat``: an expired token is
    refused this many seconds after its ``exp`` at the latest."""

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(_describe(exc)) from None

    @model_validator(mode="before")
    @classmethod
    def _refuse_empty(cls, data: Any) -> Any:
        # Fail closed: a variable that is set but empty is a mistake, not "unset".
        if isinstance(data, dict):
            empty = sorted(
                _env_name(key)
                for key, value in data.items()
                if isinstance(value, str) and not value.strip()
            )
            if empty:
                verb = "is" if len(empty) == 1 else "are"
                raise ValueError(f"{', '.join(empty)} {verb} set but empty; unset or give a value")
        return data

    @field_validator("jwt_secret")
    @classmethod
    def _strong_jwt_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(
                f"must be at least {MIN_JWT_SECRET_BYTES} bytes; generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return value

    @field_validator("master_key")
    @classmethod
    def _valid_master_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        decode_master_key(value.get_secret_value())  # ValueError names the rule, not the value
        return value

    @field_validator("qdrant_url")
    @classmethod
    def _valid_qdrant_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError:
            raise ValueError("must be an http:// or https:// URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not carry credentials; use RAGSEAL_QDRANT_API_KEY")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.qdrant_api_key is not None:
            if self.qdrant_url is None:
                raise ValueError(
                    "RAGSEAL_QDRANT_API_KEY is set but RAGSEAL_QDRANT_URL is not; "
                    "set the server URL or unset the key"
                )
            parts = urlsplit(self.qdrant_url)
            if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
                raise ValueError(
                    "RAGSEAL_QDRANT_API_KEY would be sent in clear: RAGSEAL_QDRANT_URL "
                    "must use https:// unless the server is on loopback"
                )
        if self.jwt_secret is not None and self.jwt_jwks is not None:
            raise ValueError(
                "RAGSEAL_JWT_SECRET and RAGSEAL_JWT_JWKS are both set; the token "
                "algorithm is pinned by configuration, so set only one"
            )
        return self

    @field_validator("upstream_url")
    @classmethod
    def _valid_upstream_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return cls._valid_qdrant_url(value)  # same rules: http(s), a host, no credentials

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        from ragseal.store import check_database_url

        check_database_url(value.get_secret_value())  # ValueError names the rule, not the URL
        return value

    @model_validator(mode="after")
    def _upstream_consistent(self) -> Settings:
        if self.upstream_api_key is not None:
            if self.upstream_url is None:
                raise ValueError("RAGSEAL_UPSTREAM_API_KEY is set but RAGSEAL_UPSTREAM_URL "
                                 "is not; set the upstream URL or unset the key")
            parts = urlsplit(self.upstream_url)
            if parts.scheme == "http" and not _is_loopback(parts.hostname or ""):
                raise ValueError(
                    "RAGSEAL_UPSTREAM_API_KEY would be sent in clear: RAGSEAL_UPSTREAM_URL "
                    "must use https:// unless the server is on loopback")
        return self

    @property
    def keyring_dir(self) -> Path:
        """Folder of the local key provider: ``keyring`` or ``data_dir/keys``."""
        return self.keyring if self.keyring is not None else self.data_dir / "keys"

    def master_key_bytes(self) -> bytes | None:
        """The decoded master key, or None when it is to be generated."""
        if self.master_key is None:
            return None
        return decode_master_key(self.master_key.get_secret_value())

    def require_jwt(self) -> None:
        """Refuse to serve without a way to verify tokens (no anonymous mode).

        Raises:
            ConfigError: neither ``jwt_secret`` nor ``jwt_jwks`` is set.
        """
        if self.jwt_secret is None and self.jwt_jwks is None:
            raise ConfigError(
                "set RAGSEAL_JWT_SECRET or RAGSEAL_JWT_JWKS: the server verifies "
                "bearer tokens and has no anonymous mode"
            )

    # Probing detection (api/_probing.py, docs/THREATS.md): a principal whose
    # calls look like guessing is throttled (429, growing Retry-After) and an
    # audit record ``probing_suspected`` is written.
    probe_threshold: float = Field(default=20.0, ge=0)
    """Decayed signal score at which a principal is throttled; 0 turns detection off."""
    probe_half_life_seconds: float = Field(default=300.0, gt=0, le=7 * 24 * 3600)
    """Seconds for a principal's probing score to halve."""
    probe_penalty_seconds: float = Field(default=30.0, gt=0, le=24 * 3600)
    """Length of the first throttle; each further strike doubles it."""
    probe_max_penalty_seconds: float = Field(default=3600.0, gt=0, le=7 * 24 * 3600)
    """Cap on one throttle's length."""
    probe_forgive_seconds: float = Field(default=24 * 3600.0, gt=0)
    """Seconds without a strike after which the doubling starts over."""


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        message = str(error["msg"]).removeprefix(_VALUE_ERROR_PREFIX)
        loc = error["loc"]
        if loc:
            lines.append(f"{_env_name(str(loc[0]))}: {message}")
        else:
            lines.append(message)
    return "invalid configuration: " + "; ".join(lines)
