"""Checksums that tell an identifier from a number of the same shape.

Pattern recognizers (``_tuned``, steward rules with ``validator:``) call
these on a match; they hold no state and import nothing heavy.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["CHECKSUMS", "luhn_ok", "mod97_ok"]


def luhn_ok(value: str) -> bool:
    """Luhn checksum over the digits of ``value`` (at least 2 digits)."""
    digits = [int(c) for c in value if c.isdigit()]
    if len(digits) < 2:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mod97_ok(value: str) -> bool:
    """ISO 7064 mod-97 (IBAN): first four characters moved last, letters as 10..35."""
    chars = [c for c in value.upper() if c.isalnum()]
    if len(chars) < 5:
        return False
    moved = chars[4:] + chars[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


# The names a steward's ``recognizers[].validator`` may give (``_policy.Validator``).
CHECKSUMS: dict[str, Callable[[str], bool]] = {"luhn": luhn_ok, "mod97": mod97_ok}
