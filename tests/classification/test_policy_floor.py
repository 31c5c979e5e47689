"""The floor: secrets are detected, redacted, gating and at the highest level
under every policy (CONTRACT.md, "Policy administration")."""

from __future__ import annotations

import secrets
import string

import pytest
from ragseal.classification import FLOOR_ENTITIES, Classifier, default_policy, parse_policy
from ragseal.classification._floor import with_floor
from ragseal.classification._policy import Policy

# CONTRACT.md's example policy, as published: it lists no secret type.
CONTRACT_EXAMPLE = {
    "levels": ["public", "internal", "confidential", "restricted"],
    "entities": {
        "PERSON": {"level": "confidential", "mask": "pseudonym"},
        "EMAIL_ADDRESS": {"level": "confidential", "mask": "pseudonym"},
        "PHONE_NUMBER": {"level": "confidential", "mask": "redact"},
        "US_SSN": {"level": "restricted", "mask": "redact", "gate": True},
        "CREDIT_CARD": {"level": "restricted", "mask": "last4"},
    },
    "recognizers": [
        {"entity": "EMPLOYEE_ID", "patterns": [r"\bEMP-\d{6}\b"],
         "context": ["employee", "staff"], "level": "confidential", "mask": "redact"},
        {"entity": "PROJECT_CODENAME", "deny_list": ["Bluebird", "Nightjar"],
         "level": "restricted", "mask": "redact"},
    ],
    "markers": [{"phrases": ["STRICTLY CONFIDENTIAL", "attorney-client privileged"],
                 "level": "restricted"}],
    "min_score": 0.5,
    "roles": {
        "employee": {"clearance": "internal"},
        "hr": {"clearance": "confidential", "unmask": ["PERSON", "EMAIL_ADDRESS"]},
        "legal": {"clearance": "restricted", "unmask": "all"},
        "steward": {"clearance": "internal"},
        "ingestor": {"clearance": "public"},
    },
}


def _raw(data: dict[str, object]) -> Policy:
    """The policy as written, before the floor (to compare against)."""
    return Policy.model_validate(data)


def _floored(policy: Policy, entity: str) -> None:
    rule = policy.entity_rule(entity)
    assert (rule.level, rule.mask, rule.gate) == (policy.highest, "redact", True)
    assert policy.threshold(entity) <= 0.5


def test_floor_entities_are_the_secret_recognizers_entities() -> None:
    from ragseal.classification._registry import SECRET_ENTITIES

    assert FLOOR_ENTITIES == SECRET_ENTITIES


@pytest.mark.parametrize("entity", sorted(FLOOR_ENTITIES))
def test_when_a_policy_lists_no_secret_then_the_floor_adds_each(entity: str) -> None:
    assert entity not in _raw(CONTRACT_EXAMPLE).entity_rules
    notes: list[str] = []
    policy = parse_policy(CONTRACT_EXAMPLE, notes=notes)
    _floored(policy, entity)
    assert f"entities.{entity}: added (restricted, redact, gate)" in notes


def test_when_a_policy_weakens_a_secret_then_the_floor_restores_it_and_says_so() -> None:
    data = dict(CONTRACT_EXAMPLE)
    data["entities"] = {**CONTRACT_EXAMPLE["entities"],  # type: ignore[dict-item]
                        "API_TOKEN": {"level": "public", "mask": "pseudonym", "gate": False,
                                      "min_score": 0.99}}
    notes: list[str] = []
    policy = parse_policy(data, notes=notes)
    _floored(policy, "API_TOKEN")
    assert {"entities.API_TOKEN.level: public raised to restricted",
            "entities.API_TOKEN.mask: pseudonym replaced by redact",
            "entities.API_TOKEN.gate: turned on",
            "entities.API_TOKEN.min_score: 0.99 lowered to 0.5"} <= set(notes)
    # Shown as applied: what GET /v1/policy returns carries the floor.
    assert policy.to_json()["entities"]["API_TOKEN"]["level"] == "restricted"  # type: ignore[index]


def test_when_a_custom_recognizer_takes_a_secret_name_then_it_is_floored_too() -> None:
    data = dict(CONTRACT_EXAMPLE)
    data["recognizers"] = [*CONTRACT_EXAMPLE["recognizers"],  # type: ignore[misc]
                           {"entity": "PASSWORD", "patterns": [r"\bpw:\S+"],
                            "level": "internal", "mask": "pseudonym"}]
    data["min_score"] = 0.95
    notes: list[str] = []
    policy = parse_policy(data, notes=notes)
    _floored(policy, "PASSWORD")
    assert any(n.startswith("recognizers[2]: the built-in PASSWORD") for n in notes)


def test_when_a_role_unmasks_all_below_the_highest_level_then_secrets_stay_masked() -> None:
    data = dict(CONTRACT_EXAMPLE)
    data["roles"] = {**CONTRACT_EXAMPLE["roles"],  # type: ignore[dict-item]
                     "hr": {"clearance": "confidential", "unmask": "all"},
                     "ops": {"clearance": "internal", "unmask": ["AWS_ACCESS_KEY"]}}
    notes: list[str] = []
    policy = parse_policy(data, notes=notes)
    assert policy.may_unmask(["hr"], "PERSON")  # unmask still works for the rest
    for role in ("hr", "ops", "employee"):
        assert not any(policy.may_unmask([role], e) for e in FLOOR_ENTITIES), role
    assert all(policy.may_unmask(["legal"], e) for e in FLOOR_ENTITIES)
    assert any(n.startswith("roles.hr.unmask:") for n in notes)
    assert any(n.startswith("roles.ops.unmask: AWS_ACCESS_KEY") for n in notes)


def test_when_a_policy_already_meets_the_floor_then_it_is_unchanged() -> None:
    base = default_policy()
    again, notes = with_floor(base)
    assert again is base and notes == ()
    assert again.fingerprint == base.fingerprint


def test_when_a_policy_is_stricter_than_the_floor_then_it_keeps_its_stricter_rule() -> None:
    data = dict(CONTRACT_EXAMPLE)
    data["entities"] = {**CONTRACT_EXAMPLE["entities"],  # type: ignore[dict-item]
                        "PASSWORD": {"level": "restricted", "mask": "redact", "gate": True,
                                     "min_score": 0.2}}
    policy = parse_policy(data)
    assert policy.threshold("PASSWORD") == 0.2


def _token(prefix: str, alphabet: str, n: int) -> str:
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


@pytest.mark.slow
def test_when_the_contract_example_policy_is_in_force_then_secrets_are_found_and_gate() -> None:
    policy = parse_policy(CONTRACT_EXAMPLE)
    akid = _token("AKIA", string.ascii_uppercase + "234567", 16)
    ghp = _token("ghp_", string.ascii_letters + string.digits, 36)
    text = (f"Deploy runbook.\naws_access_key_id = {akid}\n"
            f"aws_secret_access_key = {_token('', string.ascii_letters + string.digits, 40)}\n"
            f"The CI uses {ghp} to push tags.\n")
    result = Classifier(policy).classify(text)
    found = {text[f.start:f.end]: f.entity for f in result.findings}
    assert found.get(akid) == "AWS_ACCESS_KEY"
    assert found.get(ghp) == "API_TOKEN"
    assert result.level(policy) == policy.rank("restricted")
