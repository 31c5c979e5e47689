"""Tamper evidence: every bit, every region, every label, every swap fails to open.

Regions of a v1 blob (docs/FORMAT.md): version (1 byte), nonce (12),
commitment (32), ciphertext (n), tag (16). A change to any of them, or to
any label bound as associated data, must raise the one opaque SealError.
"""

# ruff: noqa: S311  (seeded test data, not secrets)

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ragseal.store import Labels, SealError, open_chunk, seal_chunk

_NONCE, _COMMIT, _TAG = slice(1, 13), slice(13, 45), 16
REGIONS = ("version", "nonce", "commitment", "ciphertext", "tag")
LABEL_FIELDS = ("tenant", "doc_id", "chunk_id", "level", "groups", "users")

KEY = bytes(range(32))
LABELS = Labels("acme", "doc-1", "3f1c2d4e-0000-4000-8000-000000000001", "internal",
                ("all-staff", "hr"), ("ceo@acme.example",))
OTHER = replace(LABELS, chunk_id="3f1c2d4e-0000-4000-8000-000000000002")


def _regions(blob: bytes) -> dict[str, range]:
    return {
        "version": range(0, 1),
        "nonce": range(_NONCE.start, _NONCE.stop),
        "commitment": range(_COMMIT.start, _COMMIT.stop),
        "ciphertext": range(_COMMIT.stop, len(blob) - _TAG),
        "tag": range(len(blob) - _TAG, len(blob)),
    }


def _flip(blob: bytes, bit: int) -> bytes:
    out = bytearray(blob)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _fails(key: bytes, labels: Labels, blob: bytes) -> bool:
    try:
        open_chunk(key, labels, blob)
    except SealError:
        return True
    return False


# -- exhaustive, one small chunk ---------------------------------------------

def test_when_any_single_bit_of_a_small_chunk_flipped_then_open_fails() -> None:
    blob = seal_chunk(KEY, LABELS, b"payroll")
    survivors = [bit for bit in range(len(blob) * 8) if not _fails(KEY, LABELS, _flip(blob, bit))]
    assert survivors == []
    assert len(blob) * 8 == (1 + 12 + 32 + 7 + 16) * 8


def test_when_truncated_or_extended_then_open_fails() -> None:
    blob = seal_chunk(KEY, LABELS, b"payroll")
    assert all(_fails(KEY, LABELS, blob[:n]) for n in range(len(blob)))
    assert _fails(KEY, LABELS, blob + b"\x00")
    assert _fails(KEY, LABELS, blob[:-_TAG])  # tag stripped


# -- swaps between two chunks of the same document (same data key) ----------

def _swaps() -> list[object]:
    a, b = seal_chunk(KEY, LABELS, b"chunk a: salaries"), seal_chunk(KEY, OTHER, b"chunk b: bonus")
    ct_a, ct_b = a[_COMMIT.stop:-_TAG], b[_COMMIT.stop:-_TAG]
    tag_a, tag_b = a[-_TAG:], b[-_TAG:]
    assert len(ct_a) != len(ct_b) or ct_a != ct_b
    cases = [
        ("nonce", a[:1] + b[_NONCE] + a[_NONCE.stop:], LABELS),
        ("commitment", a[:_COMMIT.start] + b[_COMMIT] + a[_COMMIT.stop:], LABELS),
        ("ciphertext-and-tag", a[:_COMMIT.stop] + b[_COMMIT.stop:], LABELS),
        ("ciphertext-only", a[:_COMMIT.stop] + ct_b + tag_a, LABELS),
        ("tag-only", a[:-_TAG] + tag_b, LABELS),
        ("all-but-commitment", b[:_COMMIT.start] + a[_COMMIT] + b[_COMMIT.stop:], LABELS),
        ("whole-blob", b, LABELS),
        ("labels", a, OTHER),
        ("labels-and-commitment", a[:_COMMIT.start] + b[_COMMIT] + a[_COMMIT.stop:], OTHER),
    ]
    return [pytest.param(blob, labels, id=what) for what, blob, labels in cases]


@pytest.mark.parametrize(("blob", "labels"), _swaps())
def test_when_parts_swapped_between_chunks_of_one_document_then_open_fails(
    blob: bytes, labels: Labels
) -> None:
    with pytest.raises(SealError):
        open_chunk(KEY, labels, blob)


def test_when_chunk_moved_to_another_document_then_open_fails() -> None:
    # Same chunk id and labels, another document's key: the commitment refuses
    # it, and borrowing that document's commitment does not help either.
    other_key = bytes(range(1, 33))
    a, b = seal_chunk(KEY, LABELS, b"chunk a"), seal_chunk(other_key, LABELS, b"chunk b")
    assert a[_COMMIT] != b[_COMMIT]
    with pytest.raises(SealError):
        open_chunk(other_key, LABELS, a)
    with pytest.raises(SealError):
        open_chunk(other_key, LABELS, a[:_COMMIT.start] + b[_COMMIT] + a[_COMMIT.stop:])


# -- properties ----------------------------------------------------------------

_label_text = st.text(max_size=24)  # full unicode, surrogates excluded
_labels = st.builds(
    Labels,
    tenant=_label_text,
    doc_id=_label_text,
    chunk_id=_label_text,
    level=_label_text,
    groups=st.lists(_label_text, max_size=5).map(tuple),
    users=st.lists(_label_text, max_size=5).map(tuple),
)


@given(labels=_labels, plaintext=st.binary(max_size=700), key=st.binary(min_size=32, max_size=32))
@settings(max_examples=200, deadline=None)
def test_when_labels_are_arbitrary_unicode_then_round_trips(
    labels: Labels, plaintext: bytes, key: bytes
) -> None:
    assert open_chunk(key, labels, seal_chunk(key, labels, plaintext)) == plaintext


@given(labels=_labels, plaintext=st.binary(max_size=300), data=st.data())
@settings(max_examples=300, deadline=None)
def test_when_any_single_byte_changed_then_open_fails(
    labels: Labels, plaintext: bytes, data: st.DataObject
) -> None:
    blob = bytearray(seal_chunk(KEY, labels, plaintext))
    index = data.draw(st.integers(0, len(blob) - 1), label="index")
    blob[index] ^= data.draw(st.integers(1, 255), label="xor")
    with pytest.raises(SealError):
        open_chunk(KEY, labels, bytes(blob))


@given(labels=_labels, field=st.sampled_from(LABEL_FIELDS), data=st.data())
@settings(max_examples=300, deadline=None)
def test_when_any_label_changed_then_open_fails(
    labels: Labels, field: str, data: st.DataObject
) -> None:
    if field in ("groups", "users"):
        new: object = tuple(data.draw(st.lists(_label_text, max_size=5), label=field))
    else:
        new = data.draw(_label_text, label=field)
    changed = replace(labels, **{field: new})  # type: ignore[arg-type]
    # Only reordering groups or users leaves the labels equal, by design.
    if changed.aad() == labels.aad():
        return
    blob = seal_chunk(KEY, labels, b"secret")
    with pytest.raises(SealError):
        open_chunk(KEY, changed, blob)


# -- the slow sweep ------------------------------------------------------------

_ALPHABET = "abcxyz019-_.@ éßøłçñ中文字한국어ひらがなДжשלוםعربي\u0301\u200d🙂🔐"
CHUNKS = 1000
CHUNKS_PER_DOCUMENT = 10


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 16)))


def _random_labels(rng: random.Random, tenant: str, doc_id: str) -> Labels:
    return Labels(
        tenant=tenant,
        doc_id=doc_id,
        chunk_id=_word(rng),
        level=rng.choice(["public", "internal", "confidential", "restricted", _word(rng)]),
        groups=tuple(_word(rng) for _ in range(rng.randint(0, 4))),
        users=tuple(_word(rng) for _ in range(rng.randint(0, 3))),
    )


def _mutated(rng: random.Random, labels: Labels, field: str) -> Labels:
    """``labels`` with ``field`` changed so that the associated data differs."""
    while True:
        value: object
        if field in ("groups", "users"):
            current = list(getattr(labels, field))
            op = rng.choice(["add", "drop", "replace"] if current else ["add"])
            if op == "add":
                current.append(_word(rng))
            elif op == "drop":
                current.pop(rng.randrange(len(current)))
            else:
                current[rng.randrange(len(current))] = _word(rng)
            value = tuple(current)
        else:
            value = _word(rng)
        changed = replace(labels, **{field: value})  # type: ignore[arg-type]
        if changed.aad() != labels.aad():
            return changed


@pytest.mark.slow
def test_when_many_chunks_tampered_in_every_region_and_label_then_none_opens() -> None:
    rng = random.Random(20240604)
    tampered = 0
    seen_regions = dict.fromkeys(REGIONS, 0)
    previous: tuple[bytes, Labels] | None = None
    for n in range(CHUNKS):
        if n % CHUNKS_PER_DOCUMENT == 0:
            key, tenant, doc_id, previous = rng.randbytes(32), _word(rng), _word(rng), None
        labels = _random_labels(rng, tenant, doc_id)
        plaintext = rng.randbytes(rng.randint(0, 600))
        blob = seal_chunk(key, labels, plaintext)
        assert open_chunk(key, labels, blob) == plaintext

        # Every byte in turn, one random bit of it: 300+ opens per chunk.
        for region, positions in _regions(blob).items():
            for byte in positions:
                assert _fails(key, labels, _flip(blob, byte * 8 + rng.randrange(8))), (n, region)
            seen_regions[region] += len(positions) > 0
            tampered += len(positions)
        for field in LABEL_FIELDS:
            assert _fails(key, _mutated(rng, labels, field), blob), (n, field)
            tampered += 1
        if previous is not None:  # another chunk of the same document
            other_blob, other_labels = previous
            assert _fails(key, other_labels, blob) and _fails(key, labels, other_blob), n
            tampered += 2
        previous = (blob, labels)

    assert CHUNKS >= 1000
    assert min(seen_regions.values()) >= CHUNKS * 0.99  # ciphertext skips empty plaintexts
    assert tampered >= CHUNKS * (1 + 12 + 32 + 16 + len(LABEL_FIELDS))
