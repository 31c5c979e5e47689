"""Known answers: NIST GCM and RFC 5869 through our primitive layer; a pinned v1 blob.

The GCM cases are NIST CAVP's (``gcmEncryptExtIV256.rsp``, ``gcmDecrypt256.rsp``)
as shipped by ``cryptography_vectors``, restricted to the parameters sealing
uses: 256-bit key, 96-bit IV, 128-bit tag. They go through
``store._sealing._aes_gcm_encrypt`` / ``_aes_gcm_decrypt`` and ``_hkdf``, the
functions ``seal_chunk`` and ``open_chunk`` call, not through ``cryptography``
directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import cryptography_vectors
import pytest
import ragseal.store._sealing as sealing
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from ragseal.store import FORMAT_V1, Labels, open_chunk, seal_chunk

_GCM = "ciphers/AES/GCM/"


@dataclass(frozen=True)
class GcmCase:
    name: str
    key: bytes
    iv: bytes
    pt: bytes | None  # None: the vector is a FAIL case (tag must not verify)
    aad: bytes
    ct: bytes
    tag: bytes


def _load_gcm(filename: str) -> list[GcmCase]:
    """Parse a CAVP ``.rsp`` file; keep 256-bit key, 96-bit IV, 128-bit tag cases."""
    cases: list[GcmCase] = []
    params: dict[str, str] = {}
    record: dict[str, str] = {}

    def flush() -> None:
        if not record:
            return
        if (params.get("Keylen"), params.get("IVlen"), params.get("Taglen")) == (
            "256", "96", "128"
        ):
            cases.append(GcmCase(
                name=f"{filename}:PT{params['PTlen']}:AAD{params['AADlen']}:#{record['Count']}",
                key=bytes.fromhex(record["Key"]),
                iv=bytes.fromhex(record["IV"]),
                pt=None if "FAIL" in record else bytes.fromhex(record["PT"]),
                aad=bytes.fromhex(record["AAD"]),
                ct=bytes.fromhex(record["CT"]),
                tag=bytes.fromhex(record["Tag"]),
            ))
        record.clear()

    with cryptography_vectors.open_vector_file(_GCM + filename, "r") as fh:
        for raw in fh:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                flush()
                name, _, value = line.strip("[]").partition("=")
                params[name.strip()] = value.strip()
            elif line == "FAIL":
                record["FAIL"] = ""
            else:
                name, _, value = line.partition("=")
                if name.strip() == "Count":
                    flush()
                record[name.strip()] = value.strip()
        flush()
    return cases


ENCRYPT = _load_gcm("gcmEncryptExtIV256.rsp")
DECRYPT = _load_gcm("gcmDecrypt256.rsp")


def test_when_vector_files_parsed_then_every_sealing_sized_case_is_there() -> None:
    # 5 plaintext lengths x 5 AAD lengths x 15 cases per file; a parser that
    # silently dropped cases would make the tests below prove nothing.
    assert len(ENCRYPT) == 375 and len(DECRYPT) == 375
    assert all(c.pt is not None for c in ENCRYPT)
    fails = [c for c in DECRYPT if c.pt is None]
    assert 0 < len(fails) < len(DECRYPT)
    assert any(c.pt and c.aad for c in ENCRYPT)  # both plaintext and AAD exercised


@pytest.mark.parametrize("case", ENCRYPT, ids=lambda c: c.name)
def test_when_nist_encrypt_vector_then_wrapper_gives_ct_and_tag(case: GcmCase) -> None:
    assert case.pt is not None
    assert sealing._aes_gcm_encrypt(case.key, case.iv, case.pt, case.aad) == case.ct + case.tag
    assert sealing._aes_gcm_decrypt(case.key, case.iv, case.ct + case.tag, case.aad) == case.pt


@pytest.mark.parametrize("case", DECRYPT, ids=lambda c: c.name)
def test_when_nist_decrypt_vector_then_wrapper_opens_or_rejects(case: GcmCase) -> None:
    if case.pt is None:
        with pytest.raises(InvalidTag):
            sealing._aes_gcm_decrypt(case.key, case.iv, case.ct + case.tag, case.aad)
    else:
        assert sealing._aes_gcm_decrypt(case.key, case.iv, case.ct + case.tag, case.aad) == case.pt


# RFC 5869 appendix A.1-A.3 (HKDF-SHA256). Case 3 has an empty salt, which
# HKDF treats as HashLen zero bytes, the same as sealing's ``salt=None``.
_RFC5869 = [
    pytest.param(
        "0b" * 22,
        "000102030405060708090a0b0c",
        "f0f1f2f3f4f5f6f7f8f9",
        42,
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        "34007208d5b887185865",
        id="A.1-basic",
    ),
    pytest.param(
        bytes(range(0x00, 0x50)).hex(),
        bytes(range(0x60, 0xB0)).hex(),
        bytes(range(0xB0, 0x100)).hex(),
        82,
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
        "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
        "cc30c58179ec3e87c14c01d5c1f3434f1d87",
        id="A.2-long",
    ),
    pytest.param(
        "0b" * 22,
        "",
        "",
        42,
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
        "9d201395faa4b61a96c8",
        id="A.3-empty-salt-and-info",
    ),
]


@pytest.mark.parametrize(("ikm", "salt", "info", "length", "okm"), _RFC5869)
def test_when_rfc5869_case_then_hkdf_gives_okm(
    ikm: str, salt: str, info: str, length: int, okm: str
) -> None:
    out = sealing._hkdf(bytes.fromhex(ikm), bytes.fromhex(info), bytes.fromhex(salt), length)
    assert out.hex() == okm


def test_when_salt_is_none_then_hkdf_matches_rfc5869_empty_salt() -> None:
    # Sealing calls _hkdf with no salt; A.3 pins that path too.
    out = sealing._hkdf(bytes.fromhex("0b" * 22), b"", None, 42)
    assert out.hex().startswith("8da4e775a563c18f715f802a063c5a31")


def test_when_rfc5869_file_read_then_hard_coded_cases_agree() -> None:
    # The hard-coded table above, checked against the RFC text shipped by
    # cryptography_vectors, so a typo in it cannot pass as a known answer.
    with cryptography_vectors.open_vector_file("KDF/rfc-5869-HKDF-SHA256.txt", "r") as fh:
        shipped = [line.split("=", 1)[1].strip() for line in fh if line.startswith("OKM")]
    assert shipped == [p.values[4] for p in _RFC5869]


# -- our format -----------------------------------------------------------

KAT_KEY = bytes(range(32))
KAT_NONCE = bytes.fromhex("cafebabefacedbaddecaf888")
KAT_LABELS = Labels(
    tenant="acme",
    doc_id="doc-kat",
    chunk_id="00000000-0000-4000-8000-000000000001",
    level="confidential",
    groups=("hr", "all-staff"),
    users=("ceo@acme.example",),
)
KAT_PLAINTEXT = b"known answer: the payroll runs on the 25th"
# Sealed by format v1 as first written; if this changes, old chunks no longer
# open: bump the version byte instead (docs/FORMAT.md).
KAT_BLOB = bytes.fromhex(
    "01"  # version
    "cafebabefacedbaddecaf888"  # nonce
    "cb044f247b15d270fc2e1e58f76e9e000ab52dd28b8860b642ee766c07b2f132"  # commitment
    "a329318e46eac3d753808ba1c597766aa7ab7b9f7a6669f6c7b4f45ff3ba8cb4"  # ciphertext...
    "cb0fbda20a7796991b15"
    "cf2d966ac54ec6a006254ea49bd5ac4a"  # tag
)


def _fixed_nonce(n: int) -> bytes:
    assert n == len(KAT_NONCE)
    return KAT_NONCE


def test_when_sealed_with_fixed_nonce_then_blob_equals_pinned_v1_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("ragseal.store._sealing.os.urandom", _fixed_nonce)
    assert seal_chunk(KAT_KEY, KAT_LABELS, KAT_PLAINTEXT).hex() == KAT_BLOB.hex()


def test_when_pinned_v1_blob_opened_then_plaintext_comes_back() -> None:
    assert open_chunk(KAT_KEY, KAT_LABELS, KAT_BLOB) == KAT_PLAINTEXT


def test_when_blob_rebuilt_from_format_doc_then_it_equals_pinned_bytes() -> None:
    # docs/FORMAT.md re-implemented with cryptography directly, so the doc,
    # not only the code, is what the pinned bytes pin.
    def hkdf(key: bytes, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)

    chunk_key = hkdf(KAT_KEY, b"ragseal/v1/chunk\x00" + KAT_LABELS.chunk_id.encode())
    aad = json.dumps(
        {"v": 1, "tenant": "acme", "doc_id": "doc-kat", "chunk_id": KAT_LABELS.chunk_id,
         "level": "confidential", "groups": ["all-staff", "hr"], "users": ["ceo@acme.example"]},
        sort_keys=True, separators=(",", ":"), ensure_ascii=True,
    ).encode()
    assert KAT_LABELS.aad() == aad
    blob = (
        bytes([FORMAT_V1])
        + KAT_NONCE
        + hkdf(chunk_key, b"ragseal/v1/commit")
        + AESGCM(hkdf(chunk_key, b"ragseal/v1/enc")).encrypt(KAT_NONCE, KAT_PLAINTEXT, aad)
    )
    assert blob == KAT_BLOB
    assert len(blob) == 1 + 12 + 32 + len(KAT_PLAINTEXT) + 16
