"""Token attacks (RFC 8725): each is refused by ``verify`` and yields the same 401.

Every attack is one row: a name and a builder that crafts the token against
a verifier configured in one of three modes (HS256 secret, HS256 secret with
a required issuer, JWKS with RS256/ES256 keys). No test may touch the
network: ``socket.socket.connect`` fails the test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from ragseal.api._auth import (
    MAX_TOKEN_BYTES,
    AuthError,
    CurrentPrincipal,
    TokenVerifier,
    mint_token,
)
from ragseal.api._errors import install_error_handlers
from ragseal.api._settings import ConfigError, Settings
from ragseal.retrieval import Principal

SECRET = "CANARY-hs256-secret-0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0"  # noqa: S105 - test canary
OTHER_SECRET = "another-secret-that-is-long-enough-for-hs256-and-hs512-too-0123456789"  # noqa: S105
ISSUER = "https://idp.acme.example"
UNAUTHORIZED = {"error": {"code": "unauthorized", "message": "missing or invalid bearer token"}}
DROP = object()


# --- keys and token builders ------------------------------------------------


@dataclass(frozen=True)
class Keys:
    rsa_key: rsa.RSAPrivateKey
    rsa_next: rsa.RSAPrivateKey
    ec_key: ec.EllipticCurvePrivateKey
    attacker_rsa: rsa.RSAPrivateKey
    attacker_ec: ec.EllipticCurvePrivateKey


@pytest.fixture(scope="module")
def keys() -> Keys:
    def new_rsa() -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    return Keys(
        rsa_key=new_rsa(),
        rsa_next=new_rsa(),
        ec_key=ec.generate_private_key(ec.SECP256R1()),
        attacker_rsa=new_rsa(),
        attacker_ec=ec.generate_private_key(ec.SECP256R1()),
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any] | str) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return b64(text.encode())


def public_jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        jwk["alg"] = "RS256"
    else:
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
        jwk["alg"] = "ES256"
    return {**jwk, "kid": kid, "use": "sig"}


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class Forge:
    """Builds tokens, valid by default, for one attack at a time."""

    keys: Keys
    now: int

    def claims(self, **changes: object) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "sub": "alice@acme.example",
            "aud": "ragseal",
            "iat": self.now,
            "exp": self.now + 600,
            "tenant": "acme",
            "groups": ["hr", "all-staff"],
            "roles": ["employee"],
        }
        for name, value in changes.items():
            if value is DROP:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def hs(
        self,
        claims: dict[str, Any] | None = None,
        *,
        headers: dict[str, Any] | None = None,
        alg: str = "HS256",
        secret: str = SECRET,
    ) -> str:
        return jwt.encode(
            self.claims() if claims is None else claims, secret, algorithm=alg, headers=headers
        )

    def rs(
        self,
        claims: dict[str, Any] | None = None,
        *,
        kid: str | None = "rsa-1",
        key: rsa.RSAPrivateKey | None = None,
        alg: str = "RS256",
        headers: dict[str, Any] | None = None,
    ) -> str:
        all_headers = {**({"kid": kid} if kid is not None else {}), **(headers or {})}
        return jwt.encode(
            self.claims() if claims is None else claims,
            key or self.keys.rsa_key,
            algorithm=alg,
            headers=all_headers,
        )

    def es(
        self,
        claims: dict[str, Any] | None = None,
        *,
        kid: str = "ec-1",
        key: ec.EllipticCurvePrivateKey | None = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        return jwt.encode(
            self.claims() if claims is None else claims,
            key or self.keys.ec_key,
            algorithm="ES256",
            headers={"kid": kid, **(headers or {})},
        )

    def raw(
        self, header: dict[str, Any] | str, claims: dict[str, Any] | str, signature: str = ""
    ) -> str:
        return f"{segment(header)}.{segment(claims)}.{signature}"

    def hmac(self, header: dict[str, Any] | str, claims: dict[str, Any] | str, key: bytes) -> str:
        signing_input = f"{segment(header)}.{segment(claims)}"
        mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64(mac)}"

    def rsa_raw(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        signing_input = f"{segment(header)}.{segment(claims)}"
        signature = RSAAlgorithm(RSAAlgorithm.SHA256).sign(
            signing_input.encode(), self.keys.rsa_key
        )
        return f"{signing_input}.{b64(signature)}"


def tampered(token: str, **changes: object) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return f"{header}.{segment(claims)}.{signature}"


# --- the attacks ------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    name: str
    reason: str  # the AuthError.reason logged and audited for it
    build: Callable[[Forge], str]
    mode: str = "hs"


def _none(alg: str) -> Callable[[Forge], str]:
    return lambda f: f.raw({"alg": alg, "typ": "JWT"}, f.claims())


ATTACKS = [
    # Algorithm games.
    Attack("alg_none_lowercase", "unsigned", _none("none")),
    Attack("alg_none_capitalized", "unsigned", _none("None")),
    Attack("alg_none_uppercase", "unsigned", _none("NONE")),
    Attack(
        "alg_none_with_a_signature",
        "algorithm",
        lambda f: f.raw({"alg": "none"}, f.claims(), "c2ln"),
    ),
    Attack("alg_none_against_jwks", "unsigned", _none("none"), mode="jwks"),
    Attack(
        "alg_missing", "algorithm", lambda f: f.hmac({"typ": "JWT"}, f.claims(), SECRET.encode())
    ),
    Attack(
        "alg_not_a_string",
        "algorithm",
        lambda f: f.hmac({"alg": ["HS256"]}, f.claims(), SECRET.encode()),
    ),
    Attack("hs512_with_the_right_secret", "algorithm", lambda f: f.hs(alg="HS512")),
    Attack("rs256_token_when_hs_configured", "algorithm", lambda f: f.rs()),
    Attack("es256_token_when_hs_configured", "algorithm", lambda f: f.es()),
    Attack(
        "hs256_signed_with_the_rsa_public_key_pem",
        "algorithm",
        lambda f: f.hmac({"alg": "HS256", "kid": "rsa-1"}, f.claims(), public_pem(f.keys.rsa_key)),
        mode="jwks",
    ),
    Attack(
        "hs256_signed_with_the_rsa_public_jwk",
        "algorithm",
        lambda f: f.hmac(
            {"alg": "HS256", "kid": "rsa-1"},
            f.claims(),
            json.dumps(public_jwk(f.keys.rsa_key, "rsa-1")).encode(),
        ),
        mode="jwks",
    ),
    Attack("ps256_with_a_known_rsa_kid", "algorithm", lambda f: f.rs(alg="PS256"), mode="jwks"),
    Attack("rs256_header_on_the_ec_kid", "algorithm", lambda f: f.rs(kid="ec-1"), mode="jwks"),
    Attack(
        "es256_header_on_the_rsa_kid",
        "algorithm",
        lambda f: f.es(kid="rsa-1"),
        mode="jwks",
    ),
    # Signatures.
    Attack("missing_signature", "unsigned", lambda f: f.hs().rsplit(".", 1)[0] + "."),
    Attack("two_segments", "malformed", lambda f: f.hs().rsplit(".", 1)[0]),
    Attack("four_segments", "malformed", lambda f: f.hs() + ".e30"),
    Attack("bad_signature", "signature", lambda f: f.hs(secret=OTHER_SECRET)),
    Attack("signature_not_base64url", "malformed", lambda f: f.hs().rsplit(".", 1)[0] + ".a+b/c=="),
    Attack(
        "tampered_payload_adds_a_role", "signature", lambda f: tampered(f.hs(), roles=["legal"])
    ),
    Attack(
        "tampered_payload_changes_tenant", "signature", lambda f: tampered(f.hs(), tenant="globex")
    ),
    Attack(
        "tampered_rs256_payload",
        "signature",
        lambda f: tampered(f.rs(), sub="ceo@acme.example"),
        mode="jwks",
    ),
    # Keys.
    Attack("unknown_kid", "kid", lambda f: f.rs(kid="rsa-9", key=f.keys.attacker_rsa), mode="jwks"),
    Attack("missing_kid", "kid", lambda f: f.rs(kid=None), mode="jwks"),
    Attack(
        "kid_not_a_string",
        "kid",
        lambda f: f.rsa_raw({"alg": "RS256", "kid": 1}, f.claims()),
        mode="jwks",
    ),
    Attack(
        "known_kid_signed_by_another_key",
        "signature",
        lambda f: f.rs(key=f.keys.attacker_rsa),
        mode="jwks",
    ),
    Attack(
        "known_ec_kid_signed_by_another_key",
        "signature",
        lambda f: f.es(key=f.keys.attacker_ec),
        mode="jwks",
    ),
    Attack(
        "jku_header_points_to_an_attacker_url",
        "header",
        lambda f: f.rs(
            kid="attacker-1",
            key=f.keys.attacker_rsa,
            headers={"jku": "https://attacker.example/jwks.json"},
        ),
        mode="jwks",
    ),
    Attack(
        "x5u_header_points_to_an_attacker_url",
        "header",
        lambda f: f.rs(
            kid="attacker-1",
            key=f.keys.attacker_rsa,
            headers={"x5u": "https://attacker.example/cert.pem"},
        ),
        mode="jwks",
    ),
    Attack(
        "jku_header_with_a_known_kid",
        "header",
        lambda f: f.rs(headers={"jku": "https://attacker.example/jwks.json"}),
        mode="jwks",
    ),
    Attack(
        "embedded_jwk_header_with_the_attacker_key",
        "header",
        lambda f: f.rs(
            key=f.keys.attacker_rsa, headers={"jwk": public_jwk(f.keys.attacker_rsa, "rsa-1")}
        ),
        mode="jwks",
    ),
    Attack("x5c_header", "header", lambda f: f.rs(headers={"x5c": ["MIIB"]}), mode="jwks"),
    Attack("crit_header", "header", lambda f: f.hs(headers={"crit": ["exp"], "exp": 1})),
    Attack(
        "unencoded_payload_b64_false",
        "header",
        lambda f: f.hmac({"alg": "HS256", "b64": False, "crit": ["b64"]}, f.claims(), b"x"),
    ),
    # Audience, issuer, time.
    Attack("wrong_aud", "audience", lambda f: f.hs(f.claims(aud="other-service"))),
    Attack("missing_aud", "missing_claim", lambda f: f.hs(f.claims(aud=DROP))),
    Attack("aud_list_without_ours", "audience", lambda f: f.hs(f.claims(aud=["billing", "crm"]))),
    Attack("aud_not_a_string", "audience", lambda f: f.hs(f.claims(aud=7))),
    Attack(
        "wrong_iss", "issuer", lambda f: f.hs(f.claims(iss="https://evil.example")), mode="hs_iss"
    ),
    Attack("missing_iss_when_configured", "missing_claim", lambda f: f.hs(), mode="hs_iss"),
    Attack("missing_exp", "missing_claim", lambda f: f.hs(f.claims(exp=DROP))),
    Attack("exp_null", "missing_claim", lambda f: f.hs(f.claims(exp=None))),
    Attack("exp_not_a_number", "invalid", lambda f: f.hs(f.claims(exp="tomorrow"))),
    Attack("expired_an_hour_ago", "expired", lambda f: f.hs(f.claims(exp=f.now - 3600))),
    Attack("expired_beyond_the_leeway", "expired", lambda f: f.hs(f.claims(exp=f.now - 60))),
    Attack("expired_rs256", "expired", lambda f: f.rs(f.claims(exp=f.now - 3600)), mode="jwks"),
    Attack("nbf_in_the_future", "not_yet_valid", lambda f: f.hs(f.claims(nbf=f.now + 3600))),
    Attack("iat_far_in_the_future", "not_yet_valid", lambda f: f.hs(f.claims(iat=f.now + 86400))),
    # Header shape.
    Attack("wrong_typ", "typ", lambda f: f.hs(headers={"typ": "secevent+jwt"})),
    Attack("typ_not_a_string", "typ", lambda f: f.hs(headers={"typ": 1})),
    Attack("header_not_json", "malformed", lambda f: f.raw("not json", f.claims(), "c2ln")),
    Attack(
        "header_json_array", "malformed", lambda f: f.hmac('["HS256"]', f.claims(), SECRET.encode())
    ),
    Attack("header_not_base64", "malformed", lambda f: "!!!." + f.hs().split(".", 1)[1]),
    Attack(
        "header_with_duplicate_alg",
        "malformed",
        lambda f: f.hmac('{"alg":"HS256","alg":"none"}', f.claims(), SECRET.encode()),
    ),
    Attack(
        "payload_not_json",
        "malformed",
        lambda f: f.hmac({"alg": "HS256"}, "sub=alice", SECRET.encode()),
    ),
    Attack(
        "payload_with_duplicate_sub",
        "malformed",
        lambda f: f.hmac(
            {"alg": "HS256"},
            json.dumps(f.claims())[:-1] + ',"sub":"ceo@acme.example"}',
            SECRET.encode(),
        ),
    ),
    Attack(
        "payload_with_nan",
        "malformed",
        lambda f: f.hmac({"alg": "HS256"}, json.dumps(f.claims(exp=float("nan"))), SECRET.encode()),
    ),
    Attack(
        "huge_token_validly_signed",
        "too_large",
        lambda f: f.hs(f.claims(padding="x" * MAX_TOKEN_BYTES)),
    ),
    Attack("empty_token", "missing", lambda f: ""),
    Attack("non_ascii_token", "malformed", lambda f: f.hs() + "é"),
    # Claims.
    Attack("sub_missing", "missing_claim", lambda f: f.hs(f.claims(sub=DROP))),
    Attack("sub_not_a_string", "invalid", lambda f: f.hs(f.claims(sub=12345))),
    Attack("sub_empty", "claims", lambda f: f.hs(f.claims(sub=""))),
    Attack("sub_with_a_newline", "claims", lambda f: f.hs(f.claims(sub="alice\nadmin"))),
    Attack("tenant_not_a_string", "claims", lambda f: f.hs(f.claims(tenant=["acme"]))),
    Attack("tenant_empty", "claims", lambda f: f.hs(f.claims(tenant=""))),
    Attack("tenant_null", "claims", lambda f: f.hs(f.claims(tenant=None))),
    Attack("groups_not_a_list", "claims", lambda f: f.hs(f.claims(groups="hr"))),
    Attack("groups_with_a_number", "claims", lambda f: f.hs(f.claims(groups=["hr", 1]))),
    Attack("groups_with_an_empty_string", "claims", lambda f: f.hs(f.claims(groups=[""]))),
    Attack(
        "groups_too_many", "claims", lambda f: f.hs(f.claims(groups=[f"g{i}" for i in range(257)]))
    ),
    Attack("group_name_too_long", "claims", lambda f: f.hs(f.claims(groups=["g" * 257]))),
    Attack("roles_not_a_list", "claims", lambda f: f.hs(f.claims(roles={"legal": True}))),
    Attack("roles_null", "claims", lambda f: f.hs(f.claims(roles=None))),
]


# --- fixtures ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Any outbound connection or DNS lookup fails the test."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        pytest.fail("token verification tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts
    assert attempts == []


def write_jwks(path: Path, *jwks: dict[str, Any]) -> None:
    """Replace the file atomically, as a key rotation job would."""
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps({"keys": list(jwks)}))
    os.replace(staging, path)


@pytest.fixture
def jwks_path(tmp_path: Path, keys: Keys) -> Path:
    path = tmp_path / "jwks.json"
    write_jwks(path, public_jwk(keys.rsa_key, "rsa-1"), public_jwk(keys.ec_key, "ec-1"))
    return path


@pytest.fixture
def verifiers(jwks_path: Path) -> dict[str, TokenVerifier]:
    return {
        "hs": TokenVerifier(Settings(jwt_secret=SECRET)),
        "hs_iss": TokenVerifier(Settings(jwt_secret=SECRET, jwt_issuer=ISSUER)),
        "jwks": TokenVerifier(Settings(jwt_jwks=jwks_path)),
    }


@pytest.fixture
def forge(keys: Keys) -> Forge:
    return Forge(keys=keys, now=int(time.time()))


def make_client(verifier: TokenVerifier) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.state.verifier = verifier

    @app.get("/me")
    def me(principal: CurrentPrincipal) -> dict[str, object]:
        return {
            "sub": principal.sub,
            "tenant": principal.tenant,
            "groups": list(principal.groups),
            "roles": list(principal.roles),
        }

    return TestClient(app)


def bearer(token: str, scheme: str = "Bearer") -> dict[bytes, bytes]:
    # Bytes, so that a non-ASCII token reaches the server as sent.
    return {b"Authorization": f"{scheme} {token}".encode()}


def assert_uniform_401(response: Any) -> None:
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert response.headers["www-authenticate"] == "Bearer"


# --- attacks: refused by verify and by the dependency ------------------------


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_when_token_is_forged_then_verify_rejects_it(
    attack: Attack, forge: Forge, verifiers: dict[str, TokenVerifier]
) -> None:
    token = attack.build(forge)

    with pytest.raises(AuthError) as raised:
        verifiers[attack.mode].verify(token)

    assert raised.value.reason == attack.reason
    assert raised.value.__cause__ is None
    if token:
        assert token not in str(raised.value)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_when_token_is_forged_then_the_api_answers_the_uniform_401(
    attack: Attack, forge: Forge, verifiers: dict[str, TokenVerifier]
) -> None:
    client = make_client(verifiers[attack.mode])

    response = client.get("/me", headers=bearer(attack.build(forge)))

    assert_uniform_401(response)


def test_the_attack_table_covers_at_least_25_distinct_cases() -> None:
    names = [attack.name for attack in ATTACKS]

    assert len(names) == len(set(names)) >= 25


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no_authorization_header"),
        pytest.param("Bearer", id="bearer_without_token"),
        pytest.param("Bearer    ", id="bearer_with_only_spaces"),
        pytest.param("Basic YWxpY2U6cGFzc3dvcmQ=", id="basic_scheme"),
        pytest.param("{token}", id="token_without_scheme"),
        pytest.param("Token {token}", id="other_scheme_with_a_valid_token"),
        pytest.param("Bearer {token} extra", id="trailing_garbage"),
        pytest.param("Bearer {token}.{token}", id="two_tokens_glued"),
    ],
)
def test_when_authorization_header_is_malformed_then_the_api_answers_the_uniform_401(
    authorization: str | None, forge: Forge, verifiers: dict[str, TokenVerifier]
) -> None:
    client = make_client(verifiers["hs"])
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization.format(token=forge.hs())

    assert_uniform_401(client.get("/me", headers=headers))


def test_when_two_authorization_headers_are_sent_then_the_api_answers_the_uniform_401(
    forge: Forge, verifiers: dict[str, TokenVerifier]
) -> None:
    client = make_client(verifiers["hs"])
    token = forge.hs()

    response = client.get(
        "/me", headers=[("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
    )

    assert_uniform_401(response)


# --- rotation ---------------------------------------------------------------


def test_when_jwks_rotates_then_the_new_kid_is_accepted_and_the_removed_kid_rejected(
    forge: Forge, keys: Keys, jwks_path: Path, verifiers: dict[str, TokenVerifier]
) -> None:
    verifier = verifiers["jwks"]
    client = make_client(verifier)
    old_token = forge.rs(kid="rsa-1")
    new_token = forge.rs(kid="rsa-2", key=keys.rsa_next)
    assert verifier.verify(old_token).sub == "alice@acme.example"
    with pytest.raises(AuthError):
        verifier.verify(new_token)

    write_jwks(jwks_path, public_jwk(keys.rsa_next, "rsa-2"), public_jwk(keys.ec_key, "ec-1"))

    assert verifier.verify(new_token).sub == "alice@acme.example"
    assert client.get("/me", headers=bearer(new_token)).status_code == 200
    with pytest.raises(AuthError):
        verifier.verify(old_token)
    assert_uniform_401(client.get("/me", headers=bearer(old_token)))


def test_when_jwks_file_becomes_invalid_then_every_token_is_rejected_until_it_is_fixed(
    forge: Forge, keys: Keys, jwks_path: Path, verifiers: dict[str, TokenVerifier]
) -> None:
    verifier = verifiers["jwks"]
    token = forge.rs()

    jwks_path.write_text("{ half-written")
    with pytest.raises(AuthError):
        verifier.verify(token)

    jwks_path.unlink()
    with pytest.raises(AuthError):
        verifier.verify(token)

    write_jwks(jwks_path, public_jwk(keys.rsa_key, "rsa-1"))
    assert verifier.verify(token).sub == "alice@acme.example"


# --- valid tokens -----------------------------------------------------------

ALICE = Principal(
    sub="alice@acme.example", tenant="acme", groups=("all-staff", "hr"), roles=("employee",)
)


def test_when_hs256_token_is_valid_then_it_yields_the_principal(
    forge: Forge, verifiers: dict[str, TokenVerifier]
) -> None:
    assert verifiers["hs"].verify(forge.hs()) == ALICE


def test_when_rs256_token_is_valid_then_it_yields_the_principal(
    forge: Forge, verifiers: dict[str, TokenVerifier]
) -> None:
    assert verifiers["jwks"].verify(forge.rs()) == ALICE


def test_when_es256_token_is_valid_then_it_yields_the_principal(
    forge: Forge, verifiers: dict[str, TokenVerifier]
) -> None:
    assert verifiers["jwks"].verify(forge.es()) == ALICE


def test_when_issuer_is_configured_and_matches_then_the_token_is_accepted(
    forge: Forge, verifiers: dict[str, TokenVerifier]
) -> None:
    assert verifiers["hs_iss"].verify(forge.hs(forge.claims(iss=ISSUER))) == ALICE


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"aud": ["crm", "ragseal"]}, id="aud_list_with_ours"),
        pytest.param({"exp": -2}, id="expired_within_the_leeway"),  # leeway 5 s
        pytest.param({"nbf": 2}, id="nbf_within_the_leeway"),
        pytest.param({"iss": "https://any.example"}, id="iss_not_checked_when_unset"),
        pytest.param({"groups": [f"g{i}" for i in range(256)]}, id="256_groups"),
    ],
)
def test_when_claims_are_at_the_edge_of_the_rules_then_the_token_is_accepted(
    changes: dict[str, Any], forge: Forge, verifiers: dict[str, TokenVerifier]
) -> None:
    for name in ("exp", "nbf"):
        if name in changes:
            changes = {**changes, name: forge.now + changes[name]}

    assert verifiers["hs"].verify(forge.hs(forge.claims(**changes))).sub == "alice@acme.example"


@pytest.mark.parametrize(
    "typ", [None, "JWT", "jwt", "at+jwt", "application/at+jwt"], ids=lambda t: f"typ_{t}"
)
def test_when_typ_is_absent_or_a_jwt_type_then_the_token_is_accepted(
    typ: str | None, forge: Forge, verifiers: dict[str, TokenVerifier]
) -> None:
    assert verifiers["hs"].verify(forge.hs(headers={"typ": typ})) == ALICE


def test_when_tenant_groups_and_roles_are_absent_then_defaults_apply(
    forge: Forge, verifiers: dict[str, TokenVerifier]
) -> None:
    token = forge.hs(forge.claims(tenant=DROP, groups=DROP, roles=DROP))

    assert verifiers["hs"].verify(token) == Principal(sub="alice@acme.example")


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_when_scheme_is_bearer_in_any_case_then_the_api_accepts_the_token(
    scheme: str, forge: Forge, verifiers: dict[str, TokenVerifier]
) -> None:
    client = make_client(verifiers["hs"])

    response = client.get("/me", headers=bearer(forge.hs(), scheme))

    assert response.status_code == 200
    assert response.json() == {
        "sub": "alice@acme.example",
        "tenant": "acme",
        "groups": ["all-staff", "hr"],
        "roles": ["employee"],
    }


def test_when_a_token_is_minted_then_the_verifier_with_the_same_settings_accepts_it() -> None:
    settings = Settings(jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience="chatbot")
    token = mint_token(
        settings.jwt_secret or SECRET,
        sub="maria@acme.example",
        tenant="acme",
        groups=["hr", "all-staff", "hr"],
        roles=["hr"],
        ttl=60,
        audience="chatbot",
        issuer=ISSUER,
    )

    assert TokenVerifier(settings).verify(token) == Principal(
        sub="maria@acme.example", tenant="acme", groups=("all-staff", "hr"), roles=("hr",)
    )


def test_when_a_minted_token_has_no_tenant_then_it_speaks_for_the_default_tenant() -> None:
    token = mint_token(SECRET, sub="bob")

    assert TokenVerifier(Settings(jwt_secret=SECRET)).verify(token).tenant == "default"


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"secret": "short"}, id="short_secret"),
        pytest.param({"ttl": 0}, id="zero_ttl"),
        pytest.param({"sub": ""}, id="empty_sub"),
        pytest.param({"tenant": ""}, id="empty_tenant"),
        pytest.param({"groups": ["x" * 257]}, id="group_too_long"),
        pytest.param({"roles": "legal"}, id="roles_as_one_string"),
    ],
)
def test_when_mint_arguments_are_unsafe_then_minting_is_refused(kwargs: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"secret": SECRET, "sub": "bob", **kwargs}
    secret = arguments.pop("secret")

    with pytest.raises(ValueError):
        mint_token(secret, **arguments)


# --- configuration of the verifier ------------------------------------------


def test_when_no_jwt_configuration_is_set_then_the_verifier_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="RAGSEAL_JWT_SECRET or RAGSEAL_JWT_JWKS"):
        TokenVerifier(Settings())


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param(None, "cannot be read", id="missing_file"),
        pytest.param("not json", "not valid JSON", id="not_json"),
        pytest.param('{"keys": {}}', '"keys" list', id="keys_not_a_list"),
        pytest.param('{"keys": []}', "no RS256 or ES256", id="no_keys"),
    ],
)
def test_when_jwks_file_is_unusable_then_the_verifier_refuses_to_start(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "jwks.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(ConfigError, match="RAGSEAL_JWT_JWKS") as raised:
        TokenVerifier(Settings(jwt_jwks=path))

    assert problem in str(raised.value)


def test_when_jwks_holds_a_private_key_then_the_verifier_refuses_to_start(
    tmp_path: Path, keys: Keys
) -> None:
    path = tmp_path / "jwks.json"
    private = json.loads(RSAAlgorithm.to_jwk(keys.rsa_key))
    write_jwks(path, {**private, "kid": "rsa-1"})

    with pytest.raises(ConfigError, match="private") as raised:
        TokenVerifier(Settings(jwt_jwks=path))

    assert private["d"] not in str(raised.value)


def test_when_jwks_has_keys_for_other_uses_then_only_signing_keys_are_trusted(
    tmp_path: Path, keys: Keys, forge: Forge
) -> None:
    path = tmp_path / "jwks.json"
    write_jwks(
        path,
        {**public_jwk(keys.rsa_key, "enc-1"), "use": "enc", "alg": "RSA-OAEP"},
        public_jwk(keys.ec_key, "ec-1"),
    )
    verifier = TokenVerifier(Settings(jwt_jwks=path))

    assert verifier.verify(forge.es()) == ALICE
    with pytest.raises(AuthError):
        verifier.verify(forge.rs(kid="enc-1"))


# --- nothing sensitive leaks ------------------------------------------------


def test_when_tokens_are_rejected_then_no_token_or_secret_reaches_logs_or_errors(
    forge: Forge,
    verifiers: dict[str, TokenVerifier],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = [attack.build(forge) for attack in ATTACKS if attack.mode == "hs"]
    clients = {mode: make_client(verifier) for mode, verifier in verifiers.items()}
    shown: list[str] = []

    for attack, token in zip([a for a in ATTACKS if a.mode == "hs"], tokens, strict=True):
        with pytest.raises(AuthError) as raised:
            verifiers[attack.mode].verify(token)
        shown += [str(raised.value), repr(raised.value)]
        response = clients[attack.mode].get("/me", headers=bearer(token))
        shown.append(response.text)

    text = caplog.text + "".join(shown) + "".join(repr(r.__dict__) for r in caplog.records)
    assert SECRET not in text
    for token in tokens:
        for part in token.split("."):
            if len(part) > 16:
                assert part not in text
    assert "bearer token rejected" in caplog.text


def test_when_a_verifier_is_shown_then_its_key_is_not(verifiers: dict[str, TokenVerifier]) -> None:
    assert SECRET not in repr(verifiers["hs"])
    assert SECRET not in str(verifiers["hs"])
    assert "RS256" in repr(verifiers["jwks"])
