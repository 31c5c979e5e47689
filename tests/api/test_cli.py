"""The ``ragseal`` command line, driven the way users drive it.

Every case calls ``api.cli.main(argv)`` in-process and reads what a user
would read: the exit status, stdout (one JSON document with ``--json``) and
stderr (one ``ragseal: ...`` line on failure, never a traceback). The heavy
models load once per process; the commands that need an ingested corpus
share one module-scoped data folder, and the commands that change it
(delete, key rotation) get a folder of their own.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from ragseal.api.cli import main

JWT_SECRET = "cli-test-secret-" + "k" * 40
ACME = ["--tenant", "acme"]

MANIFEST = """\
defaults: {tenant: acme, level: internal}
rules:
  - match: "alpha/**"
    groups: [a]
  - match: "beta/**"
    groups: [b]
  - match: "handbook.md"
    groups: [a, b]
    level: public
"""
ALPHA = (
    "Team alpha notes: the blueberry rollout starts on Monday. "
    "Write to priya.raman@example.com for the rollout checklist.\n"
)
BETA = "# Beta plan\n\nTeam beta notes: the gooseberry rollout budget is reviewed every Friday.\n"
HANDBOOK = (
    "# Handbook\n\nEvery rollout follows the release checklist and the on-call rota. "
    "See [/] and [bold]release notes[/bold].\n"
)
STRAY_NAME = "notes [draft].txt"  # brackets: never read as terminal markup
STRAY = "Stray notes about a rollout that no manifest rule covers.\n"


# -- helpers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> object:
        return json.loads(self.out)

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    @property
    def error(self) -> str:
        """The one ``ragseal:`` line a failure leaves on stderr."""
        lines = [line for line in self.err_lines if line.startswith("ragseal:")]
        assert len(lines) == 1, self.err
        return lines[0]


def _checked(code: int, out: str, err: str) -> Run:
    assert "Traceback" not in err, err
    assert "Traceback" not in out, out
    return Run(code, out, err)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return _checked(code, captured.out, captured.err)


def cli_quiet(*argv: str) -> Run:
    """``cli`` for module-scoped fixtures, which cannot use ``capsys``."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return _checked(code, out.getvalue(), err.getvalue())


def write_corpus(root: Path) -> Path:
    """Three covered documents, one uncovered, one hidden; returns the manifest."""
    (root / "alpha").mkdir(parents=True)
    (root / "beta").mkdir()
    (root / "stray").mkdir()
    (root / "alpha" / "alpha-notes.txt").write_text(ALPHA, encoding="utf-8")
    (root / "beta" / "beta-plan.md").write_text(BETA, encoding="utf-8")
    (root / "handbook.md").write_text(HANDBOOK, encoding="utf-8")
    (root / "stray" / STRAY_NAME).write_text(STRAY, encoding="utf-8")
    (root / ".hidden.txt").write_text("editor swap file\n", encoding="utf-8")
    manifest = root / "acl.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    return manifest


def bundled_policy() -> dict[str, object]:
    from importlib import resources

    text = resources.files("ragseal.classification").joinpath("default_policy.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def write_yaml(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def chunks(run: Run) -> list[dict[str, object]]:
    data = run.json
    assert isinstance(data, dict)
    found = data["chunks"]
    assert isinstance(found, list)
    return found


def texts(run: Run) -> str:
    return "\n".join(str(c["text"]) for c in chunks(run))


# -- the shared ingested corpus -------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    root: Path
    manifest: Path
    data_dir: Path
    report: dict[str, object]
    code: int
    err: str


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    root = tmp_path_factory.mktemp("cli-corpus")
    manifest = write_corpus(root)
    data_dir = tmp_path_factory.mktemp("cli-corpus-data")
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("RAGSEAL_"):
                mp.delenv(name)
        mp.setenv("RAGSEAL_DATA_DIR", str(data_dir))
        run = cli_quiet("ingest", str(root), "--manifest", str(manifest), "--json")
    assert run.code in (0, 1) and run.out, f"ingest failed ({run.code}): {run.err[-2000:]}"
    report = run.json
    assert isinstance(report, dict), run.out
    yield Corpus(root, manifest, data_dir, report, run.code, run.err)


@pytest.fixture
def in_corpus(corpus: Corpus, monkeypatch: pytest.MonkeyPatch) -> Corpus:
    monkeypatch.setenv("RAGSEAL_DATA_DIR", str(corpus.data_dir))
    return corpus


def query(capsys: pytest.CaptureFixture[str], text: str, *principal: str, k: int = 10) -> Run:
    return cli(capsys, "query", text, *principal, "-k", str(k), "--json")


# -- help ----------------------------------------------------------------------------

HELP = {
    (): ["Typical flow", "ingest", "query", "serve"],
    ("ingest",): ["--manifest", "--json", "Example", "refused"],
    ("delete",): ["DOC_ID", "--tenant", "Example"],
    ("classify",): ["--json", "stdin", "Example"],
    ("query",): ["--user", "--groups", "--roles", "--tenant", "-k", "--pseudonymize", "Example"],
    ("inspect",): ["--user", "--retrieval-id", "stdin", "Example"],
    ("token",): ["--sub", "--ttl", "RAGSEAL_JWT_SECRET", "Example"],
    ("serve",): ["--host", "--port", "RAGSEAL_JWT_SECRET", "Example"],
    ("relabel",): ["--tenant", "--dry-run", "--json", "re-embedding", "Example"],
    ("policy",): ["check"],
    ("policy", "check"): ["FILE", "RAGSEAL_POLICY", "Example"],
    ("keys",): ["rotate", "status", "retire"],
    ("keys", "rotate"): ["Example"],
    ("keys", "retire"): ["VERSION", "Example"],
    ("keys", "status"): ["--json", "Example"],
}


@pytest.mark.parametrize("command", list(HELP), ids=lambda c: " ".join(c) or "ragseal")
def test_when_help_is_asked_then_it_exits_0_and_teaches(
    capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    run = cli(capsys, *command, "--help")

    assert run.code == 0
    assert run.out.startswith(f"Usage: ragseal {' '.join(command)}".rstrip())
    for expected in HELP[command]:
        assert expected in run.out, f"{expected!r} missing from `{' '.join(command)} --help`"
    assert run.err == ""


def test_when_no_command_is_given_then_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    run = cli(capsys)

    assert run.code == 2
    assert "Usage: ragseal" in run.err


def test_when_command_or_option_is_unknown_then_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    unknown_command = cli(capsys, "frobnicate")
    unknown_option = cli(capsys, "policy", "check", "--frob")

    for run in (unknown_command, unknown_option):
        assert run.code == 2
        assert run.out == ""
        assert any(line.startswith("Error:") for line in run.err_lines)


# -- policy check ---------------------------------------------------------------------


def test_when_policy_check_runs_on_the_bundled_policy_then_exit_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = cli(capsys, "policy", "check")

    assert run.code == 0
    assert run.out.startswith("policy OK: 4 levels")
    assert run.err == ""


def test_when_ragseal_policy_names_a_valid_file_then_policy_check_uses_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = bundled_policy()
    data["levels"] = ["public", "internal", "confidential", "restricted", "top-secret"]
    monkeypatch.setenv("RAGSEAL_POLICY", str(write_yaml(tmp_path / "p.yaml", data)))

    run = cli(capsys, "policy", "check")

    assert run.code == 0
    assert run.out.startswith("policy OK: 5 levels")


def _unknown_key(data: dict[str, object]) -> None:
    data["entities"]["PERSON"]["colour"] = "red"  # type: ignore[index]


def _unknown_level(data: dict[str, object]) -> None:
    data["entities"]["PERSON"]["level"] = "secret"  # type: ignore[index]


def _unknown_top_level_key(data: dict[str, object]) -> None:
    data["rolez"] = {}


def _bad_regex(data: dict[str, object]) -> None:
    data["recognizers"][0]["patterns"][0] = r"\bEMP-(\d{6}\b"  # type: ignore[index]


BAD_POLICIES = [
    pytest.param(_unknown_key, "entities.PERSON.colour", id="unknown-key"),
    pytest.param(_unknown_top_level_key, "rolez", id="unknown-top-level-key"),
    pytest.param(_unknown_level, "entities.PERSON.level", id="unknown-level"),
    pytest.param(_bad_regex, "recognizers[0].patterns[0]", id="bad-regex"),
]


@pytest.mark.parametrize(("spoil", "key_path"), BAD_POLICIES)
def test_when_policy_file_is_invalid_then_exit_2_with_key_path_on_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, spoil: object, key_path: str
) -> None:
    data = bundled_policy()
    spoil(data)  # type: ignore[operator]
    path = write_yaml(tmp_path / "policy.yaml", data)

    run = cli(capsys, "policy", "check", str(path))

    assert run.code == 2
    assert run.out == ""
    assert len(run.err_lines) == 1
    assert run.error.startswith("ragseal: policy: ")
    assert key_path in run.error


def test_when_bad_regex_in_policy_then_the_recognizer_and_pattern_are_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = bundled_policy()
    _bad_regex(data)
    path = write_yaml(tmp_path / "policy.yaml", data)

    run = cli(capsys, "policy", "check", str(path))

    assert run.code == 2
    assert len(run.err_lines) == 1
    assert "recognizers[0].patterns" in run.error
    assert "regular expression" in run.error


@pytest.mark.parametrize(
    "content",
    [None, "levels: [public\n", "- just\n- a list\n", ""],
    ids=["missing", "not-yaml", "not-a-mapping", "empty"],
)
def test_when_policy_file_is_missing_or_unreadable_then_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "policy.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")

    run = cli(capsys, "policy", "check", str(path))

    assert run.code == 2
    assert run.out == ""
    assert len(run.err_lines) == 1
    assert run.error.startswith("ragseal: policy: ")


def test_when_ragseal_policy_is_invalid_then_every_command_using_it_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = bundled_policy()
    _unknown_level(data)
    monkeypatch.setenv("RAGSEAL_POLICY", str(write_yaml(tmp_path / "p.yaml", data)))
    monkeypatch.setenv("RAGSEAL_JWT_SECRET", JWT_SECRET)
    _forbid_binding(monkeypatch)

    for argv in (["policy", "check"], ["query", "x", "--user", "u"], ["serve"]):
        run = cli(capsys, *argv)
        assert run.code == 2, argv
        assert "entities.PERSON.level" in run.error


def test_when_configuration_is_invalid_then_exit_2_naming_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGSEAL_MASTER_KEY", "not base64 of 32 bytes")

    run = cli(capsys, "keys", "status")

    assert run.code == 2
    assert "RAGSEAL_MASTER_KEY" in run.error
    assert "not base64" not in run.err


# -- classify -------------------------------------------------------------------------

EMAIL = "jane.doe@example.com"
CLASSIFY_TEXT = f"Invoice questions go to {EMAIL}.\nThe payment is due on Friday.\n"


def _classify_json(run: Run) -> dict[str, object]:
    assert run.code == 0, run.err
    data = run.json
    assert isinstance(data, dict)
    assert set(data) == {"level", "findings"}
    assert isinstance(data["level"], str)
    assert isinstance(data["findings"], list)
    for finding in data["findings"]:
        assert set(finding) == {"type", "start", "end", "score", "level"}
        assert isinstance(finding["type"], str)
        assert isinstance(finding["start"], int) and isinstance(finding["end"], int)
        assert isinstance(finding["score"], int | float)
        assert finding["level"] in ("public", "internal", "confidential", "restricted")
    return data


def _span_of(data: dict[str, object], entity: str, text: str) -> str:
    spans = [text[f["start"]:f["end"]] for f in data["findings"] if f["type"] == entity]  # type: ignore[union-attr,index]
    assert spans, data
    return spans[0]


def test_when_classify_file_json_then_exact_shape_and_offsets_into_the_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "note.txt"
    path.write_text(CLASSIFY_TEXT, encoding="utf-8")

    data = _classify_json(cli(capsys, "classify", str(path), "--json"))

    assert _span_of(data, "EMAIL_ADDRESS", CLASSIFY_TEXT) == EMAIL
    email = next(f for f in data["findings"] if f["type"] == "EMAIL_ADDRESS")  # type: ignore[union-attr]
    assert email["level"] == "confidential"
    assert data["level"] == "public"  # an e-mail address does not gate the document


def test_when_classify_reads_stdin_then_offsets_are_into_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "   indented first line\r\n\n\n" + CLASSIFY_TEXT
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))

    data = _classify_json(cli(capsys, "classify", "-", "--json"))

    assert _span_of(data, "EMAIL_ADDRESS", text) == EMAIL


def test_when_classify_finds_a_marker_or_gating_entity_then_level_is_raised(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("STRICTLY CONFIDENTIAL\n\nBoard notes.\n"))
    marked = _classify_json(cli(capsys, "classify", "-", "--json"))
    monkeypatch.setattr(sys, "stdin", io.StringIO("The quarterly numbers look fine.\n"))
    plain = _classify_json(cli(capsys, "classify", "-", "--json"))

    assert marked["level"] == "restricted"
    assert plain == {"level": "public", "findings": []}


def test_when_classify_without_json_then_a_table_goes_to_stdout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "note.md"
    path.write_text(CLASSIFY_TEXT, encoding="utf-8")

    run = cli(capsys, "classify", str(path))

    assert run.code == 0
    assert "EMAIL_ADDRESS" in run.out
    assert "document level from content" in run.out


def test_when_classify_shows_text_then_each_span_is_tagged_with_type_score_and_level(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = f"Write to {EMAIL} about [bold]the launch[/bold].\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))

    run = cli(capsys, "classify", "-")

    assert run.code == 0, run.err
    first = run.out.splitlines()[0]
    assert first.startswith(f"Write to {EMAIL}[EMAIL_ADDRESS ")
    assert " confidential] about [bold]the launch[/bold]." in first  # never read as markup


def test_when_classify_names_a_policy_then_it_classifies_under_that_policy(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = bundled_policy()
    entities = data["entities"]
    assert isinstance(entities, dict)
    entities["EMAIL_ADDRESS"] = {"level": "restricted", "mask": "redact", "gate": True}
    other = write_yaml(tmp_path / "gate.yaml", data)
    monkeypatch.setattr(sys, "stdin", io.StringIO(CLASSIFY_TEXT))
    gated = _classify_json(cli(capsys, "classify", "-", "--json", "--policy", str(other)))
    bad = write_yaml(tmp_path / "bad.yaml", {"levels": ["a"], "bogus": 1})
    monkeypatch.setattr(sys, "stdin", io.StringIO(CLASSIFY_TEXT))
    refused = cli(capsys, "classify", "-", "--policy", str(bad))

    assert gated["level"] == "restricted"
    assert {f["level"] for f in gated["findings"] if f["type"] == "EMAIL_ADDRESS"} == {  # type: ignore[union-attr,index]
        "restricted"}
    assert refused.code == 2 and "bogus" in refused.error and refused.out == ""


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("data.xyz", "hello", "unsupported file type"),
        ("empty.txt", "", "empty"),
        ("missing.txt", None, "unreadable"),
    ],
    ids=["unsupported", "empty", "missing"],
)
def test_when_classify_cannot_read_the_file_then_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: str | None,
    reason: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")

    run = cli(capsys, "classify", str(path), "--json")

    assert run.code == 2
    assert run.out == ""
    assert len(run.err_lines) == 1
    assert reason in run.error


def test_when_classify_gets_empty_stdin_then_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("  \n"))

    run = cli(capsys, "classify", "-", "--json")

    assert run.code == 2
    assert run.out == ""


# -- ingest ---------------------------------------------------------------------------


def test_when_ingest_json_then_one_document_with_counts_and_refusals(corpus: Corpus) -> None:
    report = corpus.report

    assert report["ingested"] == 3
    assert report["refused"] == 1
    assert report["skipped"] == 1  # the hidden file
    assert isinstance(report["chunks"], int) and report["chunks"] >= 3
    documents = report["documents"]
    assert isinstance(documents, list) and len(documents) == 3
    assert {d["tenant"] for d in documents} == {"acme"}
    assert sum(report["levels"].values()) == 3  # type: ignore[union-attr]
    assert report["levels"]["public"] == 1  # type: ignore[index]
    assert report["entities"].get("EMAIL_ADDRESS", 0) >= 1  # type: ignore[union-attr]
    [refusal] = report["refusals"]  # type: ignore[misc]
    assert Path(refusal["path"]) == corpus.root / "stray" / STRAY_NAME
    assert "no ACL rule" in refusal["reason"]


def test_when_a_file_was_refused_then_ingest_exits_1_with_one_line(corpus: Corpus) -> None:
    assert corpus.code == 1
    lines = [line for line in corpus.err.splitlines() if line.startswith("ragseal:")]
    assert lines == ["ragseal: 1 file(s) refused"]


def test_when_ingesting_a_folder_then_the_manifest_itself_is_never_ingested(
    corpus: Corpus,
) -> None:
    text = json.dumps(corpus.report)

    assert "acl.yaml" not in text
    assert corpus.report["ingested"] == 3  # alpha, beta, handbook: not the manifest


def test_when_every_file_is_covered_then_ingest_exits_0_and_reingest_is_idempotent(
    capsys: pytest.CaptureFixture[str], in_corpus: Corpus
) -> None:
    root = in_corpus.root
    before = {d["doc_id"] for d in in_corpus.report["documents"]}  # type: ignore[union-attr]

    run = cli(capsys, "ingest", str(root / "alpha"), str(root / "beta"), str(root / "handbook.md"),
              "--manifest", str(in_corpus.manifest), "--json")

    assert run.code == 0, run.err
    report = run.json
    assert isinstance(report, dict)
    assert report["ingested"] == 3 and report["refused"] == 0
    assert {d["doc_id"] for d in report["documents"]} == before
    assert not [line for line in run.err_lines if line.startswith("ragseal:")]


def test_when_ingest_without_json_then_a_summary_goes_to_stdout(
    capsys: pytest.CaptureFixture[str], in_corpus: Corpus
) -> None:
    run = cli(capsys, "ingest", str(in_corpus.root), "--manifest", str(in_corpus.manifest))

    assert run.code == 1
    assert "ingested 3 file(s)" in run.out
    assert f"{in_corpus.root / 'stray' / STRAY_NAME}: no ACL rule" in run.out
    assert run.error == "ragseal: 1 file(s) refused"
    assert "ingested 3" not in run.err


def test_when_ingest_path_does_not_exist_then_it_is_a_usage_error_not_a_crash(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = write_corpus(tmp_path / "c")
    missing = tmp_path / "nowhere"

    # Nothing given exists: bad input, one line, exit 2 (before any model).
    run = cli(capsys, "ingest", str(missing), "--manifest", str(manifest), "--json")
    assert run.code == 2 and run.error == f"ragseal: {missing}: no such file or folder"

    # Among other paths, a missing one is a usage error too (issue 20): exit 2, before any model.
    run = cli(capsys, "ingest", str(missing), str(manifest), "--manifest", str(manifest),
              "--json")
    assert run.code == 2
    assert run.error == f"ragseal: {missing}: no such file or folder"
    assert run.out == ""


def test_when_a_file_lies_outside_the_manifest_folder_then_it_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "c").mkdir()
    manifest = tmp_path / "c" / "acl.yaml"
    manifest.write_text("defaults: {tenant: acme, groups: [all-staff]}\n"
                        "rules:\n  - match: 'hr/**'\n    groups: [hr]\n", encoding="utf-8")
    outside = tmp_path / "elsewhere" / "hr" / "review.txt"
    outside.parent.mkdir(parents=True)
    outside.write_text("Salary review notes for the hr team.\n", encoding="utf-8")

    run = cli(capsys, "ingest", str(outside), "--manifest", str(manifest), "--json")

    assert run.code == 1
    assert run.json["ingested"] == 0  # type: ignore[index]


def test_when_ingest_names_a_tenant_then_it_overrides_the_manifest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = write_corpus(tmp_path / "c")

    run = cli(capsys, "ingest", str(tmp_path / "c" / "handbook.md"), "--manifest", str(manifest),
              "--tenant", "globex", "--json")
    as_acme = query(capsys, "rollout checklist", *GROUP_A)
    as_globex = query(capsys, "rollout checklist", "--user", "g@globex.example", "--groups", "a",
                      "--tenant", "globex")

    assert run.code == 0, run.err
    assert [d["tenant"] for d in run.json["documents"]] == ["globex"]  # type: ignore[index]
    assert chunks(as_acme) == []
    assert "Handbook" in texts(as_globex)


def test_when_ingest_has_no_manifest_then_it_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write_corpus(tmp_path / "c")

    run = cli(capsys, "ingest", str(tmp_path / "c" / "handbook.md"), "--json")

    assert run.code == 2  # issue 20: every file would be refused; said before loading models
    assert "--manifest is required" in run.error
    assert run.out == ""


@pytest.mark.parametrize(
    ("manifest", "key_path"),
    [
        ("rules:\n  - match: 'a/**'\n    grups: [a]\n", "rules[0].grups"),
        ("defaults: {groups: a}\n", "defaults.groups"),
        ("rules:\n  - groups: [a]\n", "rules[0].match"),
        ("defaults: {groups: [a], level: secret}\n", "defaults.level"),
        ("rules:\n  - match: 'x/**'\n    groups: [a]\n    level: topsecret\n", "rules[0].level"),
        ("defaults: [\n", "line"),
    ],
    ids=["unknown-key", "not-a-list", "missing-match", "unknown-level", "unknown-rule-level",
         "not-yaml"],
)
def test_when_manifest_is_invalid_then_ingest_exits_2_with_the_key_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, manifest: str, key_path: str
) -> None:
    write_corpus(tmp_path / "c")
    path = tmp_path / "bad.yaml"
    path.write_text(manifest, encoding="utf-8")

    run = cli(capsys, "ingest", str(tmp_path / "c"), "--manifest", str(path), "--json")

    assert run.code == 2
    assert run.out == ""
    assert run.error.startswith("ragseal: manifest: ")
    assert key_path in run.error


def test_when_manifest_file_is_missing_then_ingest_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run = cli(capsys, "ingest", str(tmp_path), "--manifest", str(tmp_path / "nope.yaml"))

    assert run.code == 2
    assert "manifest" in run.error


# -- query ----------------------------------------------------------------------------

GROUP_A = ["--user", "ann@acme.example", "--groups", "a", "--roles", "employee", *ACME]
GROUP_B = ["--user", "bob@acme.example", "--groups", "b", "--roles", "employee", *ACME]


def test_when_query_then_only_documents_the_principal_may_see_come_back(
    capsys: pytest.CaptureFixture[str], in_corpus: Corpus
) -> None:
    as_a = query(capsys, "rollout checklist", *GROUP_A)
    as_b = query(capsys, "rollout checklist", *GROUP_B)

    assert as_a.code == 0 and as_b.code == 0
    assert "blueberry" in texts(as_a) and "gooseberry" not in texts(as_a)
    assert "gooseberry" in texts(as_b) and "blueberry" not in texts(as_b)
    assert "Handbook" in texts(as_a) and "Handbook" in texts(as_b)
    docs_a = {c["doc_id"] for c in chunks(as_a)}
    docs_b = {c["doc_id"] for c in chunks(as_b)}
    assert len(docs_a) == len(docs_b) == 2
    assert len(docs_a & docs_b) == 1  # only the handbook is shared
    for c in chunks(as_a) + chunks(as_b):
        assert set(c) == {"chunk_id", "doc_id", "text", "score", "level", "masked", "injection"}


def test_when_query_from_another_tenant_or_below_clearance_then_less_comes_back(
    capsys: pytest.CaptureFixture[str], in_corpus: Corpus
) -> None:
    other_tenant = query(capsys, "rollout checklist", "--user", "ann@acme.example",
                         "--groups", "a,b", "--roles", "employee", "--tenant", "globex")
    no_role = query(capsys, "rollout checklist", "--user", "ann@acme.example",
                    "--groups", "a,b", *ACME)

    assert other_tenant.code == 0 and chunks(other_tenant) == []
    assert no_role.code == 0
    assert {c["level"] for c in chunks(no_role)} == {"public"}
    assert "Handbook" in texts(no_role)


def test_when_query_then_spans_are_revealed_only_to_roles_that_may_read_them(
    capsys: pytest.CaptureFixture[str], in_corpus: Corpus
) -> None:
    employee = query(capsys, "blueberry rollout", *GROUP_A)
    hr = query(capsys, "blueberry rollout", "--user", "hrp@acme.example", "--groups", "a",
               "--roles", "hr", *ACME)

    assert "priya.raman@example.com" not in employee.out
    alpha = next(c for c in chunks(employee) if "blueberry" in str(c["text"]))
    assert "EMAIL_ADDRESS" in alpha["masked"]  # type: ignore[operator]
    assert "priya.raman@example.com" in texts(hr)


def test_when_query_k_is_given_then_it_bounds_the_chunks(
    capsys: pytest.CaptureFixture[str], in_corpus: Corpus
) -> None:
    one = query(capsys, "rollout", *GROUP_A, k=1)

    assert one.code == 0
    assert len(chunks(one)) == 1
    for bad in ("0", "51", "many"):
        run = cli(capsys, "query", "rollout", *GROUP_A, "-k", bad, "--json")
        assert run.code == 2, bad
        assert run.out == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["query", "", "--user", "u"],
        ["query", "   ", "--user", "u"],
        ["query", "rollout", "--user", ""],
        ["query", "rollout", "--user", "u", "--tenant", ""],
        ["query", "rollout"],
    ],
    ids=["empty", "blank", "empty-user", "empty-tenant", "no-user"],
)
def test_when_query_input_is_bad_then_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    run = cli(capsys, *argv, "--json")

    assert run.code == 2
    assert run.out == ""
    assert len(run.err_lines) <= 3  # click's usage errors carry a usage and a hint line


def test_when_query_reads_stdin_then_it_works_like_an_argument(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, in_corpus: Corpus
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("gooseberry budget\n"))

    run = query(capsys, "-", *GROUP_B)

    assert run.code == 0
    assert "gooseberry" in texts(run)


def test_when_query_without_json_then_panels_go_to_stdout(
    capsys: pytest.CaptureFixture[str], in_corpus: Corpus
) -> None:
    found = cli(capsys, "query", "rollout", *GROUP_A)
    nothing = cli(capsys, "query", "rollout", "--user", "x", "--tenant", "nobody")

    assert found.code == 0 and "score" in found.out and "blueberry" in found.out
    assert "[/]" in found.out and "[bold]release" in found.out  # text, not markup
    assert nothing.code == 0 and "no chunk" in nothing.out


def test_when_nothing_was_ever_ingested_then_query_returns_no_chunks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = query(capsys, "rollout", *GROUP_A)

    assert run.code == 0, run.err
    assert chunks(run) == []


# -- delete ---------------------------------------------------------------------------


def test_when_delete_doc_id_then_queries_no_longer_return_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = write_corpus(tmp_path / "c")
    ingested = cli(capsys, "ingest", str(tmp_path / "c"), "--manifest", str(manifest), "--json")
    assert ingested.code == 1
    before = query(capsys, "blueberry rollout", *GROUP_A)
    doc_id = next(str(c["doc_id"]) for c in chunks(before) if "blueberry" in str(c["text"]))

    deleted = cli(capsys, "delete", doc_id)
    after = query(capsys, "blueberry rollout", *GROUP_A)
    again = cli(capsys, "delete", doc_id)
    again_with_tenant = cli(capsys, "delete", doc_id, *ACME)

    assert deleted.code == 0, deleted.err
    assert doc_id in deleted.out
    assert doc_id not in {c["doc_id"] for c in chunks(after)}
    assert "blueberry" not in texts(after)
    assert "Handbook" in texts(after)  # the other documents stay
    for run in (again, again_with_tenant):
        assert run.code == 2
        assert "no such document" in run.error


def test_when_delete_names_an_unknown_id_then_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    run = cli(capsys, "delete", "0" * 64)

    assert run.code == 2
    assert run.out == ""
    assert len(run.err_lines) == 1
    assert "no such document" in run.error


# -- token and serve ------------------------------------------------------------------


def test_when_token_without_secret_then_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = cli(capsys, "token", "--sub", "alice")

    assert run.code == 2
    assert run.out == ""
    assert len(run.err_lines) == 1
    assert "RAGSEAL_JWT_SECRET" in run.error


def test_when_token_with_secret_then_the_verifier_accepts_it_with_the_claims(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ragseal.api._auth import TokenVerifier
    from ragseal.api._settings import Settings
    from ragseal.retrieval import Principal

    monkeypatch.setenv("RAGSEAL_JWT_SECRET", JWT_SECRET)

    run = cli(capsys, "token", "--sub", "maria@acme.example", "--groups", "hr,all-staff",
              "--roles", "hr", "--tenant", "acme", "--ttl", "60")

    assert run.code == 0, run.err
    token = run.out.strip()
    assert token.count(".") == 2 and "\n" not in token
    principal = TokenVerifier(Settings()).verify(token)
    assert principal == Principal(sub="maria@acme.example", tenant="acme",
                                  groups=("all-staff", "hr"), roles=("hr",))
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "HS256"


def test_when_token_has_no_tenant_then_the_principal_is_in_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ragseal.api._auth import TokenVerifier
    from ragseal.api._settings import Settings

    monkeypatch.setenv("RAGSEAL_JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("RAGSEAL_JWT_ISSUER", "https://idp.example")

    run = cli(capsys, "token", "--sub", "alice")

    principal = TokenVerifier(Settings()).verify(run.out.strip())
    assert principal.tenant == "default"
    assert principal.groups == () and principal.roles == ()


@pytest.mark.parametrize(
    ("argv", "env_secret"),
    [
        (["--sub", ""], JWT_SECRET),
        (["--sub", "x" * 5000], JWT_SECRET),
        (["--sub", "alice", "--tenant", ""], JWT_SECRET),
        (["--sub", "alice", "--ttl", "0"], JWT_SECRET),
        (["--sub", "alice"], "too-short"),
    ],
    ids=["empty-sub", "huge-sub", "empty-tenant", "zero-ttl", "short-secret"],
)
def test_when_token_input_is_bad_then_exit_2_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str],
    env_secret: str,
) -> None:
    monkeypatch.setenv("RAGSEAL_JWT_SECRET", env_secret)

    run = cli(capsys, "token", *argv)

    assert run.code == 2
    assert run.out == ""
    assert env_secret not in run.err


def _forbid_binding(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    import uvicorn

    calls: list[dict[str, object]] = []

    def fake_run(app: object, **kwargs: object) -> None:
        calls.append(kwargs)

    def fake_server_run(self: uvicorn.Server, sockets: object = None) -> None:
        calls.append({"host": self.config.host, "port": self.config.port})

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setattr(uvicorn.Server, "run", fake_server_run)
    return calls


def test_when_serve_without_jwt_configuration_then_exit_2_before_binding(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _forbid_binding(monkeypatch)

    run = cli(capsys, "serve", "--port", "8765")

    assert run.code == 2
    assert calls == []
    assert len(run.err_lines) == 1
    assert "RAGSEAL_JWT_SECRET" in run.error and "RAGSEAL_JWT_JWKS" in run.error


def test_when_serve_with_unusable_jwks_then_exit_2_before_binding(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = _forbid_binding(monkeypatch)
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}', encoding="utf-8")
    monkeypatch.setenv("RAGSEAL_JWT_JWKS", str(jwks))

    run = cli(capsys, "serve")

    assert run.code == 2
    assert calls == []
    assert "RAGSEAL_JWT_JWKS" in run.error


def test_when_serve_is_configured_then_it_binds_the_given_host_and_port(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _forbid_binding(monkeypatch)
    monkeypatch.setenv("RAGSEAL_JWT_SECRET", JWT_SECRET)

    run = cli(capsys, "serve", "--host", "127.0.0.1", "--port", "8765")

    assert run.code == 0, run.err
    assert len(calls) == 1
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["port"] == 8765


# -- keys -----------------------------------------------------------------------------


def _key_material(data_dir: Path) -> list[str]:
    """Every secret the keyring folder holds, as it would appear if leaked."""
    found = []
    for path in (data_dir / "keys").rglob("*"):
        if path.is_file() and path.stat().st_size <= 256:
            raw = path.read_bytes().strip()
            if raw:
                found += [raw.decode("latin-1"), base64.b64encode(raw).decode()]
    return found


def test_when_keys_status_json_then_versions_and_counters_and_no_key_material(
    capsys: pytest.CaptureFixture[str], in_corpus: Corpus
) -> None:
    run = cli(capsys, "keys", "status", "--json")

    assert run.code == 0, run.err
    status = run.json
    assert isinstance(status, dict)
    assert status["active_version"] >= 1
    assert status["versions"][str(status["active_version"])] == "active"
    assert status["data_keys"] == 3
    assert status["encryptions"] >= 3
    assert set(status) == {"active_version", "versions", "data_keys_per_version", "data_keys",
                           "encryptions", "max_encryptions_one_key"}
    for secret in _key_material(in_corpus.data_dir):
        assert secret not in run.out


def test_when_keys_rotate_then_a_new_version_is_active_and_data_stays_readable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = write_corpus(tmp_path / "c")
    cli(capsys, "ingest", str(tmp_path / "c" / "handbook.md"), "--manifest", str(manifest))

    rotated = cli(capsys, "keys", "rotate")
    status = cli(capsys, "keys", "status", "--json").json
    text_status = cli(capsys, "keys", "status")
    retired = cli(capsys, "keys", "retire", "1")
    retire_active = cli(capsys, "keys", "retire", "2")
    after = query(capsys, "rollout checklist", *GROUP_A)

    assert rotated.code == 0 and "v2" in rotated.out
    assert isinstance(status, dict)
    assert status["active_version"] == 2
    assert status["versions"] == {"1": "decrypt-only", "2": "active"}
    assert status["data_keys_per_version"] == {"2": 1}
    assert text_status.code == 0 and "active version: v2" in text_status.out
    assert retired.code == 0
    assert retire_active.code == 2 and "active" in retire_active.error
    assert "Handbook" in texts(after)


# -- inspect --------------------------------------------------------------------------


def test_when_inspect_json_then_verdict_answer_and_findings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answer = f"Please write to {EMAIL} about it."

    run = cli(capsys, "inspect", answer, "--user", "emp@acme.example", "--roles", "employee",
              "--json")
    cleared = cli(capsys, "inspect", answer, "--user", "hr@acme.example", "--roles", "hr",
                  "--json")

    assert run.code == 0, run.err
    data = run.json
    assert isinstance(data, dict)
    assert set(data) == {"verdict", "answer", "findings"}
    assert data["verdict"] == "redact"
    assert EMAIL not in data["answer"]
    [finding] = [f for f in data["findings"] if f["type"] == "EMAIL_ADDRESS"]
    assert answer[finding["start"]:finding["end"]] == EMAIL
    assert set(finding) == {"type", "start", "end", "action", "reason"}
    assert cleared.json == {"verdict": "allow", "answer": answer, "findings": []}


def test_when_inspect_reads_stdin_and_finds_a_secret_then_it_blocks(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("the key is AKIAIOSFODNN7EXAMPLE ok\n"))

    run = cli(capsys, "inspect", "-", "--user", "counsel", "--roles", "legal", "--json")

    assert run.code == 0, run.err
    data = run.json
    assert isinstance(data, dict)
    assert data["verdict"] == "block"
    assert "AKIA" not in data["answer"]


def test_when_inspect_has_a_bad_retrieval_id_then_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = cli(capsys, "inspect", "hello", "--user", "u", "--retrieval-id", "forged.id", "--json")

    assert run.code == 2
    assert run.out == ""
    assert len(run.err_lines) == 1


def test_when_inspect_gets_the_retrieval_id_of_its_own_query_then_it_accepts_it(
    capsys: pytest.CaptureFixture[str], in_corpus: Corpus
) -> None:
    retrieval = query(capsys, "rollout", *GROUP_A).json
    assert isinstance(retrieval, dict)
    rid = str(retrieval["retrieval_id"])

    own = cli(capsys, "inspect", "fine", *GROUP_A, "--retrieval-id", rid, "--json")
    other = cli(capsys, "inspect", "fine", *GROUP_B, "--retrieval-id", rid, "--json")

    assert own.code == 0 and own.json["verdict"] == "allow"  # type: ignore[index]
    assert other.code == 2


# -- relabel --------------------------------------------------------------------------

ALPHA_EMAIL = "priya.raman@example.com"
GROUP_A_HR = ["--user", "hrp@acme.example", "--groups", "a", "--roles", "hr", *ACME]
GROUP_A_LEGAL = ["--user", "law@acme.example", "--groups", "a", "--roles", "legal", *ACME]


def _gating_email_policy(tmp_path: Path) -> Path:
    data = bundled_policy()
    entities = data["entities"]
    assert isinstance(entities, dict)
    entities["EMAIL_ADDRESS"] = {"level": "restricted", "mask": "pseudonym", "gate": True}
    return write_yaml(tmp_path / "gate-email.yaml", data)


def test_when_relabel_runs_under_the_ingest_policy_then_nothing_changes(
    capsys: pytest.CaptureFixture[str], in_corpus: Corpus,
) -> None:
    run = cli(capsys, "relabel", "--json")

    assert run.code == 0, run.err
    report = run.json
    assert isinstance(report, dict)
    assert set(report) == {"dry_run", "documents", "scanned", "relabeled", "unchanged",
                           "skipped", "legacy", "mismatched", "levels", "errors",
                           "seconds"}
    assert report["relabeled"] == 0 and report["errors"] == [] and report["levels"] == []
    assert report["documents"] == 3
    assert report["scanned"] == report["unchanged"] == in_corpus.report["chunks"]


def test_when_an_entity_becomes_gating_then_relabel_moves_its_chunks_out_of_reach(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    manifest = write_corpus(tmp_path / "c")
    assert cli(capsys, "ingest", str(tmp_path / "c"), "--manifest", str(manifest)).code == 1
    assert "blueberry" in texts(query(capsys, "blueberry rollout", *GROUP_A_HR))
    monkeypatch.setenv("RAGSEAL_POLICY", str(_gating_email_policy(tmp_path)))

    dry = cli(capsys, "relabel", "--dry-run", "--json")
    still = query(capsys, "blueberry rollout", *GROUP_A_HR)
    done = cli(capsys, "relabel", "--json")
    hr = query(capsys, "blueberry rollout", *GROUP_A_HR)
    legal = query(capsys, "blueberry rollout", *GROUP_A_LEGAL)
    again = cli(capsys, "relabel", "--tenant", "acme")
    audit = cli(capsys, "audit", "export")

    assert dry.code == 0 and dry.json["relabeled"] == 1 and dry.json["dry_run"] is True
    assert "blueberry" in texts(still)  # a dry run writes nothing
    assert done.code == 0, done.err
    assert done.json["levels"] == [{"before": "internal", "after": "restricted", "chunks": 1}]
    assert "blueberry" not in texts(hr)
    assert any("blueberry" in str(c["text"]) and c["level"] == "restricted"
               for c in chunks(legal))
    assert again.code == 0 and again.out.startswith("relabelled 0 of 3 chunk(s)")
    records = [json.loads(line) for line in audit.out.splitlines()]
    relabels = [r for r in records if r["action"] == "relabel"]
    assert [r["relabeled"] for r in relabels] == [1, 1, 0]
    assert relabels[1]["levels"] == {"internal->restricted": 1}
    for run in (dry, done, again, audit):
        assert ALPHA_EMAIL not in run.out + run.err and "blueberry" not in run.out + run.err


def test_when_a_chunk_does_not_open_then_relabel_exits_1_naming_ids_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    from ragseal.store import EdgeStore

    manifest = write_corpus(tmp_path / "c")
    cli(capsys, "ingest", str(tmp_path / "c"), "--manifest", str(manifest))
    store = EdgeStore(Path(os.environ["RAGSEAL_DATA_DIR"]) / "store" / "ragseal_chunks")
    try:
        victim = next(iter(store.scroll()))
        store.set_payload(victim.id, {"groups": ["everyone"]})
    finally:
        store.close()

    run = cli(capsys, "-v", "relabel")
    as_json = cli(capsys, "relabel", "--json")

    assert run.code == 1 and as_json.code == 1
    assert "1 chunk(s) could not be relabelled" in run.error
    assert victim.id in run.out
    errors = as_json.json["errors"]
    assert [e["chunk_id"] for e in errors] == [victim.id]
    for text in (ALPHA_EMAIL, "blueberry", "gooseberry", "rollout"):
        assert text not in run.out + run.err + as_json.out


def test_when_the_policy_is_invalid_then_relabel_exits_2_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAGSEAL_POLICY", str(write_yaml(tmp_path / "bad.yaml", {"levels": []})))
    run = cli(capsys, "relabel")
    assert run.code == 2
    assert run.error.startswith("ragseal: policy:") and "levels" in run.error


# -- eval -----------------------------------------------------------------------------

EVAL_CANARY = "QX-7Z-CANARY-4411"


def _gold(text: str, kind: str, value: str) -> dict[str, object]:
    start = text.index(value)
    return {"type": kind, "start": start, "end": start + len(value)}


def _labelled(path: Path) -> Path:
    """Hand-scored corpus: EMAIL_ADDRESS tp 2, fn 1 (the canary is no e-mail), fp 0."""
    one = "Write to jane.doe@example.com before noon."
    two = "Nothing to see in this line."
    three = f"Ask bob.smith@example.org about ticket {EVAL_CANARY} in Paris."
    lines = [
        {"text": one, "spans": [_gold(one, "MAIL", "jane.doe@example.com")]},
        {"text": two, "spans": []},
        None,  # a blank line: no sample, but a line of predictions
        {"text": three, "spans": [_gold(three, "MAIL", "bob.smith@example.org"),
                                  _gold(three, "MAIL", EVAL_CANARY),
                                  _gold(three, "GPE", "Paris")]},
    ]
    path.write_text("".join("\n" if x is None else json.dumps(x) + "\n" for x in lines),
                    encoding="utf-8")
    return path


def test_when_eval_maps_gold_types_then_figures_match_the_hand_computed_ones(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    labelled = _labelled(tmp_path / "gold.jsonl")
    predictions = tmp_path / "ours.jsonl"

    run = cli(capsys, "eval", str(labelled), "--json", "--map", "MAIL=EMAIL_ADDRESS",
              "--predictions", str(predictions))

    assert run.code == 0, run.err
    report = run.json
    assert isinstance(report, dict)
    email = report["per_type"]["EMAIL_ADDRESS"]
    # P = 2/2, R = 2/3, F2 = 5PR / (4P + R) = (10/3) / (14/3) = 5/7
    assert email == {"tp": 2, "fp": 0, "fn": 1, "precision": 1.0, "recall": 0.6667,
                     "f2": 0.7143}
    assert report["overall"] == email
    assert report["not_evaluated"] == {"GPE": 1}
    assert report["misses"] == {"MAIL": [{"sample": 3, "line": 4, "type": "MAIL",
                                          "start": 39, "end": 56, "reason": "missed"}]}
    assert EVAL_CANARY not in run.out + run.err  # offsets only in JSON
    lines = predictions.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and json.loads(lines[2]) == {"spans": []}
    for line in lines:
        for span in json.loads(line)["spans"]:
            assert set(span) == {"type", "start", "end", "score"}
    found = {(s["type"], s["start"], s["end"]) for s in json.loads(lines[3])["spans"]}
    assert ("EMAIL_ADDRESS", 4, 25) in found


def test_when_eval_prints_for_a_terminal_then_missed_text_is_shown_but_never_logged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    labelled = _labelled(tmp_path / "gold.jsonl")

    run = cli(capsys, "-vv", "eval", str(labelled), "--map", "MAIL=EMAIL_ADDRESS")

    assert run.code == 0, run.err
    assert "EMAIL_ADDRESS" in run.out and "worst misses, MAIL" in run.out
    assert f"line 4 [missed] {EVAL_CANARY}" in run.out
    assert EVAL_CANARY not in run.err and "jane.doe" not in run.err  # logs hold no text


@pytest.mark.parametrize(
    ("content", "argv", "expected"),
    [
        (f'{{"text": "{EVAL_CANARY}", "spans": [{{"type": "X", "start": 0, "end": 99}}]}}\n',
         [], "line 1.spans[0]: needs 0 <= start < end <= len(text)"),
        (f'{{"text": "{EVAL_CANARY}"\n', [], "line 1: not valid JSON"),
        ('{"text": "a", "spans": []}\n', ["--map", "MAIL"], "--map 'MAIL': expected GOLD=OURS"),
        ('{"text": "a", "spans": []}\n', ["--map", "GPE=LOCATIONZ"],
         "--map: the policy does not detect LOCATIONZ"),
    ],
    ids=["span out of range", "bad json", "bad map", "unknown type"],
)
def test_when_eval_input_is_bad_then_exit_2_naming_the_line_without_its_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, argv: list[str],
    expected: str,
) -> None:
    labelled = tmp_path / "gold.jsonl"
    labelled.write_text(content, encoding="utf-8")

    run = cli(capsys, "eval", str(labelled), "--json", *argv)

    assert run.code == 2
    assert run.out == ""
    assert expected in run.error
    assert EVAL_CANARY not in run.err


def test_when_eval_reads_many_lines_then_one_classifier_classifies_them_in_batches(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ragseal.classification import Classifier

    calls: list[int] = []
    built: list[int] = []
    real_many, real_init = Classifier.classify_many, Classifier.__init__

    def counting_many(self: Classifier, texts: list[str]) -> object:
        calls.append(len(texts))
        return real_many(self, texts)

    def counting_init(self: Classifier, *args: object, **kwargs: object) -> None:
        built.append(1)
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Classifier, "classify_many", counting_many)
    monkeypatch.setattr(Classifier, "__init__", counting_init)
    text = "Write to jane.doe@example.com before noon."
    span = _gold(text, "EMAIL_ADDRESS", "jane.doe@example.com")
    labelled = tmp_path / "many.jsonl"
    labelled.write_text(json.dumps({"text": text, "spans": [span]}) + "\n" * 1 + "\n".join(
        json.dumps({"text": text, "spans": [span]}) for _ in range(599)) + "\n",
        encoding="utf-8")

    run = cli(capsys, "eval", str(labelled), "--json")

    assert run.code == 0, run.err
    assert built == [1] and calls == [256, 256, 88]
    assert run.json["per_type"]["EMAIL_ADDRESS"]["tp"] == 600


def test_when_classify_runs_at_debug_then_its_logs_hold_no_finding_text(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    canary_mail = "zebulon.canary@example.com"
    text = f"Zebulon Quixwhistle writes from {canary_mail}; SSN 536-22-8419.\n"
    for argv in (["classify", "-"], ["classify", "-", "--json"]):
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))
        run = cli(capsys, "-vv", *argv)
        assert run.code == 0, run.err
        assert run.err.strip()  # it did log
        for value in (canary_mail, "Quixwhistle", "536-22-8419"):
            assert value not in run.err


def test_when_query_asks_for_pseudonyms_then_inspect_with_its_id_puts_them_back(
    capsys: pytest.CaptureFixture[str], in_corpus: Corpus
) -> None:
    hr = ["--user", "hrp@acme.example", "--groups", "a", "--roles", "hr", *ACME]
    run = cli(capsys, "query", "rollout checklist", *hr, "-k", "5", "--pseudonymize", "--json")
    assert run.code == 0, run.err
    data = run.json
    assert isinstance(data, dict)
    shown = texts(run)
    assert "priya.raman@example.com" not in shown  # readable, but shown as a pseudonym
    [tag] = sorted(set(re.findall(r"<EMAIL_ADDRESS_[0-9a-f]{6}>", shown)))
    answer = f"Write to {tag}."
    back = cli(capsys, "inspect", answer, *hr, "--retrieval-id", str(data["retrieval_id"]),
               "--json")
    assert back.code == 0 and back.json == {
        "verdict": "allow", "answer": "Write to priya.raman@example.com.", "findings": []}


def test_when_ingest_has_no_manifest_but_one_lies_beside_then_it_is_named_not_used(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = write_corpus(tmp_path / "c")
    (tmp_path / "c" / "acl.yaml").write_text(manifest.read_text())

    run = cli(capsys, "ingest", str(tmp_path / "c"), "--json")

    assert run.code == 2  # never applied on its own: the ACL is the batch job's choice
    assert f"did you mean --manifest {tmp_path / 'c' / 'acl.yaml'}?" in run.error
    assert run.out == ""
