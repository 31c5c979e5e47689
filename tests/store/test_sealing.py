"""Sealing: round trip, every-byte tamper, swaps between chunks, opaque errors."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ragseal.store import FORMAT_V1, Labels, SealError, open_chunk, seal_chunk

KEY = bytes(range(32))
LABELS = Labels("acme", "doc-1", "3f1c2d4e-0000-4000-8000-000000000001", "internal",
                ("all-staff", "hr"), ("ceo@acme.example",))


def test_when_sealed_then_opens_with_same_key_and_labels() -> None:
    blob = seal_chunk(KEY, LABELS, b"hello world")
    assert blob[0] == FORMAT_V1
    assert open_chunk(KEY, LABELS, blob) == b"hello world"


def test_when_same_plaintext_sealed_twice_then_ciphertexts_differ() -> None:
    assert seal_chunk(KEY, LABELS, b"x") != seal_chunk(KEY, LABELS, b"x")


@given(key=st.binary(min_size=32, max_size=32), plaintext=st.binary(max_size=2048),
       tenant=st.text(min_size=1, max_size=20), groups=st.lists(st.text(max_size=10), max_size=4))
@settings(max_examples=60, deadline=None)
def test_when_any_input_sealed_then_round_trips(key: bytes, plaintext: bytes, tenant: str,
                                                groups: list[str]) -> None:
    labels = replace(LABELS, tenant=tenant, groups=tuple(groups))
    assert open_chunk(key, labels, seal_chunk(key, labels, plaintext)) == plaintext


def test_when_any_byte_flipped_then_open_fails() -> None:
    blob = seal_chunk(KEY, LABELS, b"the quarterly payroll run")
    for i in range(len(blob)):
        tampered = bytearray(blob)
        tampered[i] ^= 0x01
        with pytest.raises(SealError):
            open_chunk(KEY, LABELS, bytes(tampered))


@pytest.mark.parametrize(
    "changed",
    [
        {"tenant": "globex"},
        {"doc_id": "doc-2"},
        {"chunk_id": "3f1c2d4e-0000-4000-8000-000000000002"},
        {"level": "public"},
        {"groups": ("all-staff",)},
        {"groups": ("all-staff", "hr", "finance")},
        {"users": ()},
        {"users": ("mallory@acme.example",)},
    ],
    ids=lambda c: next(iter(c)),
)
def test_when_a_label_changes_then_open_fails(changed: dict[str, object]) -> None:
    blob = seal_chunk(KEY, LABELS, b"secret")
    with pytest.raises(SealError):
        open_chunk(KEY, replace(LABELS, **changed), blob)  # type: ignore[arg-type]


def test_when_group_order_differs_then_labels_are_equal_as_aad() -> None:
    blob = seal_chunk(KEY, LABELS, b"secret")
    assert open_chunk(KEY, replace(LABELS, groups=("hr", "all-staff")), blob) == b"secret"


def test_when_parts_swapped_between_two_chunks_then_neither_opens() -> None:
    other = replace(LABELS, chunk_id="3f1c2d4e-0000-4000-8000-000000000009")
    a, b = seal_chunk(KEY, LABELS, b"chunk a"), seal_chunk(KEY, other, b"chunk b")
    header = 1 + 12 + 32
    swaps = [
        b,  # whole blob under the other chunk's labels
        a[:1] + b[1:13] + a[13:],  # nonce
        a[:13] + b[13:header] + a[header:],  # commitment
        a[:header] + b[header:],  # ciphertext
    ]
    for blob in swaps:
        with pytest.raises(SealError):
            open_chunk(KEY, LABELS, blob)


def test_when_wrong_key_then_commitment_fails_before_decrypting() -> None:
    blob = seal_chunk(KEY, LABELS, b"secret")
    with pytest.raises(SealError):
        open_chunk(os.urandom(32), LABELS, blob)


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x02" + bytes(80), bytes(44)])
def test_when_blob_malformed_or_unknown_version_then_open_fails(blob: bytes) -> None:
    with pytest.raises(SealError):
        open_chunk(KEY, LABELS, blob)


def test_when_open_fails_then_error_has_no_detail_and_no_cause() -> None:
    canary = b"CANARY-PLAINTEXT-7731"
    blob = bytearray(seal_chunk(KEY, LABELS, canary))
    blob[-1] ^= 0xFF
    with pytest.raises(SealError) as info:
        open_chunk(KEY, LABELS, bytes(blob))
    assert str(info.value) == "sealed chunk could not be opened"
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "CANARY" not in repr(info.value)


def test_when_a_sealed_chunk_has_its_relabel_fields_then_they_round_trip() -> None:
    from ragseal.store import SealedChunk

    chunk = SealedChunk("Jane Roe paid.", (("PERSON", 0, 8, 0.85),), "hr/pay.txt",
                        start=120, acl_level=None, has_floor=True)
    back = SealedChunk.from_bytes(chunk.to_bytes())
    assert back == chunk
    assert b'"acl_level":null' in chunk.to_bytes() and b'"start":120' in chunk.to_bytes()
    labelled = SealedChunk("x", (), "a.txt", start=0, acl_level="internal", has_floor=True)
    assert SealedChunk.from_bytes(labelled.to_bytes()).acl_level == "internal"
    assert "Jane" not in repr(back) and "hr/pay" not in repr(back)


def test_when_a_chunk_was_sealed_before_the_relabel_fields_then_it_still_reads() -> None:
    from ragseal.store import SealedChunk

    legacy = b'{"text":"Jane Roe paid.","spans":[["PERSON",0,8,0.85]],"source":"a.txt"}'
    chunk = SealedChunk.from_bytes(legacy)
    assert (chunk.start, chunk.acl_level, chunk.has_floor) == (None, None, False)
    assert chunk.to_bytes() == legacy  # written back exactly as it was
