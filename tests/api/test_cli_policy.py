"""``ragseal policy``: check (the floor, base warnings), show, push, history,
rollback — driven in-process through ``main(argv)`` as users drive it."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from ragseal.api.cli import main

from ..classification.test_policy_floor import CONTRACT_EXAMPLE


@dataclass
class Run:
    code: int
    out: str
    err: str


def cli(*argv: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return Run(code, out.getvalue(), err.getvalue())


def write_yaml(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_when_a_policy_lists_no_secret_then_check_prints_what_the_floor_adds(
    tmp_path: Path,
) -> None:
    run = cli("policy", "check", str(write_yaml(tmp_path / "p.yaml", CONTRACT_EXAMPLE)))

    assert run.code == 0, run.err
    assert "floor: entities.AWS_ACCESS_KEY: added (restricted, redact, gate)" in run.out
    assert "floor: entities.API_TOKEN: added (restricted, redact, gate)" in run.out
    # The base (bundled) policy detects IBANs; the example does not: a warning.
    assert "warning: entities.IBAN_CODE: the base policy detects it" in run.err


def test_when_the_base_policy_is_checked_then_nothing_is_added_or_warned() -> None:
    run = cli("policy", "check")

    assert run.code == 0
    assert "floor:" not in run.out and run.err == ""


def test_when_the_policy_is_invalid_then_check_exits_2_with_the_key_path(tmp_path: Path) -> None:
    data = json.loads(json.dumps(CONTRACT_EXAMPLE))
    data["entities"]["PERSON"]["colour"] = "red"
    run = cli("policy", "check", str(write_yaml(tmp_path / "p.yaml", data)))

    assert run.code == 2
    assert "entities.PERSON.colour" in run.err


@pytest.mark.slow  # push builds the version's classifier before storing it
def test_when_a_policy_is_pushed_then_show_history_and_rollback_see_the_versions(
    tmp_path: Path,
) -> None:
    file = write_yaml(tmp_path / "acme.yaml", CONTRACT_EXAMPLE)

    pushed = cli("policy", "push", str(file), "--tenant", "acme", "--json")
    assert pushed.code == 0, pushed.err
    first = json.loads(pushed.out)
    assert (first["version"], first["previous_version"]) == (1, 0)

    shown = json.loads(cli("policy", "show", "--tenant", "acme", "--json").out)
    assert shown["version"] == 1 and shown["fingerprint"] == first["fingerprint"]
    assert shown["entities"]["AWS_ACCESS_KEY"]["level"] == "restricted"  # the floor
    other = json.loads(cli("policy", "show", "--tenant", "globex", "--json").out)
    assert other["version"] == 0 and other["fingerprint"] != first["fingerprint"]

    back = json.loads(cli("policy", "rollback", "0", "--tenant", "acme", "--json").out)
    assert back["version"] == 2 and back["fingerprint"] == other["fingerprint"]
    history = json.loads(cli("policy", "history", "--tenant", "acme", "--json").out)
    assert [v["version"] for v in history["versions"]] == [0, 1, 2]
    assert history["versions"][1]["author"].startswith("cli:")
    old = json.loads(cli("policy", "show", "--tenant", "acme", "--version", "1", "--json").out)
    assert old["fingerprint"] == first["fingerprint"]


def test_when_a_pushed_policy_changes_the_levels_then_exit_2_and_nothing_stored(
    tmp_path: Path,
) -> None:
    data = json.loads(json.dumps(CONTRACT_EXAMPLE))
    data["levels"] = [*data["levels"], "top-secret"]
    run = cli("policy", "push", str(write_yaml(tmp_path / "p.yaml", data)), "--tenant", "acme")

    assert run.code == 2
    assert "levels: must equal the base policy's levels" in run.err
    history = json.loads(cli("policy", "history", "--tenant", "acme", "--json").out)
    assert [v["version"] for v in history["versions"]] == [0]


def test_when_a_version_does_not_exist_then_show_and_rollback_exit_2() -> None:
    assert cli("policy", "show", "--tenant", "acme", "--version", "4").code == 2
    run = cli("policy", "rollback", "4", "--tenant", "acme")
    assert run.code == 2 and "no version 4" in run.err
