"""Chunking: spans into the text, full coverage, and every chunk fits the model window."""

from __future__ import annotations

import random
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ragseal.ingest._chunking import Chunker

WINDOW = 256


@pytest.fixture(scope="module")
def chunker() -> Chunker:
    chunker = Chunker()
    chunker.warm_up()
    return chunker


@pytest.fixture(scope="module")
def small() -> Chunker:
    """Small limits, so that short generated texts exercise every path."""
    chunker = Chunker(chunk_size=24, overlap=4, max_tokens=32, max_chars=200)
    chunker.warm_up()
    return chunker


def prose(paragraphs: int, seed: int = 7) -> str:
    words = (
        "the contract between Jane Doe and Acme was signed in Berlin on Monday after "
        "long talks about salary bonus and pension terms for staff"
    ).split()
    rng = random.Random(seed)  # noqa: S311 - reproducible test text
    return "\n\n".join(
        " ".join(
            " ".join(rng.choice(words) for _ in range(rng.randint(4, 25))) + "."
            for _ in range(rng.randint(1, 6))
        )
        for _ in range(paragraphs)
    )


def check(chunker: Chunker, text: str, spans: list[tuple[int, int]]) -> None:
    """The contract of ``split``: ordered, trimmed, covering, fitting."""
    covered = bytearray(len(text))
    previous = (-1, -1)
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        assert (start, end) > previous
        previous = (start, end)
        chunk = text[start:end]
        assert chunk == chunk.strip()
        assert chunker.token_count(chunk) <= chunker.max_tokens
        assert len(chunk) <= chunker.max_chars
        covered[start:end] = b"\x01" * (end - start)
    missing = [i for i, c in enumerate(text) if not covered[i] and not c.isspace()]
    assert missing == []


# -- behaviour -------------------------------------------------------------------------


def test_when_text_is_prose_then_chunks_cover_it_in_order_and_fit_the_window(
    chunker: Chunker,
) -> None:
    text = prose(60)
    spans = chunker.split(text)
    check(chunker, text, spans)
    assert len(spans) > 3
    assert max(chunker.token_count(text[s:e]) for s, e in spans) <= WINDOW


def test_when_text_is_long_then_consecutive_chunks_overlap(chunker: Chunker) -> None:
    text = prose(60)
    spans = chunker.split(text)
    assert any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))


def test_when_chunk_ends_then_it_prefers_a_sentence_boundary(chunker: Chunker) -> None:
    text = prose(60)
    ends = [text[s:e][-1] for s, e in chunker.split(text)]
    assert sum(end == "." for end in ends) >= len(ends) - 1


@pytest.mark.parametrize("text", ["", " ", "\n\n\t  \n"])
def test_when_text_is_blank_then_there_are_no_chunks(chunker: Chunker, text: str) -> None:
    assert chunker.split(text) == []


def test_when_text_is_short_then_one_trimmed_chunk(chunker: Chunker) -> None:
    text = "  \n Hello there, Jane.  \n"
    assert [text[s:e] for s, e in chunker.split(text)] == ["Hello there, Jane."]


GIANT_LINES: dict[str, str] = {
    "digits and commas": ",".join(str(n) for n in range(4000)),
    "cjk without spaces": "中文字符测试" * 700,
    "punctuation": "a.b;c," * 1500,
    "emoji": "😀🙂" * 1500,
    "one huge word": "x" * 20000,
    "hex run": "deadbeef" * 3000,
    "accents": "éàü" * 3000,
    "mixed base64": "QUJD+/ZXlK9=" * 1500,
}


@pytest.mark.parametrize("name", sorted(GIANT_LINES))
def test_when_a_line_is_token_dense_or_endless_then_it_is_cut_to_fit(
    chunker: Chunker, name: str
) -> None:
    text = GIANT_LINES[name]
    check(chunker, text, chunker.split(text))


def test_when_text_repeats_periodically_then_offsets_still_align(chunker: Chunker) -> None:
    text = "word " * 5000
    spans = chunker.split(text)
    check(chunker, text, spans)
    assert len(spans) < 40  # aligned with the splitter's chunks, not cut into windows


def test_when_the_splitter_normalises_whitespace_then_spans_are_still_found(
    chunker: Chunker, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "First  line\nof text.\n\n\nSecond\tparagraph   here.\r\nThird one."
    pieces = ["First line of text.", "Second paragraph here. Third one."]
    monkeypatch.setattr(chunker, "_pieces", lambda _text: pieces)
    spans = chunker.split(text)
    check(chunker, text, spans)
    assert [" ".join(text[s:e].split()) for s, e in spans] == pieces


def test_when_the_splitter_output_cannot_be_aligned_then_token_windows_take_over(
    chunker: Chunker, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = prose(30)
    monkeypatch.setattr(chunker, "_pieces", lambda _text: ["text that is not there"])
    check(chunker, text, chunker.split(text))


def test_when_the_splitter_drops_the_tail_then_the_tail_is_still_covered(
    chunker: Chunker, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = prose(30)
    monkeypatch.setattr(chunker, "_pieces", lambda t: [t[:500].strip()])
    check(chunker, text, chunker.split(text))


def test_when_counting_tokens_then_special_tokens_are_included_and_nothing_is_padded(
    chunker: Chunker,
) -> None:
    # tokenizer.json ships padding and truncation at 128 (the trap in OFFLINE.md)
    assert chunker.token_count("hello world") == 4
    assert chunker.token_count("hello world", special_tokens=False) == 2
    assert chunker.token_count("word " * 1000) == 1002


def test_when_global_llama_index_settings_are_set_then_they_are_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from llama_index.core import Settings

    def exploding(_text: str) -> list[int]:
        raise AssertionError("global Settings tokenizer used")

    monkeypatch.setattr(Settings, "_tokenizer", exploding)
    chunker = Chunker()
    text = prose(20)
    check(chunker, text, chunker.split(text))


def test_when_network_is_unreachable_then_chunker_loads_and_splits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    chunker = Chunker()
    text = prose(20)
    check(chunker, text, chunker.split(text))
    assert attempts == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"chunk_size": 0}, "chunk_size"),
        ({"chunk_size": 255}, "chunk_size"),
        ({"overlap": -1}, "overlap"),
        ({"chunk_size": 10, "overlap": 10}, "overlap"),
        ({"max_chars": 5}, "max_chars"),
    ],
)
def test_when_limits_are_inconsistent_then_construction_fails(
    kwargs: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Chunker(**kwargs)  # type: ignore[arg-type]


def test_when_shown_then_repr_names_limits_only() -> None:
    assert repr(Chunker()) == "Chunker(chunk_size=240, overlap=24, max_tokens=256, max_chars=4096)"


# -- properties --------------------------------------------------------------------------

WORDS = st.sampled_from(
    ["Jane", "Doe", "salary", "the", "and", "Müller", "naïve", "über", "ACME-42", "e.g.", "Dr."]
)
NUMBERS = st.integers(min_value=0, max_value=10**40).map(str)
UNICODE = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=60)
NO_SPACES = st.text(
    st.characters(blacklist_categories=["Cs", "Zs", "Zl", "Zp", "Cc"]), min_size=1, max_size=400
)
SEPARATORS = st.sampled_from([" ", " ", " ", "\n", "\n\n", "\n\n\n", ". ", ", ", "\t", ""])


def texts(max_parts: int, min_parts: int = 0) -> st.SearchStrategy[str]:
    part = st.one_of(WORDS, WORDS, WORDS, NUMBERS, UNICODE, NO_SPACES)
    pairs = st.lists(st.tuples(part, SEPARATORS), min_size=min_parts, max_size=max_parts)
    return pairs.map(lambda parts: "".join(p + s for p, s in parts))


def repeated(strategy: st.SearchStrategy[str], times: int = 12) -> st.SearchStrategy[str]:
    return st.tuples(strategy, st.integers(1, times)).map(lambda t: t[0] * t[1])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(texts(60), texts(120, min_parts=30), repeated(texts(20))))
def test_property_small_limits_any_text_is_covered_and_fits(small: Chunker, text: str) -> None:
    check(small, text, small.split(text))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(texts(400, min_parts=100), repeated(texts(120, min_parts=40), 30)))
def test_property_default_limits_any_text_is_covered_and_fits_the_model_window(
    chunker: Chunker, text: str
) -> None:
    check(chunker, text, chunker.split(text))
