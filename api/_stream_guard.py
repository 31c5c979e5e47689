"""Inspect a streamed answer without ever emitting what inspection would hide.

Why: an OpenAI-style stream shows the answer while it is generated, but
``/v1/inspect`` judges a whole text. Emitting tokens as they come would
show "123-45-" before "6789" turns it into an SSN finding. The guard keeps
the raw text received so far and emits only the **safe rendering of a
stable prefix**:

- every ``step`` new characters it inspects the whole text received; a
  ``block`` verdict cuts the stream (nothing more is emitted);
- the stable cut is ``hold`` characters before the end, moved back to a
  whitespace boundary, then before the start of any finding that reaches
  past it and of any construct still open there (a markdown ``[``/``![``
  without its ``)``, an HTML ``<`` without its ``>``, a ``-----BEGIN``
  block without its ``-----END``): what is held is exactly what could still
  grow into a finding;
- when the whole-text pass found nothing before the cut and nothing was
  masked so far, the prefix is emitted as is; otherwise that prefix is
  inspected on its own and its safe answer (masks in place) is what the
  caller sees; it must extend what was already emitted. If it
  does not — a finding reached back into emitted text, which the hold is
  sized to prevent for every bounded detector — the stream is cut (fail
  closed).

At the end the whole answer is inspected once more, exactly like a
non-streamed answer, and the rest of its safe rendering is emitted.

The one finding with unbounded reach is provenance (docs/INSPECT.md): three
shared shingles anywhere in the answer. When it fires late the stream is
cut with ``content_filter``; words emitted before the third shingle arrived
were, at that time, below the threshold that makes a finding.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ragseal.retrieval import InspectResult

__all__ = ["StreamGuard"]

_SPACE = re.compile(r"\s")
_PEM = re.compile(r"-----BEGIN")
_TAG = re.compile(r"<[A-Za-z/!?]")  # HTML, and ragseal's own masks (<PERSON_3f9a2b>)
_OPEN_LOOKBACK = 4096  # an unclosed construct older than this is prose, not markup


def _open_construct(window: str) -> int:
    """Where the last construct still open at the end of ``window`` starts; -1: none."""
    starts: list[int] = []
    pem = [m.start() for m in _PEM.finditer(window)]
    if pem and "-----END" not in window[pem[-1]:]:
        starts.append(pem[-1])
    tags = [m.start() for m in _TAG.finditer(window)]
    if tags and ">" not in window[tags[-1]:]:
        starts.append(tags[-1])
    bracket = window.rfind("[")
    if bracket >= 0:
        close = window.find("]", bracket)
        rest = window[close + 1:] if close >= 0 else ""
        # Open: no "]" yet; "]" last (a "(" may follow); or "](" without its ")".
        if close < 0 or not rest or (rest.startswith("(") and ")" not in rest):
            starts.append(bracket - 1 if bracket > 0 and window[bracket - 1] == "!" else bracket)
    return min(starts) if starts else -1


@dataclass
class StreamGuard:
    """Feed raw chunks in order; emit what :meth:`feed` and :meth:`finish` return.

    ``inspect`` judges a text for the caller (the principal and retrieval id
    bound in). A ``None`` return means "cut the stream": see ``verdict``.
    """

    inspect: Callable[[str], InspectResult]
    hold: int = 64
    min_step: int = 24

    def __post_init__(self) -> None:
        self.raw = ""
        self.emitted = ""
        self.cut_at = 0  # raw characters covered by ``emitted``
        self.inspected_len = 0
        self.verdict = "allow"
        self.inspections = 0
        self.cut = False
        self.findings = 0  # of the last whole-text inspection (for the audit record)

    def __repr__(self) -> str:  # the texts are never shown
        return f"StreamGuard(received={len(self.raw)}, emitted={len(self.emitted)})"

    def _judge(self, text: str) -> InspectResult:
        self.inspections += 1
        return self.inspect(text)

    def _stable_cut(self, result: InspectResult) -> int:
        raw = self.raw
        cut = len(raw) - self.hold
        if cut <= self.cut_at:
            return self.cut_at
        # Back to just after a whitespace: a word, number or URL is never split.
        while cut > self.cut_at and not _SPACE.match(raw[cut - 1]):
            cut -= 1
        for f in sorted(result.findings, key=lambda f: f.start, reverse=True):
            if f.start < cut <= f.end:  # reaches the cut: it may still grow
                cut = f.start
        window_start = max(self.cut_at, cut - _OPEN_LOOKBACK)
        at = _open_construct(raw[window_start:cut])
        if at >= 0:
            cut = window_start + at
        return max(cut, self.cut_at)

    def _advance(self, cut: int) -> str | None:
        if cut <= self.cut_at:
            return ""
        prefix = self._judge(self.raw[:cut])
        if prefix.verdict == "block" or not prefix.answer.startswith(self.emitted):
            self._cut()
            return None
        if prefix.verdict == "redact":
            self.verdict = "redact"
        delta = prefix.answer[len(self.emitted):]
        self.emitted, self.cut_at = prefix.answer, cut
        return delta

    def _cut(self) -> None:
        self.cut = True
        self.verdict = "block"

    def feed(self, text: str) -> str | None:
        """Take the next raw chunk; the safe text to emit now ("" for none), or None: cut."""
        if self.cut:
            return None
        self.raw += text
        step = max(self.min_step, len(self.raw) // 8)
        if len(self.raw) - self.inspected_len < step or len(self.raw) <= self.hold:
            return ""
        self.inspected_len = len(self.raw)
        whole = self._judge(self.raw)
        self.findings = len(whole.findings)
        if whole.verdict == "block":
            self._cut()
            return None
        cut = self._stable_cut(whole)
        if (cut > self.cut_at and self.emitted == self.raw[:self.cut_at]
                and not any(f.start < cut for f in whole.findings)):
            # Nothing found before the cut, with the whole text as context, and
            # nothing masked so far: the prefix is shown as is (one pass, not two).
            delta = self.raw[self.cut_at:cut]
            self.emitted, self.cut_at = self.raw[:cut], cut
            return delta
        return self._advance(cut)

    def finish(self) -> str | None:
        """The upstream is done: the rest of the safe answer, or None: cut."""
        if self.cut:
            return None
        final = self._judge(self.raw)
        self.findings = len(final.findings)
        if final.verdict == "block" or not final.answer.startswith(self.emitted):
            self._cut()
            return None
        if final.verdict == "redact":
            self.verdict = "redact"
        delta = final.answer[len(self.emitted):]
        self.emitted, self.cut_at = final.answer, len(self.raw)
        return delta
