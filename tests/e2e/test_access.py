"""Who reaches which sample document, and which spans come back in clear."""

from __future__ import annotations

import random

import pytest
from ragseal.retrieval import Principal, access_filter

from .conftest import SAMPLES, World

ACME = sorted(
    p.relative_to(SAMPLES / "corpus").as_posix()
    for p in (SAMPLES / "corpus").rglob("*") if p.is_file() and p.name != "acl.yaml"
)
GLOBEX = sorted(
    p.relative_to(SAMPLES / "other-tenant").as_posix()
    for p in (SAMPLES / "other-tenant").rglob("*") if p.is_file() and p.name != "acl.yaml"
)


def _under(*prefixes: str) -> set[str]:
    return {s for s in ACME if s.startswith(prefixes)}


EVERYONE = _under("public/", "handbook/", "support/")

PRINCIPALS: dict[str, tuple[Principal, set[str], set[str]]] = {
    # name: (principal, acme documents reachable, globex documents reachable)
    "employee": (Principal("emp@acme.example", "acme", ("all-staff",), ("employee",)),
                 EVERYONE, set()),
    "finance": (Principal("fin@acme.example", "acme", ("all-staff", "finance"), ("finance",)),
                EVERYONE | _under("finance/"), set()),
    "legal": (Principal("counsel@acme.example", "acme", ("all-staff", "legal"), ("legal",)),
              EVERYONE | _under("legal/"), set()),
    "ceo_by_name": (Principal("ceo@acme.example", "acme", (), ("executive",)),
                    _under("board/"), set()),
    "engineer": (Principal("dev@acme.example", "acme", ("all-staff", "engineering"),
                           ("employee",)),
                 EVERYONE | {"engineering/postmortem-2026-08-14-fleetview-db.txt"}, set()),
    "nobody": (Principal("guest@acme.example", "acme"), set(), set()),
    "globex_staff": (Principal("emp@globex.example", "globex", ("all-staff",), ("employee",)),
                     set(), {"handbook/travel-and-expense-policy.md"}),
    "globex_with_acme_groups": (Principal("x@globex.example", "globex",
                                          ("all-staff", "hr", "finance", "legal", "executives"),
                                          ("legal",)),
                                set(), set(GLOBEX)),
}


def _reachable(world: World, principal: Principal) -> tuple[set[str], set[str]]:
    """Documents the engine lets ``principal`` reach: every visible point, found by
    filtered searches with a limit above the collection size."""
    services = world.services
    access = access_filter(principal, services.policy)
    rng = random.Random(3)
    doc_ids: set[str] = set()
    for _ in range(3):
        vector = [rng.gauss(0, 1) for _ in range(384)]
        doc_ids |= {str(h.payload["doc_id"]) for h in services.store.search(vector, access, 5000)}
    acme = {s for s in ACME if world.doc_id("acme", s) in doc_ids}
    globex = {s for s in GLOBEX if world.doc_id("globex", s) in doc_ids}
    assert len(acme) + len(globex) == len(doc_ids), "a reachable doc id maps to no sample file"
    return acme, globex


def test_when_sample_corpus_ingested_then_nothing_refused(world: World) -> None:
    assert not world.reports["acme"].refused and not world.reports["globex"].refused
    assert len(world.reports["acme"].ingested) == len(ACME)
    assert len(world.reports["globex"].ingested) == len(GLOBEX)


@pytest.mark.parametrize("name", sorted(PRINCIPALS))
def test_when_principal_searches_then_reaches_exactly_its_documents(world: World,
                                                                   name: str) -> None:
    principal, acme, globex = PRINCIPALS[name]
    assert _reachable(world, principal) == (acme, globex)


def test_when_hr_searches_then_reaches_hr_records_below_restricted(world: World) -> None:
    hr = Principal("hrp@acme.example", "acme", ("all-staff", "hr"), ("hr",))
    acme, globex = _reachable(world, hr)
    assert globex == set()
    assert EVERYONE <= acme and not acme & _under("finance/", "legal/", "board/", "engineering/")
    # HR reaches its records; chunks holding SSNs are gated to restricted and stay out.
    assert acme & _under("hr/") >= {"hr/leave-request-aisha-patel.eml",
                                    "hr/reviews/performance-review-2026-daniel-okafor.docx"}


def _chunk_about(world: World, who: Principal, query: str, needle_doc: str) -> str:
    doc_id = world.doc_id(who.tenant, needle_doc)
    chunks = world.services.retriever.retrieve(who, query, 10).chunks
    texts = [c.text for c in chunks if c.doc_id == doc_id]
    assert texts, f"{needle_doc} not retrieved for {who.sub}"
    return "\n".join(texts)


def test_when_card_pasted_in_ticket_then_each_reader_sees_their_view(world: World) -> None:
    doc = "support/ticket-48377-billing-dispute.eml"
    query = "customer pasted card number billing dispute refund"
    employee = PRINCIPALS["employee"][0]
    finance = PRINCIPALS["finance"][0]
    legal = PRINCIPALS["legal"][0]
    seen_by_employee = _chunk_about(world, employee, query, doc)
    assert "6011 1111 1111 1117" not in seen_by_employee
    assert "<CREDIT_CARD_****1117>" in seen_by_employee
    assert "6011 1111 1111 1117" in _chunk_about(world, finance, query, doc)  # finance unmasks
    assert "6011 1111 1111 1117" in _chunk_about(world, legal, query, doc)  # legal: all


def test_when_person_named_in_all_hands_then_only_hr_reads_the_name(world: World) -> None:
    doc = "handbook/all-hands-2026-11.eml"
    query = "all-hands meeting announcement agenda"
    hr = Principal("hrp@acme.example", "acme", ("all-staff", "hr"), ("hr",))
    employee = PRINCIPALS["employee"][0]
    as_employee = _chunk_about(world, employee, query, doc)
    as_hr = _chunk_about(world, hr, query, doc)
    assert "Maria Gonzalez" not in as_employee and "<PERSON_" in as_employee
    assert "Maria Gonzalez" in as_hr


def test_when_name_masked_then_pseudonym_is_the_corpus_wide_keyed_tag(world: World) -> None:
    pseudonym = world.services.pseudonyms.tag("acme", "PERSON", "Maria Gonzalez")
    employee = PRINCIPALS["employee"][0]
    seen = _chunk_about(world, employee, "all-hands meeting announcement agenda",
                        "handbook/all-hands-2026-11.eml")
    assert pseudonym in seen
