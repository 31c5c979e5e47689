"""Under CONTRACT.md's example policy (no secret type listed), secrets in a
document are stored at the highest level, redacted, never served in clear to
an employee, and ``/v1/inspect`` stops an answer that repeats one.

Real components: Presidio, MiniLM, AES-GCM, Qdrant Edge on disk, the app.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from ragseal.api._app import create_app
from ragseal.api._container import Services
from ragseal.api._settings import Settings
from ragseal.classification import parse_policy
from ragseal.ingest import Acl

from ..classification.test_policy_floor import CONTRACT_EXAMPLE
from .conftest import JWT_SECRET, bearer

pytestmark = pytest.mark.slow


def _random(prefix: str, alphabet: str, n: int) -> str:
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


@dataclass
class Runbook:
    client: TestClient
    level: str
    akid: str
    secret_key: str
    ghp: str


@pytest.fixture(scope="module")
def runbook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runbook]:
    akid = _random("AKIA", string.ascii_uppercase + "234567", 16)
    secret_key = _random("", string.ascii_letters + string.digits, 40)
    ghp = _random("ghp_", string.ascii_letters + string.digits, 36)
    text = (
        "Deploy runbook for the billing service.\n\n"
        "Step 1: export the deploy credentials.\n"
        f"aws_access_key_id = {akid}\naws_secret_access_key = {secret_key}\n\n"
        f"Step 2: the release job pushes tags with the token {ghp} and then "
        "restarts the billing workers one by one.\n"
    )
    settings = Settings(data_dir=tmp_path_factory.mktemp("floor"), jwt_secret=JWT_SECRET)
    services = Services(settings, policy=parse_policy(CONTRACT_EXAMPLE))
    result = services.ingestor.ingest_text(
        text, source="runbook.md",
        acl=Acl(tenant="acme", groups=("staff",), users=(), level="internal"))
    with TestClient(create_app(settings, services)) as client:
        yield Runbook(client, result.level, akid, secret_key, ghp)
    services.close()


EMPLOYEE = {"sub": "emp@acme.example", "tenant": "acme", "groups": ["staff"],
            "roles": ["employee"]}
LEGAL = {"sub": "counsel@acme.example", "tenant": "acme", "groups": ["staff"],
         "roles": ["legal"]}


def _retrieve(rb: Runbook, who: dict[str, object]) -> dict[str, object]:
    r = rb.client.post("/v1/retrieve", headers=bearer(**who),
                       json={"query": "deploy credentials release token", "top_k": 10})
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def test_when_a_policy_lists_no_secret_then_the_document_is_stored_at_the_highest_level(
    runbook: Runbook,
) -> None:
    assert runbook.level == "restricted"


def test_when_an_employee_retrieves_then_no_secret_is_served(runbook: Runbook) -> None:
    body = _retrieve(runbook, EMPLOYEE)
    text = str(body)
    for value in (runbook.akid, runbook.secret_key, runbook.ghp):
        assert value not in text


def test_when_the_highest_clearance_retrieves_then_the_secret_chunks_are_restricted(
    runbook: Runbook,
) -> None:
    chunks = _retrieve(runbook, LEGAL)["chunks"]
    assert chunks and all(c["level"] == "restricted" for c in chunks)  # type: ignore[attr-defined, index]
    assert runbook.akid in str(chunks)  # legal may read it: the floor is about who, not if


def test_when_an_answer_repeats_the_aws_key_then_inspect_stops_it(runbook: Runbook) -> None:
    answer = f"Use the key {runbook.akid} with the secret from the vault."
    r = runbook.client.post("/v1/inspect", headers=bearer(**EMPLOYEE),
                            json={"answer": answer, "retrieval_id": None})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] in ("redact", "block")
    assert runbook.akid not in body["answer"]
    assert any(f["type"] == "AWS_ACCESS_KEY" for f in body["findings"])
