"""Signed retrieval ids: bound to the principal, tamper-evident, expiring."""

from __future__ import annotations

import pytest
from ragseal.retrieval import Principal, RetrievalIdError, RetrievalIds

ALICE = Principal("alice", "acme", ("hr",), ("hr",))
IDS = RetrievalIds(b"s" * 32, ttl_seconds=60)


def test_when_issued_then_verifies_for_same_principal() -> None:
    token = IDS.issue(ALICE, ["c1", "c2"])
    session = IDS.verify(token, ALICE)
    assert session.chunk_ids == ("c1", "c2") and session.sub == "alice"


@pytest.mark.parametrize("other", [Principal("bob", "acme"), Principal("alice", "globex")])
def test_when_other_principal_then_rejected(other: Principal) -> None:
    with pytest.raises(RetrievalIdError):
        IDS.verify(IDS.issue(ALICE, ["c1"]), other)


def test_when_any_character_altered_then_rejected() -> None:
    token = IDS.issue(ALICE, ["c1"])
    for i in range(len(token)):
        flipped = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        with pytest.raises(RetrievalIdError):
            IDS.verify(flipped, ALICE)


def test_when_expired_then_rejected() -> None:
    token = RetrievalIds(b"s" * 32, ttl_seconds=-1).issue(ALICE, ["c1"])
    with pytest.raises(RetrievalIdError):
        IDS.verify(token, ALICE)


def test_when_signed_by_another_installation_then_rejected() -> None:
    with pytest.raises(RetrievalIdError):
        IDS.verify(RetrievalIds(b"t" * 32).issue(ALICE, []), ALICE)


@pytest.mark.parametrize("junk", ["", ".", "abc", "a.b.c", "!!!.???"])
def test_when_malformed_then_rejected(junk: str) -> None:
    with pytest.raises(RetrievalIdError):
        IDS.verify(junk, ALICE)


def test_when_issued_then_opaque_to_the_client() -> None:
    import base64

    token = IDS.issue(ALICE, ["chunk-visible-id"])
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"alice" not in raw and b"acme" not in raw and b"chunk-visible-id" not in raw


def test_when_pseudonyms_are_bound_then_they_round_trip_and_stay_opaque() -> None:
    import base64

    token = IDS.issue(ALICE, ["c1"], {"<PERSON_abc123>": "Maria Gonzalez"})
    assert IDS.verify(token, ALICE).pseudonyms == {"<PERSON_abc123>": "Maria Gonzalez"}
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"Maria" not in raw and b"PERSON" not in raw
    assert "Maria" not in repr(IDS.verify(token, ALICE))


def test_when_the_pseudonym_map_is_large_then_the_id_stays_bounded() -> None:
    from ragseal.retrieval._retrieval_id import MAX_PSEUDONYMS

    big = {f"<PERSON_{i:06x}>": "N" * 200 for i in range(1000)}
    big["<PERSON_ffffff>"] = "x" * 10_000  # too long to carry: dropped, never truncated
    token = IDS.issue(ALICE, [f"c{i}" for i in range(50)], big)
    session = IDS.verify(token, ALICE)
    assert len(session.pseudonyms) == MAX_PSEUDONYMS
    assert "<PERSON_ffffff>" not in session.pseudonyms
    assert len(token) < 20_000  # the API's bound on retrieval_id
