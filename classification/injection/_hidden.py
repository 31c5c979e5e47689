"""Hidden-text signals: characters and encodings a human reader does not see.

Zero-width, bidi and Unicode tag characters, private-use code points, HTML
comments and long encoded runs (base64, binary, Morse, hex) that decode to
text. :func:`visible` is the text a reader sees, folded (NFKC) onto ASCII
look-alikes: the attack families are matched on it.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Callable

__all__ = ["HIDDEN_CHECKS", "visible"]

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u180e\u00ad]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_TAGS = re.compile("[\U000e0000-\U000e007f]")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_B64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])")
_BINARY = re.compile(r"(?<![01])(?:[01]{8}[ ]){11,}[01]{8}(?![01])")
_MORSE = re.compile(r"(?:(?<=\s)|^)(?:[.-]{1,6}[ ]+(?:/[ ]+)?){20,}", re.MULTILINE)
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :]?){24,}(?![0-9A-Fa-f])")


def _decodes_to_text(blob: str) -> bool:
    """A base64 run that decodes to mostly printable text (not a key or hash)."""
    try:
        raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(raw) < 24:
        return False
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in raw)
    return printable / len(raw) > 0.9


def _encoded(text: str) -> bool:
    if any(_decodes_to_text(m.group(0)) for m in _B64.finditer(text)):
        return True
    for m in _BINARY.finditer(text):
        raw = bytes(int(b, 2) for b in m.group(0).split())
        if sum(32 <= b < 127 for b in raw) / len(raw) > 0.9:
            return True
    if _MORSE.search(text):
        return True
    for m in _HEX.finditer(text):
        digits = re.sub(r"[ :]", "", m.group(0))
        raw = bytes.fromhex(digits[: len(digits) // 2 * 2])
        if raw and sum(32 <= b < 127 for b in raw) / len(raw) > 0.9:
            return True
    return False


def visible(text: str) -> str:
    """``text`` without invisible characters, NFKC-folded (full-width letters to ASCII)."""
    return unicodedata.normalize("NFKC", _TAGS.sub("", _ZERO_WIDTH.sub("", text)))


# Signal -> check over (raw text, visible text).
HIDDEN_CHECKS: dict[str, Callable[[str, str], bool]] = {
    "unicode_tags": lambda text, plain: bool(_TAGS.search(text)),
    "zero_width": lambda text, plain: bool(_ZERO_WIDTH.search(text)),
    "bidi_control": lambda text, plain: bool(_BIDI.search(text)),
    "private_use": lambda text, plain: bool(_PRIVATE_USE.search(text)),
    "html_comment": lambda text, plain: bool(_HTML_COMMENT.search(text)),
    "encoded_blob": lambda text, plain: _encoded(plain),
}
