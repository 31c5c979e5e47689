"""The stored-chunk model: one strict reading and writing of a point's payload."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from ragseal.store import (
    FINGERPRINT_FIELD,
    Hit,
    PayloadError,
    SealedChunk,
    SealError,
    StoredChunk,
    payload_version,
    seal_chunk,
)

KEY = bytes(range(32))
CHUNK_ID = "3f1c2d4e-0000-4000-8000-000000000001"
CANARY = "canary-Maria-Gonzalez"

# A payload exactly as ingest writes it (docs/FORMAT.md), field order included.
CURRENT = {
    "tenant": "acme",
    "doc_id": "d" * 32,
    "chunk_id": CHUNK_ID,
    "version": "v" * 16,
    "level": 1,
    "groups": ["all-staff", "hr"],
    "users": ["ceo@acme.example"],
    "tags": ["t" * 24],
    "injection_score": 0.25,
    "injection_signals": ["hidden_text"],
    "quarantined": 0,
    "policy_version": 3,
    "sealed": base64.b64encode(b"\x01" + bytes(60)).decode(),
    FINGERPRINT_FIELD: ["abcdefghijklmn"],
}
# A point written before versions, tags, fingerprints, injection scores and policy versions.
OLDEST = {k: CURRENT[k] for k in ("tenant", "doc_id", "chunk_id", "level", "groups", "users",
                                  "sealed")}


def test_when_a_current_payload_is_read_and_written_then_it_is_unchanged() -> None:
    chunk = StoredChunk.from_payload(CURRENT)
    assert chunk.to_payload() == CURRENT
    assert list(chunk.to_payload()) == list(CURRENT)  # same field order as ingest wrote
    assert chunk.score == 0.25 and chunk.signals == ("hidden_text",) and not chunk.held


def test_when_an_oldest_payload_is_read_then_absent_fields_stay_absent() -> None:
    chunk = StoredChunk.from_payload(OLDEST)
    assert chunk.to_payload() == OLDEST
    assert (chunk.version, chunk.tags, chunk.fingerprints, chunk.policy_version) == (
        None, None, None, None)
    assert chunk.score == 0.0 and chunk.signals == () and not chunk.held


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tenant": None}, "tenant"),
        ({"doc_id": 7}, "doc_id"),
        ({"tenant": ""}, "tenant"),
        ({"level": "1"}, "level"),
        ({"level": 1.0}, "level"),
        ({"level": True}, "level"),
        ({"level": -1}, "level"),
        ({"groups": "hr"}, "groups"),
        ({"groups": ["hr", 1]}, "groups"),
        ({"users": None}, "users"),
        ({"sealed": "not base64!"}, "sealed"),
        ({"sealed": 12}, "sealed"),
        ({"version": None}, "version"),
        ({"tags": "t"}, "tags"),
        ({"injection_score": "0.9"}, "injection_score"),
        ({"injection_score": True}, "injection_score"),
        ({"injection_score": 1.5}, "injection_score"),
        ({"injection_score": float("nan")}, "injection_score"),
        ({"injection_signals": [None]}, "injection_signals"),
        ({"quarantined": True}, "quarantined"),
        ({"quarantined": 2}, "quarantined"),
        ({"policy_version": "3"}, "policy_version"),
        ({FINGERPRINT_FIELD: "abcdefghijklmn"}, FINGERPRINT_FIELD),
    ],
)
def test_when_a_field_is_malformed_then_the_whole_payload_is_refused(
    change: dict[str, object], field: str,
) -> None:
    with pytest.raises(PayloadError) as caught:
        StoredChunk.from_payload({**CURRENT, **change})
    assert f"'{field}'" in str(caught.value)


def test_when_a_payload_has_a_field_format_md_does_not_list_then_it_is_refused() -> None:
    with pytest.raises(PayloadError, match="not a chunk field"):
        StoredChunk.from_payload({**CURRENT, "source": "/srv/hr/salaries.xlsx"})


@pytest.mark.parametrize("field", ["tenant", "doc_id", "chunk_id", "level", "groups", "users",
                                   "sealed"])
def test_when_a_required_field_is_missing_then_the_payload_is_refused(field: str) -> None:
    with pytest.raises(PayloadError, match=f"'{field}' is missing"):
        StoredChunk.from_payload({k: v for k, v in CURRENT.items() if k != field})


def test_when_a_payload_is_refused_then_no_value_shows_in_the_error_or_repr() -> None:
    shown = []
    for change in ({"tenant": [CANARY]}, {"groups": CANARY}, {"sealed": CANARY + "!"},
                   {"injection_signals": CANARY}, {CANARY: 1}):
        with pytest.raises(PayloadError) as caught:
            StoredChunk.from_payload({**CURRENT, **change})
        shown.append(str(caught.value))
    chunk = StoredChunk.from_payload({**CURRENT, "groups": [CANARY], "users": [CANARY]})
    shown += [repr(chunk), str(chunk)]
    assert not any(CANARY in text for text in shown)


def test_when_a_hit_id_differs_from_its_payload_chunk_id_then_it_is_refused() -> None:
    other = "3f1c2d4e-0000-4000-8000-000000000002"
    assert StoredChunk.from_hit(Hit(CHUNK_ID, 0.5, CURRENT)).chunk_id == CHUNK_ID
    with pytest.raises(PayloadError, match="point id"):
        StoredChunk.from_hit(Hit(other, 0.5, CURRENT))


def test_when_sealed_under_its_labels_then_it_opens_only_under_the_same_level() -> None:
    body = SealedChunk("Maria earns 90k", (("PERSON", 0, 5, 0.85),), "hr/a.txt", start=0,
                       acl_level="internal", has_floor=True)
    chunk = StoredChunk.from_payload(OLDEST)
    chunk = replace(chunk, sealed=seal_chunk(KEY, chunk.labels("internal"), body.to_bytes()))
    reread = StoredChunk.from_payload(chunk.to_payload())
    assert reread.open(KEY, "internal") == body
    with pytest.raises(SealError):
        reread.open(KEY, "public")
    with pytest.raises(SealError):
        replace(reread, groups=("everyone",)).open(KEY, "internal")


def test_when_some_fields_are_asked_then_only_present_ones_are_given() -> None:
    chunk = StoredChunk.from_payload(OLDEST)
    assert chunk.fields("level", "policy_version") == {"level": 1}
    assert replace(chunk, quarantined=1).fields("quarantined") == {"quarantined": 1}
    with pytest.raises(ValueError, match="not chunk fields"):
        chunk.fields("source")


def test_when_a_version_is_read_for_bookkeeping_then_malformed_payloads_still_answer() -> None:
    assert payload_version(CURRENT) == "v" * 16
    assert payload_version({"version": 3, "level": "x"}) is None
    assert payload_version({}) is None


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"text": "abc", "spans": []},  # no source
        {"text": "abc", "spans": [], "source": "a", "path": "/etc"},  # unknown field
        {"text": 3, "spans": [], "source": "a"},
        {"text": "abc", "spans": [["PERSON", 0, 4, 0.9]], "source": "a"},  # past the end
        {"text": "abc", "spans": [["PERSON", 2, 1, 0.9]], "source": "a"},  # inverted
        {"text": "abc", "spans": [["PERSON", "0", 1, 0.9]], "source": "a"},
        {"text": "abc", "spans": [["PERSON", 0, 1]], "source": "a"},
        {"text": "abc", "spans": [], "source": "a", "start": -1},
        {"text": "abc", "spans": [], "source": "a", "acl_level": 2},
    ],
)
def test_when_a_sealed_plaintext_is_malformed_then_it_is_refused_whole(body: object) -> None:
    with pytest.raises(ValueError, match="sealed chunk"):
        SealedChunk.from_bytes(json.dumps(body).encode())
