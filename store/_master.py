"""The master key's text form, read one way wherever it comes from.

``RAGSEAL_MASTER_KEY`` and the keyring's ``master.key`` file hold the
32-byte master key as base64 (docs/KEYS.md): the standard alphabet
(``+`` ``/``, RFC 4648 section 4) or the URL- and filename-safe one (``-``
``_``, section 5), with its ``=`` padding, white space (a trailing newline,
a wrapped line) ignored. One string must use one alphabet: a mix of ``+``
and ``_`` is refused, not guessed at.
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = ["MASTER_KEY_BYTES", "decode_master_key"]

MASTER_KEY_BYTES = 32

_STANDARD = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_URLSAFE = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def decode_master_key(text: str) -> bytes:
    """The 32 bytes ``text`` encodes.

    Raises:
        ValueError: not base64 of exactly 32 bytes in one of the two
            alphabets; the message never holds the text.
    """
    compact = "".join(text.split())
    try:
        if _STANDARD.fullmatch(compact):
            key = base64.b64decode(compact, validate=True)
        elif _URLSAFE.fullmatch(compact):
            key = base64.urlsafe_b64decode(compact.encode("ascii"))
        else:
            raise ValueError
    except (binascii.Error, ValueError):
        raise ValueError("must be base64 of exactly 32 bytes") from None
    if len(key) != MASTER_KEY_BYTES:
        raise ValueError("must be base64 of exactly 32 bytes")
    return key
