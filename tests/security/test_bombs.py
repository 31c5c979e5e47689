"""Issue 14, item 6: DOCX bombs are refused before extraction; parsing can be stopped.

The red team's tuned bomb (15.7 MB inflating to 306 MB, ratio 19.5) passed
the 20x ratio check and held a server thread for minutes at 3.1 GB RSS.
Here the same shape, scaled down: incompressible media keep the ratio
under 20 while the XML that gets parsed is over the absolute bound.
"""

from __future__ import annotations

import io
import os
import threading
import time
import zipfile
from pathlib import Path

import psutil
import pytest
from ragseal.ingest import LoadError, ParseSandbox, load_document

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
    "</Types>"
)


def tuned_bomb(xml_bytes: int, media_bytes: int) -> bytes:
    """A DOCX-shaped zip: ``xml_bytes`` of highly compressible document XML next to
    ``media_bytes`` of random (incompressible) media."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("word/media/image1.png", os.urandom(media_bytes))
        paragraph = b"<w:p><w:r><w:t>lorem ipsum dolor</w:t></w:r></w:p>"
        body = paragraph * (xml_bytes // len(paragraph))
        z.writestr("word/document.xml", b"<w:document><w:body>" + body
                   + b"</w:body></w:document>")
    return buf.getvalue()


def test_when_tuned_docx_bomb_under_ratio_then_refused_before_extraction(
    tmp_path: Path
) -> None:
    data = tuned_bomb(xml_bytes=40 * 2**20, media_bytes=3 * 2**20)
    inflated = 43 * 2**20
    assert inflated < 20 * len(data)  # the old ratio check lets it through
    path = tmp_path / "bomb.docx"
    path.write_bytes(data)
    with pytest.raises(LoadError, match="too large"):  # from the central directory alone
        load_document(path)


def test_when_docx_has_too_many_parts_then_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for i in range(2_001):
            z.writestr(f"word/p{i}.xml", b"<a/>")
    path = tmp_path / "parts.docx"
    path.write_bytes(buf.getvalue())
    with pytest.raises(LoadError, match="too large"):
        load_document(path)


def test_when_zip_header_understates_a_size_then_extraction_stops_at_it(tmp_path: Path) -> None:
    """The bound uses declared sizes; zipfile never yields more than a member declares."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"A" * 2**20)
    raw = bytearray(buf.getvalue())
    true_size = (2**20).to_bytes(4, "little")
    lie = (1000).to_bytes(4, "little")
    raw = bytearray(bytes(raw).replace(true_size, lie))  # local header and central directory
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as z:
        assert z.infolist()[0].file_size == 1000
        with pytest.raises(zipfile.BadZipFile), z.open("word/document.xml") as member:
            while member.read(4096):
                pass


@pytest.mark.slow
def test_when_parse_cancelled_or_late_then_child_is_killed(tmp_path: Path) -> None:
    sandbox = ParseSandbox(tmp_path)
    try:
        doc = tmp_path / "ok.txt"
        doc.write_text("A plain note about the quarterly planning meeting.\n")
        loaded = sandbox.load(doc, deadline=time.monotonic() + 300, cancelled=threading.Event())
        assert "quarterly planning" in loaded.text
        assert sandbox._proc is not None
        pid = sandbox._proc.pid
        assert pid is not None
        cancelled = threading.Event()
        cancelled.set()
        with pytest.raises(LoadError, match="cancelled"):
            sandbox.load(doc, deadline=time.monotonic() + 300, cancelled=cancelled)
        assert sandbox.kills == 1
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
        with pytest.raises(LoadError, match="too long"):
            sandbox.load(doc, deadline=time.monotonic() - 1, cancelled=threading.Event())
        assert sandbox.kills == 2
        # A fresh child takes the next document.
        again = sandbox.load(doc, deadline=time.monotonic() + 300, cancelled=threading.Event())
        assert again.text == loaded.text
    finally:
        sandbox.close()
