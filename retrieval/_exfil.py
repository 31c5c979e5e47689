"""Exfiltration channels in a generated answer (OWASP LLM05).

An answer rendered as markdown or HTML can carry data out without anyone
reading it: an image whose URL holds the data loads by itself when the
answer is shown (zero-click), a link does when clicked, raw HTML and
``javascript:``/``data:`` URIs run or embed content. What is found:

==================  ==============================================  ======
type                what                                            action
==================  ==============================================  ======
``MARKDOWN_IMAGE``  ``![..](url)`` or a reference image to a host   block
                    not on the policy's ``inspect.allowed_hosts``
``MARKDOWN_LINK``   ``[..](url)``, ``[ref]: url``, ``<url>``        redact
``URL``             a bare ``http(s)://`` or ``www.`` URL           redact
``HTML``            raw HTML elements that fetch, run or embed      redact
                    (``<script>``, ``<img>``, ``<iframe>``, ...) or
                    any tag with an ``on...=`` handler
``SCRIPT_URI``      ``javascript:`` / ``vbscript:`` anywhere         redact
``DATA_URI``        ``data:<type>/<subtype>[;,]...`` anywhere       redact
==================  ==============================================  ======

An image blocks the whole answer: it fires without a click, and an answer
that carries one was most likely steered by injected instructions, so the
rest of it is not trusted either. Relative URLs (no scheme, no host) stay:
they point at the application that shows the answer. Each finding keeps the
span of its URL, so that the inspector can let through a URL quoted
verbatim from what the retrieval showed (a citation carries no data the
source did not).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["ExfilFinding", "find_exfiltration", "host_allowed"]

# (url) or (<url> "title"); one level of balanced parentheses inside the URL.
_URL_IN_PARENS = (r"\(\s*(?:<([^<>\n]*)>|([^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*))"
                  r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
_IMAGE = re.compile(r"!\[[^\]\n]{0,2000}\]" + _URL_IN_PARENS)
_LINK = re.compile(r"(?<!!)\[[^\]\n]{0,2000}\]" + _URL_IN_PARENS)
_REF_IMAGE = re.compile(r"!\[[^\]\n]{0,2000}\](?:\[[^\]\n]{0,200}\])?")
_REF_DEF = re.compile(r"^[ \t]{0,3}\[[^\]\n]{1,200}\]:[ \t]*<?([^\s>]+)>?[^\n]*$", re.MULTILINE)
_AUTOLINK = re.compile(r"<((?:[a-zA-Z][a-zA-Z0-9+.-]{1,31}):[^\s<>]*)>")
_BARE_URL = re.compile(r"(?i)\b(?:https?://|ftp://|www\.)[^\s<>\"'`]+")
_HTML_BLOCK = re.compile(
    r"(?is)<\s*(script|style|iframe|object|svg|math|template)\b.*?(?:<\s*/\s*\1\s*>|$)")
_HTML_TAG = re.compile(
    r"(?i)<\s*/?\s*(?:img|image|iframe|frame|frameset|object|embed|link|meta|base|form|input|"
    r"button|video|audio|source|track|picture|a|body|html|textarea|select|details|marquee|"
    r"portal|applet|bgsound|isindex|script|style|svg|math|template)\b[^>]*>?"
)
_HANDLER_TAG = re.compile(r"(?i)<\s*[a-z][a-z0-9-]*\b[^>]*\bon[a-z]+\s*=[^>]*>?")
_SCRIPT_URI = re.compile(r"(?i)\b(?:java|vb)script\s*:[^\s\"'<>]*")
_DATA_URI = re.compile(r"(?i)\bdata\s*:\s*[a-z]+/[a-z0-9.+-]+\s*[;,][^\s)\"'<>]*")
_TRAILING = ".,;:!?"

Kind = Literal["MARKDOWN_IMAGE", "MARKDOWN_LINK", "URL", "HTML", "SCRIPT_URI", "DATA_URI"]


@dataclass(frozen=True, slots=True)
class ExfilFinding:
    """One channel: its span, and the span of the URL it points at (if any)."""

    type: Kind
    start: int
    end: int
    url: tuple[int, int] | None = None

    @property
    def action(self) -> Literal["redact", "block"]:
        return "block" if self.type == "MARKDOWN_IMAGE" else "redact"


def host_allowed(url: str, allowed: Sequence[str]) -> bool:
    """Whether ``url`` stays on an allowed host (or is relative, with no
    scheme and no host). Unparseable URLs and other schemes are refused,
    except ``mailto:`` to an allowed domain."""
    url = url.strip()
    try:
        parts = urlsplit(url if not url.lower().startswith("www.") else "https://" + url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return False
    if scheme == "mailto":
        host = parts.path.rpartition("@")[2].split("?")[0].lower().rstrip(".")
    elif scheme not in {"", "http", "https"}:
        return False
    elif not host:
        return not scheme and not url.startswith("//") and "\\" not in url
    return any(host == h or host.endswith("." + h) for h in allowed)


def _target(m: re.Match[str]) -> str:
    return m.group(1) if m.group(1) is not None else m.group(2)


def _target_span(m: re.Match[str]) -> tuple[int, int]:
    return m.span(1) if m.group(1) is not None else m.span(2)


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < e and s < end for s, e in spans)


def find_exfiltration(text: str, allowed_hosts: Sequence[str]) -> list[ExfilFinding]:
    """Every exfiltration channel in ``text``, sorted by position; spans of
    one construct are reported once (an image is not also a URL)."""
    found: list[ExfilFinding] = []
    taken: list[tuple[int, int]] = []

    def add(kind: Kind, start: int, end: int, url: tuple[int, int] | None = None) -> None:
        if not _overlaps(taken, start, end):
            found.append(ExfilFinding(kind, start, end, url))
            taken.append((start, end))

    for m in _HTML_BLOCK.finditer(text):
        add("HTML", m.start(), m.end())
    for m in _IMAGE.finditer(text):
        if not host_allowed(_target(m), allowed_hosts):
            add("MARKDOWN_IMAGE", m.start(), m.end(), _target_span(m))
        else:
            taken.append((m.start(), m.end()))
    refs_out = [m for m in _REF_DEF.finditer(text) if not host_allowed(m.group(1), allowed_hosts)]
    if refs_out and _REF_IMAGE.search(text):
        # A reference image resolves to a definition: treat each off-list one as an image.
        for m in refs_out:
            add("MARKDOWN_IMAGE", m.start(), m.end(), m.span(1))
    for m in _LINK.finditer(text):
        if not host_allowed(_target(m), allowed_hosts):
            add("MARKDOWN_LINK", m.start(), m.end(), _target_span(m))
        else:
            taken.append((m.start(), m.end()))
    for m in refs_out:
        add("MARKDOWN_LINK", m.start(), m.end(), m.span(1))
    for m in _AUTOLINK.finditer(text):
        if not host_allowed(m.group(1), allowed_hosts):
            add("MARKDOWN_LINK", m.start(), m.end(), m.span(1))
    for m in _SCRIPT_URI.finditer(text):
        add("SCRIPT_URI", m.start(), m.end())
    for m in _DATA_URI.finditer(text):
        add("DATA_URI", m.start(), m.end())
    for pattern in (_HTML_TAG, _HANDLER_TAG):
        for m in pattern.finditer(text):
            add("HTML", m.start(), m.end())
    for m in _BARE_URL.finditer(text):
        url = m.group().rstrip(_TRAILING)
        if not host_allowed(url, allowed_hosts):
            add("URL", m.start(), m.start() + len(url), (m.start(), m.start() + len(url)))
    found.sort(key=lambda f: (f.start, f.end))
    return found
