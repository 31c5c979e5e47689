"""The HTTP face of the shared control plane: a database gone mid-flight answers 503.

The rate limiter is the first control-plane read of every authenticated
request; when the database goes away (here: the process's pool closed under
the running app) the request is refused closed with the contract's error
body, and nothing of the URL shows.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from ragseal.api._app import create_app
from ragseal.api._auth import TokenVerifier, mint_token
from ragseal.api._settings import Settings
from ragseal.store.postgres import close_all

SECRET = "control-plane-http-test-secret-" + "y" * 16


def test_when_the_database_goes_away_then_a_request_is_refused_with_503(
        postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET, database_url=postgres_url)
    app = create_app(settings)
    app.state.verifier = TokenVerifier(settings)  # what the lifespan sets; no models here
    close_all()  # the database is gone
    client = TestClient(app, raise_server_exceptions=False)
    token = mint_token(SECRET, sub="u@acme", tenant="acme", groups=["all-staff"],
                       roles=["employee"])
    r = client.post("/v1/retrieve", json={"query": "hello", "top_k": 1},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "control_plane_unavailable"
    assert r.headers["Retry-After"] == "5"
    password = postgres_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert password not in r.text and "127.0.0.1" not in r.text
