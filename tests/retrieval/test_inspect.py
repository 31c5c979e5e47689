"""The inspector on real parts: Presidio classifier, Qdrant Edge, keyed fingerprints.

Stored points here carry labels and fingerprints only (provenance needs no
ciphertext); the end-to-end tests cover the full path with sealed chunks.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ragseal.classification import Classifier, Policy, Pseudonymizer, default_policy
from ragseal.retrieval import Inspector, Principal, RetrievalIdError, RetrievalIds
from ragseal.retrieval._inspect import BLOCKED_NOTICE
from ragseal.store import EdgeStore, Fingerprinter, Point

POLICY = default_policy()
FP = Fingerprinter(b"f" * 32)
PSEUDONYMS = Pseudonymizer(b"p" * 32)
IDS = RetrievalIds(b"r" * 32, ttl_seconds=60)

EMPLOYEE = Principal("emp@acme.example", "acme", ("all-staff",), ("employee",))
HR = Principal("hrp@acme.example", "acme", ("all-staff", "hr"), ("hr",))
COUNSEL = Principal("counsel@acme.example", "acme", ("all-staff", "legal"), ("legal",))

RESTRICTED = ("The settlement discussions with the former distributor concluded that the "
              "indemnity clause exposes the company to roughly four million in damages, and "
              "outside counsel recommends accepting the mediator's proposal before the "
              "arbitration hearing scheduled for the spring.")
HANDBOOK = ("Expense reports are submitted through the finance portal within thirty days; "
            "receipts above fifty euros must be scanned and attached to each claim.")
BOILERPLATE = "Acme Robotics quarterly operations review for the northern region."


def _point(n: int, text: str, level: int, groups: list[str], tenant: str = "acme") -> Point:
    return Point(str(uuid.UUID(int=n, version=4)), [1.0, 0.0, 0.0, 0.0], {
        "tenant": tenant, "doc_id": f"d{n}", "chunk_id": str(uuid.UUID(int=n, version=4)),
        "level": level, "groups": groups, "users": [], "sealed": "x",
        "fp": FP.fingerprints(tenant, text)})


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    c = Classifier(POLICY)
    c.warm_up()
    return c


@pytest.fixture(scope="module")
def inspector(classifier: Classifier, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[Inspector]:
    store = EdgeStore(Path(tmp_path_factory.mktemp("inspect")) / "edge", dim=4)
    store.upsert([
        _point(1, RESTRICTED + " " + BOILERPLATE, 3, ["legal"]),
        _point(2, HANDBOOK + " " + BOILERPLATE, 1, ["all-staff"]),
        _point(3, HANDBOOK, 1, ["all-staff"], tenant="globex"),
        Point(str(uuid.UUID(int=4, version=4)), [0.0, 1.0, 0.0, 0.0], {
            "tenant": "acme", "doc_id": "d4", "chunk_id": str(uuid.UUID(int=4, version=4)),
            "level": 2, "groups": ["hr"], "users": [], "sealed": "x",
            "tags": [PSEUDONYMS.search_tag("acme", "PERSON", "Ingrid Raman")]}),
    ])
    policy: Policy = POLICY
    yield Inspector(policy=lambda: policy, classifier=classifier, pseudonyms=PSEUDONYMS,
                    retrieval_ids=IDS, store=store, fingerprints=FP)
    store.close()


def test_when_employee_quotes_a_restricted_chunk_then_block_over_the_whole_answer(
    inspector: Inspector,
) -> None:
    passage = RESTRICTED[RESTRICTED.index("the indemnity") : RESTRICTED.index(", and outside")]
    answer = f"Here is what I found: {passage}. Let me know if you need more."
    result = inspector.inspect(EMPLOYEE, answer, None)
    assert result.verdict == "block" and result.answer == BLOCKED_NOTICE
    (f,) = [f for f in result.findings if f.reason == "provenance"]
    assert (f.type, f.action) == ("UNREADABLE_PASSAGE", "block")
    # No offsets of the matched passage: they would let a guesser bisect (issue 14).
    assert (f.start, f.end) == (0, len(answer))


def test_when_a_reader_of_the_chunk_quotes_it_then_allow(inspector: Inspector) -> None:
    result = inspector.inspect(COUNSEL, f"Summary: {RESTRICTED}", None)
    assert result.verdict == "allow" and result.findings == ()
    assert result.answer == f"Summary: {RESTRICTED}"


def test_when_a_passage_is_lightly_paraphrased_then_still_block(inspector: Inspector) -> None:
    variant = ("Talks on settlement with the ex-distributor concluded the indemnity clauses "
               "expose our company to about four million of damages; outside counsel "
               "recommended we accept the mediator's proposals.")
    result = inspector.inspect(EMPLOYEE, variant, None)
    assert result.verdict == "block"
    assert {f.type for f in result.findings} == {"UNREADABLE_PASSAGE"}


def test_when_text_is_shared_with_a_readable_chunk_then_it_is_not_provenance(
    inspector: Inspector,
) -> None:
    result = inspector.inspect(EMPLOYEE, f"{BOILERPLATE} {HANDBOOK}", None)
    assert result.verdict == "allow", result.findings


def test_when_another_tenant_has_the_passage_then_it_does_not_count(
    classifier: Classifier, inspector: Inspector,
) -> None:
    globex = Principal("x@globex.example", "globex", ("nobody",), ("employee",))
    assert inspector.inspect(globex, RESTRICTED, None).verdict == "allow"


def test_when_an_entity_is_above_clearance_then_redact_at_its_offsets(
    inspector: Inspector,
) -> None:
    answer = "For payroll questions write to maria.gonzalez@acme.example today."
    result = inspector.inspect(EMPLOYEE, answer, None)
    assert result.verdict == "redact"
    (f,) = result.findings
    assert (f.type, f.action, f.reason) == ("EMAIL_ADDRESS", "redact", "above_clearance")
    assert answer[f.start : f.end] == "maria.gonzalez@acme.example"
    # The bare type, never the corpus pseudonym (issue 14: it links a guess).
    assert result.answer == "For payroll questions write to <EMAIL_ADDRESS> today."
    assert inspector.inspect(HR, answer, None).verdict == "allow"


def test_when_a_secret_is_in_the_answer_then_block_whatever_the_clearance(
    inspector: Inspector,
) -> None:
    answer = "The deploy user is AKIAQ3EGRJ5KZXMBT7WN and password: hunter22x"
    for who in (EMPLOYEE, COUNSEL):
        result = inspector.inspect(who, answer, None)
        assert result.verdict == "block" and result.answer == BLOCKED_NOTICE
        types = {(f.type, answer[f.start : f.end]) for f in result.findings}
        assert ("AWS_ACCESS_KEY", "AKIAQ3EGRJ5KZXMBT7WN") in types


def test_when_pseudonyms_of_the_retrieval_come_back_then_reidentified_only_if_entitled(
    inspector: Inspector,
) -> None:
    tag = PSEUDONYMS.tag("acme", "PERSON", "Maria Gonzalez")
    other = PSEUDONYMS.tag("acme", "PERSON", "Jonas Weber")
    answer = f"The change was approved by {tag}; {other} was informed."
    rid = IDS.issue(HR, ["c1"], {tag: "Maria Gonzalez"})
    result = inspector.inspect(HR, answer, rid)
    assert result.verdict == "allow" and result.reidentified == 1
    assert result.answer == f"The change was approved by Maria Gonzalez; {other} was informed."
    # An employee may not read PERSON: the pseudonym stays, whatever the id says.
    rid = IDS.issue(EMPLOYEE, ["c1"], {tag: "Maria Gonzalez"})
    result = inspector.inspect(EMPLOYEE, answer, rid)
    assert result.answer == answer and result.reidentified == 0


def test_when_an_exfiltration_link_is_in_the_answer_then_redacted_and_the_rest_kept(
    inspector: Inspector,
) -> None:
    answer = "Expenses go through the portal ([form](https://evil.example/?q=x)) in 30 days."
    result = inspector.inspect(EMPLOYEE, answer, None)
    assert result.verdict == "redact"
    (f,) = result.findings
    assert (f.type, f.reason) == ("MARKDOWN_LINK", "exfiltration")
    assert result.answer == "Expenses go through the portal (<MARKDOWN_LINK>) in 30 days."


def test_when_an_image_points_off_the_allow_list_then_block(inspector: Inspector) -> None:
    result = inspector.inspect(COUNSEL, "Done. ![x](https://evil.example/t.png?d=1)", None)
    assert result.verdict == "block"


@pytest.mark.parametrize("make", [
    lambda: IDS.issue(HR, ["c1"]),  # another principal's
    lambda: RetrievalIds(b"r" * 32, ttl_seconds=-1).issue(EMPLOYEE, ["c1"]),  # expired
    lambda: IDS.issue(EMPLOYEE, ["c1"])[:-2] + "AA",  # altered
])
def test_when_the_retrieval_id_is_foreign_expired_or_altered_then_rejected(
    inspector: Inspector, make: object
) -> None:
    with pytest.raises(RetrievalIdError):
        inspector.inspect(EMPLOYEE, "fine answer", make())  # type: ignore[operator]


def test_when_a_name_the_tenant_holds_is_in_the_answer_then_only_the_audit_count_tells(
    classifier: Classifier, inspector: Inspector,
) -> None:
    answer = "The payroll change was approved by Ingrid Raman on Monday."
    result = inspector.inspect(EMPLOYEE, answer, None)
    assert result.verdict == "redact"
    (f,) = result.findings
    assert (f.type, answer[f.start : f.end]) == ("PERSON", "Ingrid Raman")
    assert result.answer == "The payroll change was approved by <PERSON> on Monday."
    assert inspector.inspect(HR, answer, None).verdict == "allow"
    # A name no chunk of the tenant carries gets the same response: knowing the
    # tenant holds a name never changes what the principal is told.
    unknown = "The payroll change was approved by Ingrid Mensah on Monday."
    other = inspector.inspect(EMPLOYEE, unknown, None)
    assert (other.verdict, other.answer) == (result.verdict, result.answer)
    assert [(f.type, f.action, f.reason) for f in other.findings] == [
        (f.type, f.action, f.reason) for f in result.findings]
    assert (result.known_values, other.known_values) == (1, 0)  # the audit trail's count
