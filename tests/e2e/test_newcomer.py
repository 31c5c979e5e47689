"""A newcomer's first hour, scripted (issue 20): quickstart's steps, the README's
commands and the cron cases, each as a user runs them, through the installed
``ragseal`` command in subprocesses.

One fresh data folder for the module: ingest the sample corpus, re-run it
unchanged (a cron job), serve on a free port and wait for the one "serving"
line and ``/healthz``, mint tokens, retrieve as two readers, then the
mistakes a newcomer makes (busy port, no manifest, a manifest kept outside
its folder, a command run where there is no data folder).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "samples" / "corpus"
RAGSEAL = [sys.executable, "-m", "ragseal.api.cli"]
SECRET = "newcomer-e2e-secret-" + "w" * 40
SUMMARY = re.compile(r"^ragseal ingest:((?: [a-z_]+=\d+)+)$", re.MULTILINE)
QUESTION = "When does Jonas Weber start?"


@dataclass(frozen=True)
class Done:
    code: int
    out: str
    err: str


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGSEAL_")}
    env.update(RAGSEAL_DATA_DIR=str(data_dir), RAGSEAL_JWT_SECRET=SECRET, **extra)
    return env


def ragseal(data_dir: Path, *argv: str, timeout: float = 1200) -> Done:
    done = subprocess.run([*RAGSEAL, *argv], env=_env(data_dir), capture_output=True,  # noqa: S603 - our own command
                          text=True, timeout=timeout, cwd=ROOT, check=False)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return Done(done.returncode, done.stdout, done.stderr)


def summary(out: str) -> dict[str, int]:
    match = SUMMARY.search(out)
    assert match, out[-2000:]
    return {k: int(v) for k, v in (pair.split("=") for pair in match.group(1).split())}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Store:
    data_dir: Path
    first: Done


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    data_dir = tmp_path_factory.mktemp("newcomer") / ".ragseal"
    first = ragseal(data_dir, "ingest", str(CORPUS), "--manifest", str(CORPUS / "acl.yaml"))
    assert first.code == 0, first.err[-2000:]
    return Store(data_dir, first)


@dataclass(frozen=True)
class Server:
    url: str
    line: str
    port: int


@pytest.fixture(scope="class")
def server(store: Store) -> Iterator[Server]:
    port = free_port()
    proc = subprocess.Popen([*RAGSEAL, "serve", "--port", str(port)], env=_env(store.data_dir),  # noqa: S603 - our own command
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stderr is not None
        line = ""
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                pytest.fail(f"serve exited {proc.returncode}")
            if line.startswith("ragseal: serving on"):
                break
        # The line comes once the server answers: /healthz is 200 at once.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            assert r.status == 200
        yield Server(f"http://127.0.0.1:{port}", line.strip(), port)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def retrieve(server: Server, token: str, body: object) -> tuple[int, dict[str, object]]:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - http to loopback
        f"{server.url}/v1/retrieve", data=data, method="POST",
        headers={"Authorization": f"Bearer {token}", "content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as r:  # noqa: S310 - http to loopback
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def token(store: Store, *argv: str) -> tuple[str, str]:
    done = ragseal(store.data_dir, "token", *argv)
    assert done.code == 0, done.err
    return done.out.strip(), done.err.strip()


# -- quickstart -------------------------------------------------------------------------------

def test_quickstart_ingest_reports_a_stable_summary_and_levels_per_document(store: Store) -> None:
    counts = summary(store.first.out)
    assert counts["added"] == 23 and counts["refused"] == 0 and counts["unmatched_rules"] == 0
    assert "levels of written documents:" in store.first.out


class TestServing:
    """The steps that need the server; it stops before the CLI steps (one process per
    embedded store)."""

    def test_quickstart_serve_says_where_it_serves_once_it_answers(self, server: Server) -> None:
        assert server.line.startswith(f"ragseal: serving on http://127.0.0.1:{server.port} ")
        assert "acme (" in server.line and "policy " in server.line

    def test_quickstart_tokens_and_query_show_each_readers_difference(
        self, store: Store, server: Server,
    ) -> None:
        hr, hr_note = token(store, "--sub", "maria@acme.example", "--tenant", "acme",
                            "--groups", "hr,all-staff", "--roles", "hr")
        emp, _ = token(store, "--sub", "sam@acme.example", "--tenant", "acme",
                       "--groups", "all-staff", "--roles", "employee")
        assert "tenant acme" in hr_note

        status, as_hr = retrieve(server, hr, {"query": QUESTION, "top_k": 2})
        assert status == 200
        status, as_emp = retrieve(server, emp, {"query": QUESTION, "top_k": 2})
        assert status == 200

        hr_text = " ".join(str(c["text"]) for c in as_hr["chunks"])  # type: ignore[union-attr]
        emp_chunks = as_emp["chunks"]
        assert isinstance(emp_chunks, list) and emp_chunks
        assert "Jonas Weber" in hr_text
        assert all("Jonas Weber" not in str(c["text"]) for c in emp_chunks)
        assert {c["level"] for c in emp_chunks} <= {"public", "internal"}

    def test_a_token_without_tenant_is_told_so_and_its_empty_tenant_is_named(
        self, store: Store, server: Server,
    ) -> None:
        bare, note = token(store, "--sub", "maria@acme.example", "--groups", "hr")
        assert "tenant default (no --tenant given)" in note

        status, body = retrieve(server, bare, {"query": QUESTION})

        assert status == 200
        assert body["chunks"] == [] and body["notice"] == "tenant_has_no_documents"

    @pytest.mark.parametrize(("body", "message"), [
        ({"query": QUESTION, "top_k": 51}, "invalid request: body.top_k: must be an integer 1..50"),
        ({"query": "   "}, "invalid request: body.query: must not be empty or only whitespace"),
        ('{"query": ', "invalid request: body: not valid JSON at character 10 (Expecting value)"),
    ])
    def test_bad_requests_say_what_is_allowed(
        self, store: Store, server: Server, body: object, message: str,
    ) -> None:
        hr, _ = token(store, "--sub", "maria@acme.example", "--tenant", "acme", "--groups", "hr")
        status, answer = retrieve(server, hr, body)
        assert status == 422
        assert answer["error"] == {"code": "invalid_request", "message": message}

    def test_a_busy_port_is_one_line_and_exit_2(self, store: Store, server: Server) -> None:
        done = ragseal(store.data_dir, "serve", "--port", str(server.port), timeout=120)
        assert done.code == 2
        assert done.err.strip() == (f"ragseal: port {server.port} on 127.0.0.1 is already in use; "
                                    "choose another with --port (quickstart: RAGSEAL_PORT)")

    def test_the_empty_tenant_notice_is_no_oracle_for_a_reader_who_sees_nothing(
        self, store: Store, server: Server,
    ) -> None:
        """acme holds documents this token may not read: no notice, like any empty answer."""
        nobody, _ = token(store, "--sub", "guest@acme.example", "--tenant", "acme",
                          "--groups", "visitors")

        status, body = retrieve(server, nobody, {"query": QUESTION})

        assert status == 200
        assert body["chunks"] == [] and "notice" not in body


# -- the README's commands ---------------------------------------------------------------------

def test_readme_three_readers(store: Store) -> None:
    q = "What is Maria Gonzalez's phone number?"
    readers = {
        "employee": ["--user", "emp@acme.example", "--groups", "all-staff", "--roles", "employee"],
        "hr": ["--user", "hrp@acme.example", "--groups", "hr,all-staff", "--roles", "hr"],
        "legal": ["--user", "counsel@acme.example", "--groups", "legal,all-staff",
                  "--roles", "legal"],
    }
    seen = {}
    for name, principal in readers.items():
        done = ragseal(store.data_dir, "query", q, "--tenant", "acme", *principal, "-k", "2",
                       "--json")
        assert done.code == 0, done.err
        seen[name] = json.loads(done.out)["chunks"]
    assert all("Maria Gonzalez" not in c["text"] for c in seen["employee"])
    assert any("Maria Gonzalez" in c["text"] for c in seen["hr"])
    assert {c["level"] for c in seen["employee"]} <= {"public", "internal"}


# -- cron jobs ---------------------------------------------------------------------------------

def test_cron_rerun_writes_nothing_and_says_so_in_one_line(store: Store) -> None:
    again = ragseal(store.data_dir, "ingest", str(CORPUS), "--manifest", str(CORPUS / "acl.yaml"))
    assert again.code == 0, again.err[-2000:]
    counts = summary(again.out)
    assert counts["unchanged"] == 23 and counts["added"] == counts["changed"] == 0
    assert counts["chunks"] == 0


def test_cron_manifest_kept_elsewhere_needs_root_and_says_which_rules_matched_nothing(
    store: Store, tmp_path: Path,
) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    shutil.copy(CORPUS / "acl.yaml", etc / "acl.yaml")

    lost = ragseal(store.data_dir, "ingest", str(CORPUS), "--manifest", str(etc / "acl.yaml"))
    assert lost.code == 1
    assert "matched no file of this run" in lost.err
    assert summary(lost.out)["unmatched_rules"] == 8  # every rule of samples/corpus/acl.yaml

    rooted = ragseal(store.data_dir, "ingest", str(CORPUS), "--manifest", str(etc / "acl.yaml"),
                     "--root", str(CORPUS), "--exclude", "acl.yaml", "--exclude", "legal/**",
                     "--exclude", "*.pdf")
    assert rooted.code == 0, rooted.err[-2000:]
    counts = summary(rooted.out)
    assert counts["excluded"] > 3 and counts["refused"] == 0 and counts["added"] == 0
    assert counts["unchanged"] == 23 - counts["excluded"] + 1
    assert counts["unmatched_rules"] == 1  # legal/**: its files were all excluded
    assert "rules[7] (legal/**) matched no file" in rooted.err


def test_usage_mistakes_stop_at_once_with_one_line(store: Store, tmp_path: Path) -> None:
    no_manifest = ragseal(store.data_dir, "ingest", str(CORPUS), timeout=120)
    assert no_manifest.code == 2 and "--manifest is required" in no_manifest.err

    missing = ragseal(store.data_dir, "ingest", str(tmp_path / "nope"), "--manifest",
                      str(CORPUS / "acl.yaml"), timeout=120)
    assert missing.code == 2 and "no such file or folder" in missing.err

    elsewhere = tmp_path / "not-here" / ".ragseal"
    for argv in (["query", QUESTION, "--user", "u", "--tenant", "acme"], ["audit", "verify"],
                 ["keys", "status"], ["quarantine", "list"]):
        done = ragseal(elsewhere, *argv, timeout=120)
        assert done.code == 2, argv
        assert done.err.strip() == (f"ragseal: no ragseal data dir at {elsewhere}; set "
                                    "RAGSEAL_DATA_DIR or run ingest first")
    assert not elsewhere.parent.exists()

