"""A steward's policy mistakes are named with a hint (issue 20, item 13)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from ragseal.classification import PolicyError, load_policy, parse_policy_text

BASE = resources.files("ragseal.classification").joinpath("default_policy.yaml").read_text("utf-8")


def _error(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy_text(text)
    return str(caught.value)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("mask: redact, gate: true}", "mask: redact, gte: true}",
     "entities.US_SSN.gte: unknown key (did you mean 'gate'?)"),
    ("min_score: 0.5", "min_scor: 0.5", "min_scor: unknown key (did you mean 'min_score'?)"),
    ("  - entity: EMPLOYEE_ID\n", "  - entity: EMPLOYEE_ID\n    contxt: [staff]\n",
     "recognizers[0].contxt: unknown key (did you mean 'context'?)"),
])
def test_when_a_key_is_misspelt_then_the_closest_key_is_suggested(
    old: str, new: str, expected: str,
) -> None:
    assert BASE.count(old) >= 1
    assert _error(BASE.replace(old, new, 1)) == expected


def test_when_yaml_is_broken_then_the_reason_and_the_line_of_the_mistake_are_named() -> None:
    lines = BASE.splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.strip() == "level: confidential")
    lines[index] = lines[index].replace("level: confidential", "level confidential")

    message = _error("".join(lines))

    assert "could not find expected ':'" in message
    assert f"at line {index + 1}" in message  # where the steward made the mistake


def test_when_the_policy_file_is_missing_then_one_clear_line() -> None:
    with pytest.raises(PolicyError, match=r"^policy file .*nowhere\.yaml: no such file$"):
        load_policy(Path("/nonexistent/nowhere.yaml"))
