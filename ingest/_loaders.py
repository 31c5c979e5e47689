"""Turn a document file into plain text, offline, one partitioner per format.

Exception tree::

    LoadError            the file cannot be turned into text; ``reason`` says why
                         (a short fixed phrase, never document content)
    RuntimeError         the installed unstructured no longer fits the offline fix
                         (a setup problem, raised once, names the pinned version)

unstructured does the per-format work (text, Markdown, HTML, DOCX, e-mail); a
PDF's text comes from pypdf and goes through ``partition_text`` like a text
file, because ``partition_pdf`` needs ~440 MB of extra packages and silently
returns nothing without pikepdf. Elements are joined with a blank line.

Why one module past 400 lines: it is one table (``_FORMATS``) of small
per-format extractors that share the byte limits, the text decoding, the
zip bounds and :class:`LoadError`. What is a job of its own lives apart:
keeping unstructured offline (``_unstructured.py``), finding hidden text
(``_hidden.py``), parsing in a child process (``_sandbox.py``).
"""

from __future__ import annotations

import codecs
import email
import email.policy
import io
import logging
import re
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

from ragseal.classification import ensure_offline

from ragseal import InvalidInputError

from ._unstructured import prepare_unstructured

__all__ = ["LoadError", "LoadedDocument", "load_bytes", "load_document", "supported_extensions"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 50 * 2**20

_FORMATS: dict[str, str] = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".eml": "email",
}


# A DOCX is a zip: refuse one that inflates far beyond its size (zip bomb).
_MAX_INFLATION = 20
# ... or beyond absolute bounds, whatever its ratio: a tuned bomb (15.7 MB -> 306 MB,
# ratio 19.5) passed the ratio alone and held lxml for minutes at 3.1 GB RSS. The XML
# parts are what gets parsed (media are only carried); a 1,000-page report is ~10 MB.
_MAX_INFLATED_BYTES = 128 * 2**20
_MAX_INFLATED_XML_BYTES = 32 * 2**20
_MAX_MEMBERS = 2_000
_MAX_EMAIL_DEPTH = 3
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_BULLET_RE = re.compile(
    r"\s*(?:[-*+\u2022\u25aa\u25cf\u2013]\s|\(?\d{1,3}[.)]\s|\(?[a-zA-Z][.)]\s)"
)
_CHARSET_RE = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""", re.I)
_EMAIL_HEADERS = ("From", "To", "Cc", "Bcc", "Subject", "Date")
# Every partition call skips unstructured's language detection (langdetect
# over the whole text, two thirds of a plain-text file's load time): it only
# fills ``metadata.languages``, which nothing here reads; the text and the
# element types are the same (tests/ingest/test_loaders.py). ``[""]`` is
# unstructured's documented "disable" value.
_NO_LANGUAGE = [""]


class LoadError(InvalidInputError):
    """A document could not be turned into text.

    ``reason`` is a short fixed phrase (for reports and HTTP errors); it never
    contains document text or the file's name.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot load document: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class LoadedDocument:
    """The text of one document and the format it was read as.

    ``hidden``: ``(start, end)`` spans of ``text`` that the file hides from a
    human reader (white or invisible PDF text, HTML comments and hidden
    elements). They are kept in ``text`` (a model would read them) and their
    chunks get the ``hidden_text`` injection signal.
    """

    text: str = field(repr=False)
    format: str
    hidden: tuple[tuple[int, int], ...] = ()

    def __repr__(self) -> str:
        hidden = f", hidden_spans={len(self.hidden)}" if self.hidden else ""
        return f"LoadedDocument(format={self.format!r}, chars={len(self.text)}{hidden})"

    def hidden_in(self, start: int, end: int) -> bool:
        """Whether any hidden span overlaps ``text[start:end]``."""
        return spans_overlap(self.hidden, start, end)


def spans_overlap(spans: Iterable[tuple[int, int]], start: int, end: int) -> bool:
    """Whether any of ``spans`` overlaps ``[start, end)``."""
    return any(s < end and e > start for s, e in spans)


def supported_extensions() -> frozenset[str]:
    """File name extensions :func:`load_document` reads (lower case, with the dot)."""
    return frozenset(_FORMATS)


def load_document(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadedDocument:
    """Read ``path`` and return its text, one blank line between elements.

    Raises:
        LoadError: unsupported type, empty, too large, not text, corrupt or
            encrypted, or no text in it.
    """
    ensure_offline()
    if _FORMATS.get(path.suffix.lower()) is None:
        raise LoadError(_unsupported(path.suffix))
    return load_bytes(_read_bytes(path, max_bytes), path.suffix)


def load_bytes(data: bytes, suffix: str) -> LoadedDocument:
    """Parse a file's bytes (already read and size-checked) as the type its
    name's ``suffix`` says: what :func:`load_document` does after reading.
    An engine's worker gets the bytes the driver hashed, not a path."""
    ensure_offline()
    fmt = _FORMATS.get(suffix.lower())
    if fmt is None:
        raise LoadError(_unsupported(suffix))
    if not data.strip():
        raise LoadError("empty file")
    started = time.perf_counter()
    prepare_unstructured()
    fragments: list[str] = []
    parts = _EXTRACTORS[fmt](data, 0)
    if fmt == "html":
        fragments = hidden_html_text(_decode(data, html=True))
    elif fmt == "pdf":
        fragments = _hidden_pdf_text(data)
    elif fmt == "email":
        fragments = _hidden_email_text(data)
    elif fmt == "docx":
        from ._hidden import hidden_docx_text

        fragments = hidden_docx_text(data)
    text, hidden = _keep_hidden(parts, fragments)
    if not text:
        raise LoadError("no text extracted")
    logger.info(
        "document loaded",
        extra={
            "format": fmt,
            "bytes": len(data),
            "chars": len(text),
            "hidden_spans": len(hidden),
            "ms": round((time.perf_counter() - started) * 1000),
        },
    )
    return LoadedDocument(text=text, format=fmt, hidden=hidden)


def _keep_hidden(
    parts: list[str], fragments: list[str]
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Join the parts; find each hidden fragment in the text (whitespace-
    insensitively) and return its span. A fragment the partitioner dropped
    (an HTML comment) is appended as its own paragraph: a model must not
    read what a scorer never saw, and a reader must be told it was there."""
    from ._hidden import locate

    text = _join(parts)
    missing = [f for f in fragments if locate(text, f) is None]
    if missing:
        text = _join([text, *missing])
    spans = sorted({span for f in fragments if (span := locate(text, f)) is not None})
    return text, tuple(spans)


def _unsupported(suffix: str) -> str:
    # An odd "extension" may be part of a telling file name: show only short plain ones.
    if suffix and len(suffix) <= 10 and suffix[1:].isalnum() and suffix.isascii():
        return f"unsupported file type {suffix.lower()}"
    return "unsupported file type"


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        if not path.is_file():
            raise LoadError("unreadable file")
        size = path.stat().st_size
        if size > max_bytes:
            raise LoadError(f"file too large ({size} bytes > {max_bytes})")
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError:
        raise LoadError("unreadable file") from None
    if len(data) > max_bytes:  # grew after stat
        raise LoadError(f"file too large ({len(data)} bytes > {max_bytes})")
    if not data.strip():
        raise LoadError("empty file")
    return data


def _join(parts: Iterable[str]) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


# -- per-format extractors: bytes -> element texts ------------------------------------


def _decode(data: bytes, *, html: bool = False) -> str:
    encoding = "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif html and (declared := _declared_charset(data)):
        encoding = declared
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise LoadError("not valid UTF-8 text") from None
    controls = sum(1 for _ in _CONTROL_RE.finditer(text))
    if "\x00" in text or controls > len(text) // 100:
        raise LoadError("binary data, not text")
    return text


def _declared_charset(data: bytes) -> str | None:
    match = _CHARSET_RE.search(data[:4096])
    if match is None:
        return None
    try:
        return codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None


def _unwrap_lines(text: str) -> str:
    """Join hard-wrapped lines into paragraphs, one paragraph per line.

    unstructured makes each line of a text its own element, so a name wrapped
    across two lines ("Jane\\nDoe") would reach the entity detector as two
    paragraphs. Blank lines and list markers still start a new paragraph.
    """
    paragraphs: list[str] = []
    current: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line.strip() or _BULLET_RE.match(line):
            if current:
                paragraphs.append(" ".join(current))
            current = [line.strip()] if line.strip() else []
        else:
            current.append(line.strip())
    if current:
        paragraphs.append(" ".join(current))
    return "\n".join(paragraphs)


def _texts(elements: Iterable[Any]) -> list[str]:
    return [str(e.text) for e in elements if getattr(e, "text", None)]


def _text(data: bytes, depth: int) -> list[str]:
    from unstructured.partition.text import partition_text

    return _texts(partition_text(text=_decode(data), paragraph_grouper=_unwrap_lines,
                                 languages=_NO_LANGUAGE))


def _markdown(data: bytes, depth: int) -> list[str]:
    from unstructured.partition.md import partition_md

    return _texts(partition_md(text=_decode(data), languages=_NO_LANGUAGE))


def _html(data: bytes, depth: int) -> list[str]:
    from unstructured.partition.html import partition_html

    return _texts(partition_html(text=_decode(data, html=True), languages=_NO_LANGUAGE))


def hidden_html_text(html: str) -> list[str]:
    from ._hidden import hidden_html_text as find

    return find(html)


def _hidden_email_text(data: bytes) -> list[str]:
    """Hidden text of the message's HTML body (the body partition_email reads)."""
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
        body = msg.get_body(preferencelist=("html",)) if isinstance(msg, EmailMessage) else None
        if not isinstance(body, EmailMessage) or body.get_content_type() != "text/html":
            return []
        return hidden_html_text(str(body.get_content()))
    except Exception:  # a malformed body was already refused or read by the extractor
        return []


def _hidden_pdf_text(data: bytes) -> list[str]:
    from ._hidden import hidden_pdf_text

    return hidden_pdf_text(data)


def _pdf(data: bytes, depth: int) -> list[str]:
    from pypdf import PdfReader
    from unstructured.partition.text import partition_text

    try:
        reader = PdfReader(io.BytesIO(data))
        # An empty user password (owner-only protection) still opens.
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("corrupt or encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except Exception:  # pypdf raises many types on malformed input
        raise LoadError("corrupt or encrypted PDF") from None
    text = "\n\n".join(pages)
    if not text.strip():
        return []
    return _texts(partition_text(text=text, paragraph_grouper=_unwrap_lines,
                                 languages=_NO_LANGUAGE))


def _docx(data: bytes, depth: int) -> list[str]:
    from unstructured.partition.docx import partition_docx

    _check_zip_bounds(data)
    try:
        elements = partition_docx(file=io.BytesIO(data), languages=_NO_LANGUAGE)
    except Exception:  # python-docx raises many types on malformed input
        raise LoadError("corrupt or encrypted DOCX") from None
    return _texts(elements)


def _check_zip_bounds(data: bytes) -> None:
    """Refuse a zip that would inflate past the bounds, before anything is extracted.

    The sizes summed are the members' declared ones, and they are what
    anyone can get out: ``zipfile`` stops each member at its declared size
    and then fails its CRC, so a header that lies about a size yields an
    error, never more bytes. Overlapping members (one deflate stream named
    many times) are each counted in full.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        # An encrypted DOCX is an OLE container, not a zip.
        raise LoadError("corrupt or encrypted DOCX") from None
    if len(members) > _MAX_MEMBERS:
        raise LoadError(f"file too large (DOCX has more than {_MAX_MEMBERS} parts)")
    inflated = sum(info.file_size for info in members)
    xml = sum(info.file_size for info in members
              if info.filename.lower().endswith((".xml", ".rels")))
    if (inflated > _MAX_INFLATION * max(len(data), 2**20) or inflated > _MAX_INFLATED_BYTES
            or xml > _MAX_INFLATED_XML_BYTES):
        raise LoadError(f"file too large (DOCX inflates to {inflated} bytes)")


def _email(data: bytes, depth: int) -> list[str]:
    from unstructured.partition.email import partition_email

    if b"\x00" in data:  # RFC 5322 messages are text; binary parts are base64
        raise LoadError("binary data, not text")
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
        if not isinstance(msg, EmailMessage):
            raise LoadError("corrupt e-mail message")
        headers = _email_headers(msg)
        body = _texts(
            partition_email(
                file=io.BytesIO(data),
                process_attachments=False,
                paragraph_grouper=_unwrap_lines,
                languages=_NO_LANGUAGE,
            )
        )
    except LoadError:
        raise
    except Exception:
        raise LoadError("corrupt e-mail message") from None
    if not headers and not body:
        return []
    return [*headers, *body, *_attachments(msg, depth)]


def _email_headers(msg: EmailMessage) -> list[str]:
    lines = []
    for name in _EMAIL_HEADERS:
        for value in msg.get_all(name) or ():
            flat = " ".join(str(value).split())
            if flat:
                lines.append(f"{name}: {flat}")
    return ["\n".join(lines)] if lines else []


def _attachments(msg: EmailMessage, depth: int) -> list[str]:
    """Text of the attachments we can read; the others are counted and skipped."""
    texts: list[str] = []
    skipped = 0
    for part in msg.iter_attachments():
        try:
            payload: bytes | None = None
            if part.get_content_type() == "message/rfc822":
                fmt: str | None = "email" if depth < _MAX_EMAIL_DEPTH else None
                inner = part.get_payload()
                nested = inner[0] if isinstance(inner, list) and inner else None
                if isinstance(nested, Message):
                    payload = nested.as_bytes()
            else:
                fmt = _FORMATS.get(Path(part.get_filename() or "").suffix.lower())
                raw = part.get_payload(decode=True) if fmt else None
                payload = raw if isinstance(raw, bytes) else None
            if fmt is None or not payload:
                skipped += 1
                continue
            texts.append(_join(_EXTRACTORS[fmt](payload, depth + 1)))
        except Exception:  # one bad attachment must not lose the message
            skipped += 1
    if skipped:
        logger.warning("e-mail attachments skipped", extra={"count": skipped})
    return texts


_EXTRACTORS: dict[str, Callable[[bytes, int], list[str]]] = {
    "text": _text,
    "markdown": _markdown,
    "html": _html,
    "pdf": _pdf,
    "docx": _docx,
    "email": _email,
}
