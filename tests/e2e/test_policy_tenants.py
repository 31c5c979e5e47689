"""Two tenants, two stewards: a policy belongs to its tenant.

- a globex steward's PUT, rollback and MFA option leave acme's retrieve,
  reveal and inspect answers byte-identical, and change globex's;
- versions are durable and a second Services (another process's view of the
  same keyring) applies the newest one;
- a tenant whose stored policy cannot be read fails closed (503), the
  other tenant is served;
- levels cannot change (422 with the key path).

Real components: Presidio, MiniLM, AES-GCM, Qdrant Edge on disk, the app.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from ragseal.api._app import create_app
from ragseal.api._container import Services
from ragseal.api._settings import Settings
from ragseal.classification import default_policy
from ragseal.ingest import Acl

from .conftest import JWT_SECRET, bearer

pytestmark = pytest.mark.slow

RECHECK = 0.05
DOC = (
    "Payroll desk notes.\n\n"
    "Maria Gonzalez (maria.gonzalez@{t}.example, phone 415-555-0142) approves payroll "
    "exceptions. Her SSN 536-22-1234 is on file for the tax forms. Visit "
    "https://intranet.{t}.example/payroll for the forms.\n"
)
QUESTION = "Who approves payroll exceptions and what is her SSN?"
ANSWER = ("Maria Gonzalez approves them; SSN 536-22-1234, mail maria.gonzalez@{t}.example, "
          "see ![x](https://evil.example/p.png?d=1)")


def people(tenant: str) -> dict[str, dict[str, object]]:
    return {
        "employee": {"sub": f"emp@{tenant}", "tenant": tenant, "groups": ["staff"],
                     "roles": ["employee"]},
        "hr": {"sub": f"hr@{tenant}", "tenant": tenant, "groups": ["staff"], "roles": ["hr"]},
        "steward": {"sub": f"steward@{tenant}", "tenant": tenant, "groups": ["staff"],
                    "roles": ["steward"]},
    }


@dataclass
class Two:
    settings: Settings
    services: Services
    client: TestClient


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Two]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("tenants"), jwt_secret=JWT_SECRET,
                        policy_recheck_seconds=RECHECK)
    services = Services(settings)
    for tenant in ("acme", "globex"):
        services.ingestor.ingest_text(
            DOC.format(t=tenant), source="payroll.txt",
            acl=Acl(tenant=tenant, groups=("staff",), users=(), level="internal"))
    with TestClient(create_app(settings, services)) as client:
        yield Two(settings, services, client)
    services.close()


def answers(two: Two, tenant: str) -> str:
    """Everything the tenant's employee and HR are shown, as one canonical string."""
    shown: dict[str, object] = {}
    for role in ("employee", "hr"):
        who = people(tenant)[role]
        r = two.client.post("/v1/retrieve", headers=bearer(**who),
                            json={"query": QUESTION, "top_k": 5})
        assert r.status_code == 200, r.text
        shown[f"{role}.retrieve"] = r.json()["chunks"]
        r = two.client.post("/v1/inspect", headers=bearer(**who),
                            json={"answer": ANSWER.format(t=tenant), "retrieval_id": None})
        assert r.status_code == 200, r.text
        shown[f"{role}.inspect"] = r.json()
    return json.dumps(shown, sort_keys=True)


def loose_policy() -> dict[str, object]:
    """A careless steward's policy: everyone reads everything, SSNs are not found."""
    data = default_policy().to_json()
    entities = dict(data["entities"])  # type: ignore[call-overload]
    del entities["US_SSN"]
    data["entities"] = entities
    data["roles"] = {**data["roles"],  # type: ignore[dict-item]
                     "employee": {"clearance": "restricted", "unmask": "all"},
                     "hr": {"clearance": "restricted", "unmask": "all"}}
    data["inspect"] = {"allowed_hosts": ["evil.example"]}
    return data


def put(two: Two, tenant: str, body: object) -> dict[str, object]:
    text = body if isinstance(body, str) else yaml.safe_dump(body)
    r = two.client.put("/v1/policy", content=text.encode(),
                       headers={**bearer(**people(tenant)["steward"]),
                                "content-type": "application/yaml"})
    assert r.status_code == 200, r.text
    answer: dict[str, object] = r.json()
    return answer


def settle(two: Two, tenant: str) -> None:
    """Wait for the background relabel of ``tenant`` to finish (no timing asserted)."""
    for _ in range(600):
        r = two.client.get("/v1/policy", headers=bearer(**people(tenant)["steward"]))
        if not r.json()["relabel"]["running"]:
            return
        time.sleep(0.05)


def test_when_globex_changes_its_policy_then_acme_answers_are_byte_identical(
    two: Two,
) -> None:
    acme_before, globex_before = answers(two, "acme"), answers(two, "globex")

    stored = put(two, "globex", loose_policy())
    settle(two, "globex")

    assert stored["version"] == 1 and stored["previous_version"] == 0
    assert answers(two, "acme") == acme_before
    globex_after = answers(two, "globex")
    assert globex_after != globex_before  # the change did apply, to globex only
    assert "536-22-1234" in globex_after

    r = two.client.post("/v1/policy/rollback", json={"version": 0},
                        headers=bearer(**people("globex")["steward"]))
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    assert r.json()["fingerprint"] == default_policy().fingerprint
    settle(two, "globex")
    assert answers(two, "acme") == acme_before
    assert answers(two, "globex") == globex_before


def test_when_stewards_read_then_each_sees_only_its_tenant(two: Two) -> None:
    acme = two.client.get("/v1/policy", headers=bearer(**people("acme")["steward"])).json()
    assert acme["version"] == 0 and acme["fingerprint"] == default_policy().fingerprint
    r = two.client.get("/v1/policy/versions", headers=bearer(**people("globex")["steward"]))
    listed = r.json()["versions"]
    assert [v["version"] for v in listed][:3] == [0, 1, 2]
    assert listed[1]["author"] == "steward@globex" and listed[1]["created"]
    assert "entities" not in json.dumps(listed)
    acme_listed = two.client.get("/v1/policy/versions",
                                 headers=bearer(**people("acme")["steward"])).json()
    assert [v["version"] for v in acme_listed["versions"]] == [0]
    r = two.client.get("/v1/policy/versions", headers=bearer(**people("acme")["employee"]))
    assert r.status_code == 403


def test_when_a_policy_changes_levels_then_422_with_the_key_path(two: Two) -> None:
    data = default_policy().to_json()
    data["levels"] = ["public", "internal", "confidential", "restricted", "top-secret"]
    r = two.client.put("/v1/policy", content=yaml.safe_dump(data).encode(),
                       headers=bearer(**people("globex")["steward"]))
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith("levels:")
    r = two.client.post("/v1/policy/rollback", json={"version": 99},
                        headers=bearer(**people("globex")["steward"]))
    assert r.status_code == 404


def test_when_the_get_answer_is_put_back_then_it_is_accepted(two: Two) -> None:
    current = two.client.get("/v1/policy", headers=bearer(**people("globex")["steward"])).json()
    again = put(two, "globex", json.dumps(current))
    assert again["fingerprint"] == current["fingerprint"]


def test_when_another_process_pushed_a_version_then_this_one_applies_it(two: Two) -> None:
    other = Services(two.settings)  # another process's view: its own connection
    try:
        before = other.policies.in_force("globex").version
        _prev, new = other.policies.push("globex", yaml.safe_dump(loose_policy()),
                                         author="cli:ops")
        time.sleep(RECHECK * 2)
        assert two.services.policies.in_force("globex").version == new.version > before
        r = two.client.get("/v1/policy", headers=bearer(**people("globex")["steward"]))
        assert r.json()["version"] == new.version
        # A gating change stored elsewhere: this process relabels the tenant too.
        gated = default_policy().to_json()
        gated["entities"] = {**gated["entities"],  # type: ignore[dict-item]
                             "PERSON": {"level": "restricted", "mask": "pseudonym",
                                        "gate": True}}
        _p, third = other.policies.push("globex", json.dumps(gated), author="cli:ops")
        time.sleep(RECHECK * 2)
        assert two.services.policies.in_force("globex").version == third.version
        settle(two, "globex")
        assert two.services.relabels.status("globex").version == third.version
        other.policies.rollback("globex", 0, author="cli:ops")
    finally:
        other.close()
    two.services.policies.in_force("globex")
    settle(two, "globex")


def test_when_mfa_is_required_then_stewards_without_it_get_403(two: Two) -> None:
    data = default_policy().to_json()
    data["admin"] = {"require_mfa": ["steward"]}
    put(two, "globex", data)
    steward = people("globex")["steward"]
    r = two.client.get("/v1/policy", headers=bearer(**steward))
    assert r.status_code == 403 and r.json()["error"]["code"] == "mfa_required"
    r = two.client.get("/v1/policy", headers=bearer(**steward, amr=["pwd", "mfa"]))
    assert r.status_code == 200
    # acme's stewards are not asked for it
    assert two.client.get("/v1/policy",
                          headers=bearer(**people("acme")["steward"])).status_code == 200
    r = two.client.post("/v1/policy/rollback", json={"version": 0},
                        headers=bearer(**steward, amr=["mfa"]))
    assert r.status_code == 200


def test_when_a_tenant_policy_cannot_be_read_then_its_requests_fail_closed(
    two: Two, tmp_path: Path,
) -> None:
    acme_before = answers(two, "acme")
    db = two.settings.keyring_dir / "policies.db"
    with sqlite3.connect(db) as conn:
        head = conn.execute("SELECT MAX(version) FROM policy_versions WHERE tenant='globex'")\
            .fetchone()[0]
        conn.execute("INSERT INTO policy_versions VALUES ('globex', ?, 'x', 'disk', 0, "
                     "'levels: 3')", (head + 1,))
    time.sleep(RECHECK * 2)
    try:
        r = two.client.post("/v1/retrieve", headers=bearer(**people("globex")["employee"]),
                            json={"query": QUESTION})
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "policy_unavailable"
        assert answers(two, "acme") == acme_before
    finally:
        with sqlite3.connect(db) as conn:
            conn.execute("DELETE FROM policy_versions WHERE tenant='globex' AND version=?",
                         (head + 1,))


def test_when_a_policy_is_loosened_then_restored_then_no_chunk_stays_below_its_level(
    two: Two,
) -> None:
    tenant = "initech"
    loose = default_policy().to_json()
    loose["entities"] = {k: v for k, v in loose["entities"].items()  # type: ignore[attr-defined]
                         if k != "US_SSN"}
    put(two, tenant, loose)
    ingestor = {"sub": "bot@initech", "tenant": tenant, "roles": ["ingestor"]}
    r = two.client.post("/v1/documents", headers=bearer(**ingestor),
                        files={"file": ("payroll.txt", DOC.format(t=tenant).encode())},
                        data={"acl": json.dumps({"groups": ["staff"], "level": "internal"})})
    assert r.status_code == 201, r.text
    assert r.json()["level"] == "internal"  # the SSN went unnoticed under the loose policy
    employee = people(tenant)["employee"]
    seen = two.client.post("/v1/retrieve", headers=bearer(**employee),
                           json={"query": QUESTION}).json()
    assert "536-22-1234" in json.dumps(seen)  # the damage a careless steward did

    r = two.client.post("/v1/policy/rollback", json={"version": 0},
                        headers=bearer(**people(tenant)["steward"]))
    assert r.status_code == 200
    settle(two, tenant)

    seen = two.client.post("/v1/retrieve", headers=bearer(**employee),
                           json={"query": QUESTION}).json()
    assert "536-22-1234" not in json.dumps(seen)
    legal = {"sub": "counsel@initech", "tenant": tenant, "groups": ["staff"],
             "roles": ["legal"]}
    chunks = two.client.post("/v1/retrieve", headers=bearer(**legal),
                             json={"query": QUESTION, "top_k": 10}).json()["chunks"]
    with_ssn = [c for c in chunks if "536-22-1234" in c["text"]]
    assert with_ssn and all(c["level"] == "restricted" for c in with_ssn)
    # Each chunk records the version it was labelled under.
    hits = list(two.services.store.scroll(tenant))
    assert hits and all(h.payload.get("policy_version") == 2 for h in hits)
