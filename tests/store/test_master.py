"""The master key's text form: base64 of 32 bytes, either RFC 4648 alphabet, never mixed."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from ragseal.store import KeyringError, LocalKeyring, decode_master_key

# Bytes whose standard encoding holds both '+' and '/', so the two alphabets differ.
KEY = bytes([0xFB, 0xEF, 0xFF] * 10 + [0xFB, 0xEF])
STANDARD = base64.b64encode(KEY).decode()
URLSAFE = base64.urlsafe_b64encode(KEY).decode()


def test_when_the_key_uses_either_alphabet_then_both_give_the_same_bytes() -> None:
    assert "+" in STANDARD and "/" in STANDARD and "-" in URLSAFE and "_" in URLSAFE
    assert decode_master_key(STANDARD) == decode_master_key(URLSAFE) == KEY
    assert decode_master_key(f"  {STANDARD[:20]}\n{STANDARD[20:]}\n") == KEY  # wrapped, newline


@pytest.mark.parametrize(
    "text",
    [
        STANDARD.replace("/", "_", 1),  # the two alphabets mixed
        URLSAFE.replace("_", "/", 1),
        STANDARD.rstrip("="),  # padding missing
        URLSAFE.rstrip("="),
        base64.b64encode(KEY[:31]).decode(),  # too short
        base64.b64encode(KEY + b"x").decode(),  # too long
        STANDARD[:-1] + "!",
        "",
    ],
)
def test_when_the_key_is_not_base64_of_32_bytes_then_it_is_refused_without_echo(
    text: str,
) -> None:
    with pytest.raises(ValueError) as caught:
        decode_master_key(text)
    assert str(caught.value) == "must be base64 of exactly 32 bytes"


def test_when_master_key_file_is_urlsafe_then_the_keyring_reads_it_as_the_setting(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o700)
    fd = os.open(folder / "master.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(URLSAFE + "\n")
    from_file = LocalKeyring(folder)
    secret = from_file.secret("ids")
    from_file.close()
    # RAGSEAL_MASTER_KEY decodes to the same bytes: the same keyring opens.
    from_setting = LocalKeyring(folder, master_key=decode_master_key(STANDARD))
    assert from_setting.secret("ids") == secret
    from_setting.close()
    (folder / "master.key").write_text(STANDARD.replace("/", "_", 1) + "\n", encoding="ascii")
    with pytest.raises(KeyringError, match="base64 of 32 bytes"):
        LocalKeyring(folder)
