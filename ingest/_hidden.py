"""Text a file hides from its human reader, found where it is hidden.

An injected instruction is often invisible in the rendered document and
plain to a model reading the extracted text: white (or invisible render
mode) text in a PDF, HTML comments and elements styled out of sight. These
functions return the hidden fragments (never logged); the loader keeps them
in the document's text and marks their spans, and the injection scorer
gives every chunk holding one the ``hidden_text`` signal.

- **PDF**: pypdf's ``extract_text`` visitors. ``visitor_operand_before``
  follows the graphics state (``q``/``Q``, the fill colour operators
  ``rg``/``g``/``k``/``sc``/``scn``, the render mode ``Tr``);
  ``visitor_text`` receives each text run with the state in force. White
  fill (every component >= 0.95 in RGB or grey, CMYK all <= 0.05) or render
  mode 3 (invisible) is hidden. White on a dark background is a false
  positive we accept (we do not rasterise); coloured text on a same-coloured
  box is not caught.
- **DOCX**: python-docx; runs marked hidden (``w:vanish``) or coloured
  white (``FFFFFF``), in body paragraphs and table cells.
- **HTML**: the standard library's parser; comments that carry an
  instruction-like signal (``<!-- build 42 -->`` does not), ``<template>``,
  elements with the ``hidden`` attribute or a style of ``display:none``,
  ``visibility:hidden``, ``opacity:0``, ``font-size:0`` or a white colour.
  Styles from ``<style>`` sheets and classes are not evaluated. An
  e-mail's HTML body goes through the same scan (``ingest._loaders``).
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser

__all__ = ["hidden_docx_text", "hidden_html_text", "hidden_pdf_text", "locate"]

logger = logging.getLogger(__name__)

_WS = re.compile(r"\s+")
_MIN_CHARS = 3

_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$)|"
    r"font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|$)|"
    r"(?<![-\w])color\s*:\s*(?:white|#fff(?:fff)?\b|rgba?\(\s*255\s*,\s*255\s*,\s*255)",
    re.IGNORECASE,
)
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


def _clean(fragment: str) -> str:
    return _WS.sub(" ", fragment).strip()


# Words that address a reader who acts on the text (a model, an assistant)
# or tell it what to do; a build stamp or a section marker has none.
_ADDRESSING = re.compile(
    r"\b(?:ai|assistants?|models?|llms?|chat ?bots?|gpt|agents?|you(?:r)?|always|never|must"
    r"|summari[sz]\w*|recommend\w*|respond|reply|answer|instructions?|prompt)\b",
    re.IGNORECASE,
)


def _instructive(comment: str) -> bool:
    """An HTML comment that addresses its reader or that the injection scorer
    reads a signal in (``ingest -> classification``)."""
    from ragseal.classification import score_injection

    text = _clean(comment)
    if len(text) < _MIN_CHARS:
        return False
    return bool(_ADDRESSING.search(text)) or score_injection(text).score > 0


class _HiddenHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._stack: list[bool] = []  # per open element: does it hide its content?
        self._buffer: list[str] = []

    @property
    def _hiding(self) -> bool:
        return any(self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        a = {k.lower(): v or "" for k, v in attrs}
        hides = tag == "template" or "hidden" in a or bool(_HIDDEN_STYLE.search(a.get("style", "")))
        was = self._hiding
        self._stack.append(hides)
        if hides and not was:
            self._buffer = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        return None

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not self._stack:
            return
        self._stack.pop()
        if not self._hiding and self._buffer:
            self._emit(" ".join(self._buffer))
            self._buffer = []

    def handle_data(self, data: str) -> None:
        if self._hiding:
            self._buffer.append(data)

    def handle_comment(self, data: str) -> None:
        # Markup is full of comments (build stamps, conditional comments,
        # section markers): one counts as hidden text only when it says
        # something the injection scorer reads as a signal.
        if _instructive(data):
            self._emit(data)

    def _emit(self, fragment: str) -> None:
        text = _clean(fragment)
        if len(text) >= _MIN_CHARS:
            self.found.append(text)

    def close(self) -> None:
        super().close()
        if self._buffer:
            self._emit(" ".join(self._buffer))


def hidden_html_text(html: str) -> list[str]:
    """Comments and the text of hidden elements, in document order."""
    parser = _HiddenHtml()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # malformed markup: keep what was found so far
        logger.debug("hidden-text scan stopped on malformed HTML")
    return parser.found


def hidden_docx_text(data: bytes) -> list[str]:
    """Runs a Word reader does not show: hidden (``w:vanish``) or white
    (``w:color FFFFFF``), consecutive runs of one paragraph joined. Body
    paragraphs and table cells; headers, footers and text boxes are not read."""
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # the extractor reports a corrupt file
        return []
    paragraphs = list(document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                paragraphs.extend(cell.paragraphs)
    found: list[str] = []
    for paragraph in paragraphs:
        pending: list[str] = []
        for run in paragraph.runs:
            font = run.font
            colour = font.color.rgb if font.color is not None and font.color.type else None
            if font.hidden or str(colour or "").upper() == "FFFFFF":
                pending.append(run.text)
            elif pending:
                found.append(" ".join(pending))
                pending = []
        if pending:
            found.append(" ".join(pending))
    return [t for f in found if len(t := _clean(f)) >= _MIN_CHARS]


def _is_white(op: bytes, values: tuple[float, ...]) -> bool:
    if not values:
        return False
    if op in (b"k", b"K"):
        return len(values) == 4 and all(v <= 0.05 for v in values)
    if op in (b"rg", b"g", b"sc", b"scn"):
        return len(values) in (1, 3) and all(v >= 0.95 for v in values)
    return False


def hidden_pdf_text(data: bytes) -> list[str]:
    """Text runs drawn in white or in invisible render mode, one string per
    page (runs joined). Unreadable files give ``[]`` (the loader reports)."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return []
        found: list[str] = []
        for page in reader.pages:
            found.extend(_hidden_runs(page))
        return found
    except Exception:  # pypdf raises many types on malformed input
        return []


@dataclass
class _Graphics:
    """The part of the PDF graphics state that decides visibility."""

    fill_op: bytes = b"g"
    fill: tuple[float, ...] = (0.0,)
    mode: int = 0


def _hidden_runs(page: object) -> list[str]:
    state = _Graphics()
    stack: list[_Graphics] = []
    runs: list[str] = []

    def before(op: bytes, args: list[object], cm: object, tm: object) -> None:
        nonlocal state
        if op == b"q":
            stack.append(_Graphics(state.fill_op, state.fill, state.mode))
        elif op == b"Q" and stack:
            state = stack.pop()
        elif op in (b"rg", b"g", b"k", b"sc", b"scn"):
            state.fill_op = op
            state.fill = tuple(float(a) for a in args if isinstance(a, int | float))
        elif op == b"Tr" and args and isinstance(args[0], int | float):
            state.mode = int(args[0])

    def text(t: str, cm: object, tm: object, font: object, size: object) -> None:
        if (state.mode == 3 or _is_white(state.fill_op, state.fill)) and t.strip():
            runs.append(t)

    page.extract_text(visitor_operand_before=before, visitor_text=text)  # type: ignore[attr-defined]
    joined = _clean(" ".join(runs))
    return [joined] if len(joined) >= _MIN_CHARS else []


def locate(text: str, fragment: str) -> tuple[int, int] | None:
    """The span of ``fragment`` in ``text``, matching any run of whitespace
    with any other (extraction re-wraps lines); ``None`` when absent."""
    words = fragment.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    m = re.search(pattern, text)
    return (m.start(), m.end()) if m else None
