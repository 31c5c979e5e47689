"""Signed retrieval ids: bound to the principal, tamper-evident, expiring."""

from __future__ import annotations

import pytest

from retrieval import Principal, RetrievalIdError, RetrievalIds

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
