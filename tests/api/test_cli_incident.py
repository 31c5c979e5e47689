"""`ragseal tenant freeze|unfreeze|status` and `quarantine add`: usage and bad input.

No model is loaded; the server side is in tests/security/test_containment.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ragseal.api.cli import main
from ragseal.store import read_audit


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAGSEAL_DATA_DIR", str(tmp_path))
    return tmp_path


def test_when_a_tenant_is_frozen_and_thawed_then_status_and_audit_follow(
    data_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tenant", "freeze", "acme", "--reason", "token-leak"]) == 0
    assert main(["tenant", "freeze", "acme"]) == 0  # idempotent
    assert "already" in capsys.readouterr().out
    assert main(["tenant", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["frozen"] == ["acme"]
    assert [(e["tenant"], e["frozen"], e["reason"]) for e in status["history"]] == [
        ("acme", True, "token-leak")]
    assert main(["tenant", "unfreeze", "acme"]) == 0
    assert main(["tenant", "status"]) == 0
    assert capsys.readouterr().out.strip().endswith("frozen: none")
    actions = [(r["action"], r["outcome"]) for r in read_audit(data_dir / "audit")]
    assert actions.count(("tenant_freeze", "ok")) == 1
    assert ("tenant_freeze", "unchanged") in actions and ("tenant_unfreeze", "ok") in actions


@pytest.mark.parametrize("args", [
    ["tenant", "freeze", "bad tenant!"],
    ["tenant", "freeze", "acme", "--reason", "Free text with spaces"],
    ["quarantine", "add", "d1"],  # --tenant is required
])
def test_when_input_is_bad_then_exit_2_with_one_line(
    data_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str],
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.strip() and "Traceback" not in err


@pytest.mark.parametrize("command", [["tenant", "freeze"], ["tenant", "unfreeze"],
                                     ["tenant", "status"], ["quarantine", "add"]])
def test_when_help_is_asked_then_it_shows_an_example(
    capsys: pytest.CaptureFixture[str], command: list[str],
) -> None:
    assert main([*command, "--help"]) == 0
    assert "Example" in capsys.readouterr().out
