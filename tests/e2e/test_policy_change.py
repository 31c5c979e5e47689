"""A steward changes the policy after ingest: nothing is re-embedded.

- reveal decisions always use the current policy: an entity's level, mask
  or a role's ``unmask`` changed -> the next retrieval shows spans per the
  new policy, with no re-ingest and no relabel;
- chunk levels move with ``relabel``: PERSON made gating at *restricted*
  lifts the chunks naming people out of reach of internal and confidential
  readers, while a restricted reader still opens them (the seal's labels
  were re-bound); setting the policy back brings them down again.

Real components: Presidio, MiniLM, AES-GCM, Qdrant Edge on disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ragseal.api._container import Services
from ragseal.api._settings import Settings
from ragseal.classification import Policy, parse_policy
from ragseal.ingest import Acl, relabel
from ragseal.retrieval import Principal

from .conftest import JWT_SECRET, World

NAME = "Maria Gonzalez"
FILLER = " ".join(
    f"Shelf {i} in the spare parts store holds gripper fingers, cable ties and "
    f"calibration weights, counted every Monday by the warehouse team." for i in range(1, 25)
)
DOC = (
    f"Warehouse handbook.\n\n{FILLER}\n\n"
    f"Payroll exceptions are approved by {NAME}, who leads the payroll team. "
    f"{NAME} also signs off overtime for the warehouse.\n"
)
QUESTION = "Who approves payroll exceptions and overtime?"

EMPLOYEE = Principal("emp@lab.example", "lab", ("staff",), ("employee",))
HR = Principal("hrp@lab.example", "lab", ("staff",), ("hr",))
LEGAL = Principal("counsel@lab.example", "lab", ("staff",), ("legal",))


def make_policy(person: dict[str, object], employee_unmask: list[str] | None = None) -> Policy:
    return parse_policy({
        "levels": ["public", "internal", "confidential", "restricted"],
        "entities": {"PERSON": person},
        "roles": {
            "employee": {"clearance": "internal", "unmask": employee_unmask or []},
            "hr": {"clearance": "confidential"},
            "legal": {"clearance": "restricted", "unmask": "all"},
        },
    })


BASE = make_policy({"level": "confidential", "mask": "pseudonym"})
GATED = make_policy({"level": "restricted", "mask": "pseudonym", "gate": True})


@pytest.fixture(scope="module")
def lab(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """One document (level internal) in a store of its own, models shared."""
    data_dir = tmp_path_factory.mktemp("policy-change")
    services = Services(Settings(data_dir=data_dir, jwt_secret=JWT_SECRET), policy=BASE)
    for name in ("embedder", "chunker"):
        services.__dict__[name] = getattr(world.services, name)
    result = services.ingestor.ingest_text(
        DOC, source="handbook.txt",
        acl=Acl(tenant="lab", groups=("staff",), users=(), level="internal"))
    assert result.chunks >= 2 and result.level == "internal"
    yield services
    services.close()


def _use(services: Services, policy: Policy) -> dict[str, object]:
    services.set_policy(policy)
    return relabel(policy=policy, store=services.store, keys=services.keys,
                   ids=services.ids).as_dict()


def _ask(services: Services, who: Principal) -> dict[str, tuple[str, str]]:
    """chunk id -> (level, text) of everything ``who`` gets for the question."""
    chunks = services.retriever.retrieve(who, QUESTION, 10).chunks
    return {c.chunk_id: (c.level, c.text) for c in chunks}


def _named(services: Services) -> set[str]:
    """Ids of the chunks that name the person (read by the reader who sees all)."""
    return {cid for cid, (_lv, text) in _ask(services, LEGAL).items() if NAME in text}


def test_when_entity_rules_change_then_retrieval_reveals_per_the_new_policy(
    lab: Services,
) -> None:
    assert _use(lab, BASE)["relabeled"] == 0
    named = _named(lab)
    assert named
    seen = _ask(lab, EMPLOYEE)
    assert named <= set(seen)
    assert all(NAME not in text and "<PERSON_" in text for cid, (_l, text) in seen.items()
               if cid in named)

    # Level lowered to internal: the employee's clearance now reaches it.
    lab.set_policy(make_policy({"level": "internal", "mask": "pseudonym"}))
    assert all(NAME in _ask(lab, EMPLOYEE)[cid][1] for cid in named)

    # Mask changed to redact: a bare type, no pseudonym any more.
    lab.set_policy(make_policy({"level": "confidential", "mask": "redact"}))
    texts = [_ask(lab, EMPLOYEE)[cid][1] for cid in named]
    assert all(NAME not in t and "<PERSON>" in t and "<PERSON_" not in t for t in texts)

    # A role granted unmask: in clear again, level unchanged.
    lab.set_policy(make_policy({"level": "confidential", "mask": "pseudonym"}, ["PERSON"]))
    assert all(NAME in _ask(lab, EMPLOYEE)[cid][1] for cid in named)
    lab.set_policy(BASE)


def test_when_person_becomes_gating_then_relabel_lifts_its_chunks_to_restricted(
    lab: Services,
) -> None:
    _use(lab, BASE)
    named = _named(lab)
    others = set(_ask(lab, LEGAL)) - named
    assert named and others and named <= set(_ask(lab, HR))

    report = _use(lab, GATED)

    assert report["relabeled"] == len(named) and report["errors"] == []
    assert report["levels"] == [{"before": "internal", "after": "restricted",
                                 "chunks": len(named)}]
    for reader in (EMPLOYEE, HR):
        got = _ask(lab, reader)
        assert not named & set(got), reader.roles
        assert others <= set(got)  # the rest of the document is still there
    legal = _ask(lab, LEGAL)
    for cid in named:
        level, text = legal[cid]  # opened: the seal is bound to the new level
        assert level == "restricted" and NAME in text
    assert _use(lab, GATED)["relabeled"] == 0


def test_when_the_gate_is_lifted_again_then_relabel_lowers_the_chunks(lab: Services) -> None:
    _use(lab, GATED)
    named = {cid for cid, (lv, _t) in _ask(lab, LEGAL).items() if lv == "restricted"}
    assert named

    report = _use(lab, BASE)

    assert report["levels"] == [{"before": "restricted", "after": "internal",
                                 "chunks": len(named)}]
    employee = _ask(lab, EMPLOYEE)
    assert named <= set(employee)
    assert {employee[cid][0] for cid in named} == {"internal"}
    assert all(NAME not in employee[cid][1] for cid in named)  # still masked for them


def test_when_relabel_runs_then_no_vector_or_other_field_changes(lab: Services) -> None:
    _use(lab, BASE)
    before = {h.id: dict(h.payload) for h in lab.store.scroll("lab")}
    scores = {c.chunk_id: round(c.score, 5) for c in
              lab.retriever.retrieve(LEGAL, QUESTION, 10).chunks}
    _use(lab, GATED)
    after = {h.id: dict(h.payload) for h in lab.store.scroll("lab")}
    assert set(after) == set(before)
    for cid, payload in after.items():
        same = {k: v for k, v in payload.items() if k not in ("level", "sealed")}
        assert same == {k: v for k, v in before[cid].items() if k not in ("level", "sealed")}
    assert {c.chunk_id: round(c.score, 5) for c in
            lab.retriever.retrieve(LEGAL, QUESTION, 10).chunks} == scores
    _use(lab, BASE)


def test_relabel_needs_no_classifier_or_embedder(world: World, tmp_path: Path) -> None:
    """The CLI's composition: relabel touches only policy, store and keys."""
    services = Services(Settings(data_dir=tmp_path, jwt_secret=JWT_SECRET), policy=GATED)
    try:
        report = relabel(policy=services.policy, store=services.store, keys=services.keys,
                         ids=services.ids)
        assert report.scanned == 0
        assert "classifier" not in services.__dict__ and "embedder" not in services.__dict__
    finally:
        services.close()
