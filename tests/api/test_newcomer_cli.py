"""The first hour at the command line (issue 20): checks that run before any model.

Every case here fails fast: a usage error is one ``ragseal:`` line and exit
2, before Presidio, spaCy or the embedding model loads, and read-only
commands never create a data folder. The ingest report cases use the real
runner with stub models (tests/ingest/test_runner.py does the same).
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from ragseal.api.cli import main

JWT_SECRET = "newcomer-cli-secret-" + "n" * 40


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def no_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    missing = tmp_path / "elsewhere" / ".ragseal"
    monkeypatch.setenv("RAGSEAL_DATA_DIR", str(missing))
    return missing


@pytest.mark.parametrize("argv", [
    ["query", "holidays", "--user", "u@acme.example", "--tenant", "acme"],
    ["quarantine", "list"],
    ["quarantine", "release", "abc"],
    ["audit", "verify"],
    ["audit", "export", "--since", "24h"],
    ["keys", "status"],
    ["keys", "retire", "1"],
    ["delete", "abc", "--tenant", "acme"],
    ["relabel", "--dry-run"],
], ids=lambda argv: "-".join(argv[:2]))
def test_when_a_read_only_command_finds_no_data_dir_then_exit_2_and_none_is_created(
    capsys: pytest.CaptureFixture[str], no_data_dir: Path, argv: list[str],
) -> None:
    code, out, err = _run(capsys, *argv)

    assert code == 2
    assert _one_line(err) == (f"ragseal: no ragseal data dir at {no_data_dir}; set "
                              "RAGSEAL_DATA_DIR or run ingest first")
    assert not no_data_dir.exists()
    assert not no_data_dir.parent.exists()


def test_when_ingest_names_a_missing_manifest_then_exit_2_before_any_store(
    capsys: pytest.CaptureFixture[str], no_data_dir: Path, tmp_path: Path,
) -> None:
    code, _, err = _run(capsys, "ingest", str(tmp_path), "--manifest", str(tmp_path / "x.yaml"))

    assert code == 2
    assert _one_line(err) == f"ragseal: --manifest {tmp_path / 'x.yaml'}: no such file"
    assert not no_data_dir.exists()


def test_when_an_exclude_pattern_is_invalid_then_exit_2_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    manifest = tmp_path / "acl.yaml"
    manifest.write_text("defaults: {tenant: acme, groups: [all-staff]}\n", encoding="utf-8")

    code, _, err = _run(capsys, "ingest", str(tmp_path), "--manifest", str(manifest),
                        "--exclude", "!keep.txt")

    assert code == 2
    assert _one_line(err).startswith("ragseal: --exclude '!keep.txt': negated patterns")


def test_when_token_is_minted_then_stderr_names_its_tenant_and_stdout_is_the_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAGSEAL_JWT_SECRET", JWT_SECRET)

    code, out, err = _run(capsys, "token", "--sub", "maria@acme.example", "--tenant", "acme")
    assert code == 0
    assert out.count(".") == 2 and len(out.split()) == 1
    assert "tenant acme" in _one_line(err)

    code, out, err = _run(capsys, "token", "--sub", "maria@acme.example")
    assert code == 0
    assert "tenant default (no --tenant given)" in _one_line(err)


def test_when_the_port_is_busy_then_serve_says_so_in_one_line_and_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAGSEAL_JWT_SECRET", JWT_SECRET)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        code, out, err = _run(capsys, "serve", "--port", str(port))

    assert code == 2
    assert _one_line(err) == (f"ragseal: port {port} on 127.0.0.1 is already in use; choose "
                              "another with --port (quickstart: RAGSEAL_PORT)")
    assert out == ""


def test_when_serve_help_is_read_then_every_option_is_described(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _run(capsys, "serve", "--help")

    assert code == 0
    assert "Address to listen on" in out
    assert "TCP port" in out
    assert "Prints one line" in out


def test_when_ingest_help_is_read_then_it_says_what_patterns_are_relative_to(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _run(capsys, "ingest", "--help")

    assert code == 0
    assert "relative to the folder that holds it" in " ".join(out.split())
    assert "--root" in out and "--exclude" in out
