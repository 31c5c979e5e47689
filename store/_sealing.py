"""Sealing a chunk: AES-256-GCM under a per-chunk key, labels bound as AAD.

Format v1 (``docs/FORMAT.md``)::

    byte 0        format version (0x01)
    bytes 1..12   random 96-bit GCM nonce
    bytes 13..44  key commitment (32 bytes)
    bytes 45..    AES-256-GCM ciphertext || 16-byte tag

Keys: ``chunk_key = HKDF-SHA256(data_key, info="ragseal/v1/chunk" || chunk_id)``;
from it, ``enc_key`` and ``commitment`` are derived with two more HKDF
labels. GCM is not key-committing, so the commitment is checked (in
constant time) before decrypting, as the AWS Encryption SDK 2.x does: a
ciphertext can only ever open under the one key that made it.

The associated data is the format version and the chunk's labels (tenant,
doc id, chunk id, level, groups, users) in a canonical encoding, so a label
edited in the database makes the chunk fail to open.

Every failure to open raises :class:`SealError` with no detail.
"""

from __future__ import annotations

import hmac
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ragseal import RagsealError

__all__ = ["FORMAT_V1", "Labels", "SealError", "open_chunk", "seal_chunk"]

FORMAT_V1 = 1
_NONCE = 12
_COMMIT = 32
_HEADER = 1 + _NONCE + _COMMIT
_TAG = 16
KEY_BYTES = 32


class SealError(RagsealError):
    """A sealed chunk could not be opened. Deliberately carries no detail."""

    def __init__(self) -> None:
        super().__init__("sealed chunk could not be opened")


@dataclass(frozen=True, slots=True)
class Labels:
    """The labels a chunk is stored and filtered under, bound into its seal."""

    tenant: str
    doc_id: str
    chunk_id: str
    level: str
    groups: tuple[str, ...]
    users: tuple[str, ...]

    def aad(self, version: int = FORMAT_V1) -> bytes:
        body = {
            "v": version,
            "tenant": self.tenant,
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "level": self.level,
            "groups": sorted(self.groups),
            "users": sorted(self.users),
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


# The primitive layer, kept apart so tests/store/test_vectors.py can run the
# NIST GCM and RFC 5869 known answers through exactly what sealing calls.
def _hkdf(key: bytes, info: bytes, salt: bytes | None = None, length: int = KEY_BYTES) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(key)


def _aes_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-GCM, 128-bit tag: returns ``ciphertext || tag``."""
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def _aes_gcm_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    """Inverse of :func:`_aes_gcm_encrypt`; raises ``InvalidTag`` on any mismatch."""
    return AESGCM(key).decrypt(nonce, ciphertext, aad)


def _chunk_keys(data_key: bytes, chunk_id: str) -> tuple[bytes, bytes]:
    if len(data_key) != KEY_BYTES:
        raise ValueError("data key must be 32 bytes")
    chunk_key = _hkdf(data_key, b"ragseal/v1/chunk\x00" + chunk_id.encode())
    return _hkdf(chunk_key, b"ragseal/v1/enc"), _hkdf(chunk_key, b"ragseal/v1/commit")


def seal_chunk(data_key: bytes, labels: Labels, plaintext: bytes) -> bytes:
    """Encrypt ``plaintext`` for the chunk named by ``labels``."""
    enc_key, commitment = _chunk_keys(data_key, labels.chunk_id)
    nonce = os.urandom(_NONCE)
    ciphertext = _aes_gcm_encrypt(enc_key, nonce, plaintext, labels.aad(FORMAT_V1))
    return bytes([FORMAT_V1]) + nonce + commitment + ciphertext


def open_chunk(data_key: bytes, labels: Labels, blob: bytes) -> bytes:
    """Decrypt a sealed chunk; :class:`SealError` on any mismatch."""
    try:
        if len(blob) < _HEADER + _TAG or blob[0] != FORMAT_V1:
            raise SealError
        nonce, commitment = blob[1 : 1 + _NONCE], blob[1 + _NONCE : _HEADER]
        enc_key, expected = _chunk_keys(data_key, labels.chunk_id)
        if not hmac.compare_digest(commitment, expected):
            raise SealError
        return _aes_gcm_decrypt(enc_key, nonce, blob[_HEADER:], labels.aad(FORMAT_V1))
    except (SealError, InvalidTag, ValueError, TypeError):
        raise SealError from None
