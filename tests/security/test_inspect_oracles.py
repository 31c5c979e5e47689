"""The red team's inspect oracles (issue 14, items 1 and 2), replayed.

An employee of the tenant may read a handbook page where the owner's name
is masked, and no HR record at all. Through ``/v1/inspect`` alone it tried:

1. **pseudonym reversal**: "The owner is Daniel Okafor." came back as "The
   owner is <PERSON_8dd3b8>." -- the keyed tag of the corpus, so a list of
   guessed names told which one the masked owner was;
2. **guessing through provenance**: an answer packing thousands of SSN
   candidates after a passage of the HR record came back with
   ``UNREADABLE_PASSAGE`` offsets covering the true one (four calls
   recovered a full SSN), and a salary was confirmed ("98,000" blocked,
   "120,000" allowed).

Each attack runs here as the red team ran it, over the real app (real
classifier, embedder, sealing, Qdrant Edge), and must learn nothing: the
responses for the true value and for a wrong guess are identical (verdict,
answer text, findings with their types, offsets and count).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ragseal.api._app import create_app
from ragseal.api._container import Services
from ragseal.api._settings import Settings
from ragseal.ingest import Acl

from tests.e2e.conftest import JWT_SECRET, bearer

pytestmark = pytest.mark.slow

TENANT = "oracle-lab"
OWNER = "Daniel Okafor"
OWNER_EMAIL = "daniel.okafor@acme.example"
HANDBOOK = (
    "Travel policy of the field service team.\n"
    f"Owner: {OWNER} ({OWNER_EMAIL}).\n"
    "Bookings go through the travel desk at least fourteen days ahead; economy class for "
    "flights under six hours, and hotel rates follow the city table of the finance portal.")
SSN = "523-41-8876"
SALARY = "98,000"
RECORD_PREFIX = "Full legal name Jonas Michael Weber, social security number"
HR_RECORD = (
    "CONFIDENTIAL - HR. Personnel record of the field service organisation.\n"
    f"{RECORD_PREFIX} {SSN}, hired into calibration engineering on the Denver site.\n"
    f"Base salary USD {SALARY} per year, reviewed each spring by the compensation "
    "committee together with the regional operations director.")

EMPLOYEE = bearer(sub="emp@lab.example", tenant=TENANT, groups=["all-staff"],
                  roles=["employee"])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The real app over two documents of one tenant (real ingest)."""
    # No rate limit and no probing throttle: the attacks must fail on their
    # own merits, not because they were slowed (test_probing.py covers that).
    settings = Settings(data_dir=tmp_path_factory.mktemp("oracles"), jwt_secret=JWT_SECRET,
                        rate_limit_per_minute=0, probe_threshold=0,
                        request_timeout_seconds=0)
    services = Services(settings)
    ingestor = services.ingestor
    ingestor.ingest_text(HANDBOOK, source="handbook/travel.txt",
                         acl=Acl(tenant=TENANT, groups=("all-staff",), users=(),
                                 level="internal"))
    ingestor.ingest_text(HR_RECORD, source="hr/weber.txt",
                         acl=Acl(tenant=TENANT, groups=("hr",), users=(), level="confidential"))
    try:
        with TestClient(create_app(settings, services)) as c:
            yield c
    finally:
        services.close()


def _inspect(client: TestClient, answer: str) -> dict[str, Any]:
    r = client.post("/v1/inspect", json={"answer": answer, "retrieval_id": None},
                    headers=EMPLOYEE)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


# -- 1. pseudonym reversal ------------------------------------------------------
def test_when_employee_retrieves_the_handbook_then_the_owner_is_a_pseudonym(
    client: TestClient,
) -> None:
    r = client.post("/v1/retrieve", json={"query": "who owns the travel policy", "top_k": 3},
                    headers=EMPLOYEE)
    assert r.status_code == 200
    texts = [c["text"] for c in r.json()["chunks"] if "Travel policy" in c["text"]]
    assert texts and OWNER not in texts[0]
    assert re.search(r"<PERSON_[0-9a-f]{6}>", texts[0])


@pytest.mark.parametrize(("true", "wrong"), [
    (f"The owner is {OWNER}.", "The owner is Martin Keller."),
    (f"Write to {OWNER_EMAIL} for exceptions.", "Write to martin.keller@acme.example for "
                                                "exceptions."),
])
def test_when_employee_sends_a_guessed_name_then_no_pseudonym_and_same_as_a_wrong_guess(
    client: TestClient, true: str, wrong: str,
) -> None:
    r = client.post("/v1/retrieve", json={"query": "who owns the travel policy", "top_k": 3},
                    headers=EMPLOYEE)
    shown = " ".join(c["text"] for c in r.json()["chunks"])
    corpus_tags = set(re.findall(r"<[A-Z_]+_[0-9a-f]{6}>", shown))
    assert corpus_tags  # the masked owner and e-mail the employee saw

    got, other = _inspect(client, true), _inspect(client, wrong)
    assert not corpus_tags & set(re.findall(r"<[A-Z_]+_[0-9a-f]{6}>", got["answer"]))
    assert got["verdict"] == other["verdict"] == "redact"
    assert got["answer"] == other["answer"]  # "The owner is <PERSON>."
    shape = [(f["type"], f["action"], f["reason"]) for f in got["findings"]]
    assert shape == [(f["type"], f["action"], f["reason"]) for f in other["findings"]]


# -- 2. guessing through provenance ------------------------------------------
def _pack(frame: str, candidates: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """One answer: the record's known wording, then every candidate in
    ``frame`` (``{}`` is the value); and where each value lies."""
    text, spans = RECORD_PREFIX, []
    for c in candidates:
        before, after = frame.split("{}")
        text += " " + before
        spans.append((len(text), len(text) + len(c)))
        text += c + after
    return text, spans


def _confirmed(body: dict[str, Any], spans: list[tuple[int, int]],
               part: tuple[int, int]) -> list[int]:
    """The attacker's reading: candidates whose distinctive ``part`` (the
    digits being guessed) lies inside an UNREADABLE_PASSAGE span -- unless
    every candidate does (then the span says nothing)."""
    hits = [(f["start"], f["end"]) for f in body["findings"]
            if f["type"] == "UNREADABLE_PASSAGE"]
    covered = [i for i, (s, _) in enumerate(spans)
               if any(a <= s + part[0] and s + part[1] <= b for a, b in hits)]
    return covered if len(covered) < len(spans) else []


def _stage(client: TestClient, frame: str, make: Any, true_index: int, n: int, space: int,
           part: tuple[int, int]) -> list[int]:
    """Send ``n`` candidates with the true one, and ``n`` wrong ones laid out
    alike; assert the two responses are identical; return what the attacker
    reads off the first."""
    first = (true_index // n) * n
    with_true = [make(first + i) for i in range(n)]
    wrong = [make((first + n + i) % space) for i in range(n)]
    assert make(true_index) in with_true and make(true_index) not in wrong
    a_text, a_spans = _pack(frame, with_true)
    b_text, b_spans = _pack(frame, wrong)
    assert len(a_text) == len(b_text) and a_spans == b_spans
    a, b = _inspect(client, a_text), _inspect(client, b_text)
    learned = _confirmed(a, a_spans, part)
    assert a == b, f"the response tells the true value from a wrong guess (read: {learned})"
    return learned


def test_when_employee_packs_ssn_candidates_after_the_record_then_it_learns_nothing(
    client: TestClient,
) -> None:
    """The red team's calls: the area (1,000 candidates), the group (100),
    the serial (two calls of 5,000; here 1,000 around the true one and 1,000
    others, to keep the shared test machine's time down: the packing and the
    reading are the same)."""
    area, group, serial = SSN.split("-")
    learned = [
        _stage(client, "security number {};", lambda i: f"{i:03d}-xx-xxxx", int(area),
               1000 // 2, 1000, (0, 3)),
        _stage(client, "security number {};", lambda i: f"{area}-{i:02d}-xxxx", int(group),
               100 // 2, 100, (4, 6)),
        _stage(client, "{}", lambda i: f"{area}-{group}-{i:04d}", int(serial),
               1000, 10000, (7, 11)),
    ]
    assert learned == [[], [], []]


def test_when_employee_bisects_with_offsets_then_it_never_narrows_down(
    client: TestClient,
) -> None:
    """Binary search over the serial: keep the half whose provenance span
    covers a candidate's last four digits. With values as wildcards and the
    finding over the whole answer, both halves always look alike."""
    area, group, _ = SSN.split("-")
    candidates = [f"{area}-{group}-{i:04d}" for i in range(8848, 8848 + 64)]
    lo, hi = 0, len(candidates)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        left, left_spans = _pack("{}", candidates[lo:mid])
        right, right_spans = _pack("{}", candidates[mid:hi])
        a, b = _inspect(client, left), _inspect(client, right)
        in_left = bool(_confirmed(a, left_spans, (7, 11)))
        in_right = bool(_confirmed(b, right_spans, (7, 11)))
        assert a["verdict"] == b["verdict"]
        if in_left == in_right:
            break  # nothing tells the halves apart
        lo, hi = (lo, mid) if in_left else (mid, hi)
    assert (lo, hi) == (0, len(candidates)), f"narrowed down to {candidates[lo:hi]}"


@pytest.mark.parametrize("template", [
    "Base salary USD {} per year.",
    "Jonas Michael Weber: base salary USD {} per year.",
])
def test_when_employee_tries_salaries_then_the_true_one_is_not_confirmed(
    client: TestClient, template: str,
) -> None:
    true = _inspect(client, template.format(SALARY))
    for guess in ("12,000", "54,500", "97,999", "98,001"):  # as long as the true one
        assert _inspect(client, template.format(guess)) == true, guess


def test_when_employee_copies_the_record_wording_then_provenance_still_blocks(
    client: TestClient,
) -> None:
    """The protection stays: copying the unreadable record's wording is caught."""
    copied = ("Base salary per year is reviewed each spring by the compensation committee "
              "together with the regional operations director, after hiring into "
              "calibration engineering on the Denver site.")
    body = _inspect(client, copied)
    assert body["verdict"] == "block"
    assert body["findings"] == [{"type": "UNREADABLE_PASSAGE", "start": 0,
                                 "end": len(copied), "action": "block",
                                 "reason": "provenance"}]


# -- 3. retrieve: scores and ordering for names the principal may not see ------
@pytest.mark.parametrize("wrong", ["Martin Keller", "Aisha Patel"])
def test_when_employee_queries_a_masked_name_then_scores_equal_those_of_a_wrong_name(
    client: TestClient, wrong: str,
) -> None:
    def ranking(name: str) -> list[tuple[str, float]]:
        r = client.post("/v1/retrieve", json={"query": f"travel policy owned by {name}",
                                              "top_k": 5}, headers=EMPLOYEE)
        assert r.status_code == 200
        return [(c["chunk_id"], c["score"]) for c in r.json()["chunks"]]

    assert ranking(OWNER) == ranking(wrong)
