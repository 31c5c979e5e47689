"""`relabel`: stored levels recomputed under a new policy, without re-embedding.

The store (both engines), keyring, sealing and marker matching are real;
the classifier finds names from a fixed list (Presidio is not what is under
test here: relabel never runs it), the chunker cuts at blank lines and the
embedder returns one fixed vector (relabel must never touch vectors).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from ragseal.classification import Finding, MarkerMatcher, Policy, Pseudonymizer, parse_policy
from ragseal.ingest import Acl, Ingestor, relabel
from ragseal.store import (
    EdgeStore,
    IdHasher,
    Labels,
    LocalKeyring,
    SealedChunk,
    VectorStore,
    open_chunk,
    seal_chunk,
)

CANARY = "Zebulon Quixwhistle"
NAMES = (CANARY, "Maria Gonzalez")

BASE = {
    "levels": ["public", "internal", "confidential", "restricted"],
    "entities": {"PERSON": {"level": "confidential", "mask": "pseudonym"}},
    "markers": [{"phrases": ["STRICTLY CONFIDENTIAL"], "level": "restricted"}],
    "roles": {"hr": {"clearance": "confidential"}},
}


def policy(**changes: object) -> Policy:
    data = json.loads(json.dumps(BASE))
    data.update(changes)
    return parse_policy(data)


def gated(level: str = "restricted") -> Policy:
    return policy(entities={"PERSON": {"level": level, "mask": "pseudonym", "gate": True}})


@dataclass(frozen=True)
class _Result:
    findings: tuple[Finding, ...]
    marker_level: int | None


class _NameClassifier:
    def __init__(self, pol: Policy) -> None:
        self._markers = MarkerMatcher(pol)
        self._policy = pol

    def classify(self, text: str) -> _Result:
        # Thresholds applied as the real classifier does (_finalise).
        found = sorted((
            Finding("PERSON", m.start(), m.end(), 0.85, "names")
            for name in NAMES for m in re.finditer(re.escape(name), text)
            if 0.85 >= self._policy.threshold("PERSON")
        ), key=lambda f: f.start)
        return _Result(tuple(found), self._markers.level(text))


class _ParagraphChunker:
    def split(self, text: str) -> list[tuple[int, int]]:
        return [(m.start(), m.end()) for m in re.finditer(r"\S(?:.*\S)?(?:\n(?!\n).*\S)*", text)]


class _FixedEmbedder:
    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[1.0] + [0.0] * 383 for _ in texts]


@dataclass
class Env:
    store: VectorStore
    keys: LocalKeyring
    ids: IdHasher
    pseudonyms: Pseudonymizer

    def ingest(self, pol: Policy, text: str, source: str, level: str | None = "internal") -> str:
        ingestor = Ingestor(
            policy=pol, classifier=_NameClassifier(pol), chunker=_ParagraphChunker(),
            embedder=_FixedEmbedder(), store=self.store, keys=self.keys, ids=self.ids,
            pseudonyms=self.pseudonyms,
        )
        acl = Acl(tenant="acme", groups=("all",), users=(), level=level)
        return ingestor.ingest_text(text, source=source, acl=acl).doc_id

    def relabel(self, pol: Policy, **kwargs: object) -> dict[str, object]:
        report = relabel(policy=pol, store=self.store, keys=self.keys, ids=self.ids,
                         **kwargs)  # type: ignore[arg-type]
        return report.as_dict()

    def levels(self) -> dict[str, int]:
        return {h.id: int(h.payload["level"]) for h in self.store.scroll()}

    def snapshot(self) -> dict[str, dict[str, object]]:
        return {h.id: dict(h.payload) for h in self.store.scroll()}

    def vectors(self) -> dict[str, list[float]]:
        ids = [h.id for h in self.store.scroll()]
        if isinstance(self.store, EdgeStore):
            raw = self.store._live().retrieve(ids, False, True)
        else:
            live = self.store._live()  # type: ignore[attr-defined]
            raw = live.retrieve(self.store._collection, ids, with_vectors=True)  # type: ignore[attr-defined]
        return {str(r.id): list(r.vector.values())[0] if isinstance(r.vector, dict)
                else list(r.vector) for r in raw}

    def opens(self, pol: Policy) -> dict[str, str]:
        """Every point opened with the labels its payload claims: id -> text."""
        out = {}
        for h in self.store.scroll():
            p = h.payload
            labels = Labels(tenant=p["tenant"], doc_id=p["doc_id"], chunk_id=p["chunk_id"],
                            level=pol.level_name(int(p["level"])), groups=tuple(p["groups"]),
                            users=tuple(p["users"]))
            key = self.keys.data_key(p["doc_id"], p["tenant"], version=p["version"])
            raw = open_chunk(key, labels, base64.b64decode(p["sealed"]))
            out[h.id] = SealedChunk.from_bytes(raw).text
        return out


@pytest.fixture(params=["edge", "client"])
def env(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Env]:
    """Both engines: relabel uses only the VectorStore protocol."""
    keys = LocalKeyring(tmp_path / "keys", os.urandom(32))
    store: VectorStore
    if request.param == "edge":
        store = EdgeStore(tmp_path / "store")
    else:
        from qdrant_client import QdrantClient
        from ragseal.store import ClientStore

        store = ClientStore(QdrantClient(":memory:"), "chunks")
    yield Env(store, keys, IdHasher(keys.secret("ids")), Pseudonymizer(keys.secret("pseudonyms")))
    store.close()
    keys.close()


DOC = (
    "Quarterly plan for the field team.\n\n"
    f"Owner: {CANARY}, who signs off the budget.\n\n"
    "Nothing sensitive in this paragraph at all.\n\n"
    "Escalations go to Maria Gonzalez."
)
INTERNAL, CONFIDENTIAL, RESTRICTED = 1, 2, 3


def _person_chunks(env: Env) -> set[str]:
    texts = env.opens(policy())
    return {cid for cid, text in texts.items() if any(n in text for n in NAMES)}


def test_when_the_policy_is_unchanged_then_relabel_writes_nothing(env: Env) -> None:
    env.ingest(policy(), DOC, "plan.txt")
    env.ingest(policy(), "STRICTLY CONFIDENTIAL\n\nBoard minutes.", "board.txt", level=None)
    before = env.snapshot()
    report = env.relabel(policy())
    assert report["relabeled"] == 0 and report["mismatched"] == 0
    assert report["unchanged"] == report["scanned"] == len(before)
    assert env.snapshot() == before  # not even a new nonce


def test_when_an_entity_becomes_gating_then_its_chunks_rise_and_still_open(env: Env) -> None:
    env.ingest(policy(), DOC, "plan.txt")
    vectors = env.vectors()
    person = _person_chunks(env)
    assert len(person) == 2 and set(env.levels().values()) == {INTERNAL}

    report = env.relabel(gated())

    assert report["relabeled"] == 2
    assert report["levels"] == [{"before": "internal", "after": "restricted", "chunks": 2}]
    levels = env.levels()
    assert {cid for cid, lv in levels.items() if lv == RESTRICTED} == person
    assert {lv for cid, lv in levels.items() if cid not in person} == {INTERNAL}
    assert len(env.opens(gated())) == len(levels)  # the seal is bound to the new level
    assert env.vectors() == vectors  # nothing re-embedded
    assert env.relabel(gated())["relabeled"] == 0  # idempotent


def test_when_the_policy_goes_back_then_levels_return_to_what_ingest_gave(env: Env) -> None:
    env.ingest(policy(), DOC, "plan.txt")
    original = env.levels()
    env.relabel(gated())
    report = env.relabel(policy())
    assert report["levels"] == [{"before": "restricted", "after": "internal", "chunks": 2}]
    assert env.levels() == original
    assert len(env.opens(policy())) == len(original)


def test_when_a_gating_entity_is_lowered_then_its_chunks_fall_to_that_level(env: Env) -> None:
    env.ingest(gated(), DOC, "plan.txt")
    assert sorted(env.levels().values()) == [INTERNAL, INTERNAL, RESTRICTED, RESTRICTED]
    env.relabel(gated("confidential"))
    assert sorted(env.levels().values()) == [INTERNAL, INTERNAL, CONFIDENTIAL, CONFIDENTIAL]


def test_when_a_marker_is_added_then_every_chunk_of_its_document_rises(env: Env) -> None:
    env.ingest(policy(), DOC, "plan.txt")
    env.ingest(policy(), "Lunch menu.\n\nSoup of the day.", "menu.txt")
    # The phrase spans two paragraphs (two chunks): found over the document put back together.
    marked = policy(markers=[{"phrases": ["at all. Escalations"], "level": "confidential"}])
    report = env.relabel(marked)
    assert report["relabeled"] == 4
    doc_levels = sorted(env.levels().values())
    assert doc_levels == [INTERNAL, INTERNAL] + [CONFIDENTIAL] * 4


def test_when_a_marker_is_removed_then_the_document_falls_to_its_manifest_level(env: Env) -> None:
    env.ingest(policy(), "STRICTLY CONFIDENTIAL\n\nBoard minutes.", "board.txt")
    assert set(env.levels().values()) == {RESTRICTED}
    env.relabel(policy(markers=[]))
    assert set(env.levels().values()) == {INTERNAL}


def test_when_the_manifest_gave_no_level_then_the_floor_stays_the_highest(env: Env) -> None:
    env.ingest(policy(), DOC, "plan.txt", level=None)
    env.relabel(policy(markers=[]))
    assert set(env.levels().values()) == {RESTRICTED}


def test_when_a_score_threshold_rises_then_weaker_spans_stop_gating(env: Env) -> None:
    env.ingest(gated(), DOC, "plan.txt")
    strict = parse_policy({**gated().to_json(), "min_score": 0.9})
    env.relabel(strict)
    assert set(env.levels().values()) == {INTERNAL}


def test_when_a_level_is_inserted_then_ranks_are_rewritten_and_chunks_open(env: Env) -> None:
    env.ingest(gated(), DOC, "plan.txt")
    five = parse_policy({**gated().to_json(),
                         "levels": ["public", "internal", "confidential", "secret", "restricted"]})
    report = env.relabel(five)
    assert report["errors"] == [] and report["mismatched"] == 2
    assert sorted(env.levels().values()) == [INTERNAL, INTERNAL, 4, 4]
    assert len(env.opens(five)) == 4


def test_when_a_stored_level_is_gone_from_the_policy_then_the_chunk_is_reported(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env.ingest(gated(), DOC, "plan.txt")
    renamed = parse_policy({
        "levels": ["public", "internal", "confidential", "top"],
        "entities": {"PERSON": {"level": "top", "mask": "pseudonym", "gate": True}},
    })
    before = env.snapshot()
    with caplog.at_level(logging.DEBUG):
        report = env.relabel(renamed)
    errors = report["errors"]
    assert isinstance(errors, list) and len(errors) == 2
    assert env.snapshot() == before  # nothing written for a chunk that does not open
    assert CANARY not in json.dumps(report) + caplog.text


def test_when_a_label_was_tampered_then_relabel_reports_it_without_text(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env.ingest(policy(), DOC, "plan.txt")
    victim = sorted(_person_chunks(env))[0]
    env.store.set_payload(victim, {"groups": ["everyone"]})
    with caplog.at_level(logging.DEBUG):
        report = env.relabel(gated())
    assert [e["chunk_id"] for e in report["errors"]] == [victim]  # type: ignore[index]
    assert report["relabeled"] == 1
    assert CANARY not in json.dumps(report) + caplog.text


def test_when_a_payload_level_was_lowered_in_the_store_then_relabel_restores_it_from_the_seal(
    env: Env,
) -> None:
    env.ingest(gated(), DOC, "plan.txt")
    expected = env.levels()
    victim = next(cid for cid, lv in expected.items() if lv == RESTRICTED)
    env.store.set_payload(victim, {"level": INTERNAL})  # would be refused at open
    report = env.relabel(gated())
    assert report["mismatched"] == 1 and report["relabeled"] == 1
    assert env.levels() == expected  # the level the seal and spans say, not the edited one


def test_when_dry_run_then_changes_are_counted_and_nothing_is_written(env: Env) -> None:
    env.ingest(policy(), DOC, "plan.txt")
    before = env.snapshot()
    report = env.relabel(gated(), dry_run=True)
    assert report["relabeled"] == 2 and report["dry_run"] is True
    assert env.snapshot() == before


def test_when_only_one_tenant_is_asked_then_others_are_untouched(env: Env) -> None:
    env.ingest(policy(), DOC, "plan.txt")
    report = env.relabel(gated(), tenants=["globex"])
    assert report["scanned"] == 0
    assert set(env.levels().values()) == {INTERNAL}


def _make_legacy(env: Env, pol: Policy) -> None:
    """Re-seal every chunk as an older ingest wrote it: no start, no acl_level."""
    for h in env.store.scroll():
        p = h.payload
        labels = Labels(p["tenant"], p["doc_id"], p["chunk_id"], pol.level_name(p["level"]),
                        tuple(p["groups"]), tuple(p["users"]))
        key = env.keys.data_key(p["doc_id"], p["tenant"])
        body = SealedChunk.from_bytes(open_chunk(key, labels, base64.b64decode(p["sealed"])))
        old = SealedChunk(body.text, body.spans, body.source)
        blob = seal_chunk(key, labels, old.to_bytes())
        env.store.set_payload(h.id, {"sealed": base64.b64encode(blob).decode()})


def test_when_chunks_predate_the_stored_floor_then_they_never_fall_below_it(env: Env) -> None:
    env.ingest(gated(), DOC, "plan.txt")
    _make_legacy(env, gated())
    assert env.relabel(gated())["relabeled"] == 0
    report = env.relabel(policy())
    assert report["legacy"] == 4
    assert set(env.levels().values()) == {INTERNAL}  # min stored level was internal
    env.relabel(gated())
    assert sorted(env.levels().values()) == [INTERNAL, INTERNAL, RESTRICTED, RESTRICTED]


def test_when_every_legacy_chunk_was_raised_then_the_inferred_floor_still_holds(
    env: Env,
) -> None:
    env.ingest(policy(), "Maria Gonzalez here.\n\nZebulon Quixwhistle there.", "both.txt")
    _make_legacy(env, policy())
    env.relabel(gated())
    assert set(env.levels().values()) == {RESTRICTED}  # no chunk left at the old minimum
    report = env.relabel(policy())
    assert report["legacy"] == 2
    assert set(env.levels().values()) == {INTERNAL}  # the floor was sealed on the way up


class _Killed(Exception):
    pass


def test_when_a_relabel_is_killed_at_any_write_then_a_rerun_converges(env: Env) -> None:
    env.ingest(policy(), DOC, "plan.txt")
    env.ingest(policy(), "Call Maria Gonzalez.\n\nThen " + CANARY + ".", "calls.txt")
    reference = dict(env.levels())
    env.relabel(gated())
    expected = env.levels()
    env.relabel(policy())
    assert env.levels() == reference

    writes = ["count", "set", "set", "count", "set", "set"]
    for kill_at in range(1, len(writes) + 1):
        seen = {"n": 0}

        def checkpoint(_name: str, kill_at: int = kill_at, seen: dict[str, int] = seen) -> None:
            seen["n"] += 1
            if seen["n"] == kill_at:
                raise _Killed

        with pytest.raises(_Killed):
            env.relabel(gated(), checkpoint=checkpoint)
        # Every point opens under the level its payload claims, old or new.
        assert len(env.opens(gated())) == len(expected)
        env.relabel(gated())
        assert env.levels() == expected
        env.relabel(policy())
        assert env.levels() == reference


FIVE = ["public", "internal", "confidential", "secret", "restricted"]
POLICIES = {
    "base": policy(),
    "gated": gated(),
    "gated-confidential": gated("confidential"),
    "marker": policy(markers=[{"phrases": ["field team"], "level": "confidential"},
                              {"phrases": ["STRICTLY CONFIDENTIAL"], "level": "restricted"}]),
    "no-marker": policy(markers=[]),
    "strict-threshold": parse_policy({**gated().to_json(), "min_score": 0.9}),
    "five-levels": policy(levels=FIVE, entities={
        "PERSON": {"level": "secret", "mask": "pseudonym", "gate": True}}),
    "five-levels-restricted": policy(levels=FIVE, entities={
        "PERSON": {"level": "restricted", "mask": "pseudonym", "gate": True}}),
}
PAIRS = [("base", "gated"), ("gated", "base"), ("gated", "gated-confidential"),
         ("base", "marker"), ("marker", "no-marker"), ("base", "no-marker"),
         ("gated", "strict-threshold"), ("base", "five-levels"),
         ("five-levels", "five-levels-restricted"), ("gated", "five-levels-restricted")]
CORPUS = {
    "plan.txt": (DOC, "internal"),
    "board.txt": ("STRICTLY CONFIDENTIAL\n\nBoard minutes.\n\nMaria Gonzalez chaired.", None),
    "team.txt": ("Notes of the field\nteam meeting.\n\nNo names here.", "public"),
}


def _levels_by_text(env: Env, tenant: str, pol: Policy) -> dict[str, str]:
    """Chunk text -> level name, for one tenant (chunk texts are unique here)."""
    texts = env.opens(pol)
    return {texts[h.id]: pol.level_name(int(h.payload["level"])) for h in env.store.scroll(tenant)}


@pytest.mark.parametrize(("before", "after"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_when_relabelled_then_levels_equal_a_fresh_ingest_under_the_new_policy(
    env: Env, before: str, after: str,
) -> None:
    """Congruence: relabel(ingest(P1), P2) gives every chunk the level ingest(P2) gives it."""
    old, new = POLICIES[before], POLICIES[after]
    ingestor_old = Ingestor(
        policy=old, classifier=_NameClassifier(old), chunker=_ParagraphChunker(),
        embedder=_FixedEmbedder(), store=env.store, keys=env.keys, ids=env.ids,
        pseudonyms=env.pseudonyms)
    ingestor_new = Ingestor(
        policy=new, classifier=_NameClassifier(new), chunker=_ParagraphChunker(),
        embedder=_FixedEmbedder(), store=env.store, keys=env.keys, ids=env.ids,
        pseudonyms=env.pseudonyms)
    for source, (text, level) in CORPUS.items():
        for tenant, ingestor in (("relabelled", ingestor_old), ("fresh", ingestor_new)):
            acl = Acl(tenant=tenant, groups=("all",), users=(), level=level)
            ingestor.ingest_text(text, source=source, acl=acl)

    report = env.relabel(new, tenants=["relabelled"])

    assert report["errors"] == []
    relabelled = _levels_by_text(env, "relabelled", new)
    fresh = _levels_by_text(env, "fresh", new)
    assert relabelled == fresh
    assert len(fresh) == 9
    assert env.relabel(new)["relabeled"] == 0  # and both tenants are now at rest


def test_an_opened_chunk_shows_no_plaintext_in_its_repr() -> None:
    from ragseal.ingest._relabel import _Chunk
    from ragseal.store import SealedChunk, StoredChunk

    body = SealedChunk("Wren Oakhollow earns 91,000", (("PERSON", 0, 14, 0.9),), "hr/wren.txt")
    stored = StoredChunk("acme", "d1", "c1", 1, ("hr",), ("wren@acme.example",), b"\x01")
    chunk = _Chunk(stored, "internal", body.to_bytes(), body)
    assert "Oakhollow" not in repr(chunk) and "wren.txt" not in repr(chunk)
