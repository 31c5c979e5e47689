"""The policy model: the bundled default is valid; errors name key paths."""

from __future__ import annotations

from typing import Any

import pytest
from ragseal.classification import PolicyError, default_policy, parse_policy, parse_policy_text

BASE: dict[str, Any] = {
    "levels": ["public", "internal", "confidential"],
    "entities": {"PERSON": {"level": "confidential", "mask": "pseudonym"}},
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


def test_when_default_policy_loads_then_it_knows_builtin_and_custom_entities() -> None:
    policy = default_policy()
    assert policy.levels[0] == policy.lowest
    assert {"PERSON", "CREDIT_CARD", "PASSWORD", "EMPLOYEE_ID", "PROJECT_CODENAME"} <= set(
        policy.entity_rules
    )
    assert policy.entity_rule("EMPLOYEE_ID").level == "confidential"
    assert policy.entity_rule("US_SSN").gate


def test_when_entity_is_unknown_then_rule_fails_closed() -> None:
    policy = parse_policy(BASE)
    rule = policy.entity_rule("NOT_IN_POLICY")
    assert (rule.level, rule.mask, rule.gate) == ("confidential", "redact", True)


def test_when_entity_sets_min_score_then_threshold_overrides_global() -> None:
    policy = parse_policy(
        _with(
            min_score=0.5,
            entities={
                "PERSON": {"level": "internal", "min_score": 0.8},
                "URL": {"level": "public"},
            },
        )
    )
    assert policy.threshold("PERSON") == 0.8
    assert policy.threshold("URL") == 0.5


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            _with(
                recognizers=[{"entity": "X_ID", "patterns": ["ok", "(bad"], "level": "internal"}]
            ),
            "recognizers[0].patterns[1]: invalid regular expression",
        ),
        (_with(entities={"PERSON": {"level": "secret"}}), "entities.PERSON.level: unknown level"),
        (
            _with(roles={"hr": {"clearance": "internal", "unmask": ["PERSON", "NOPE"]}}),
            "roles.hr.unmask[1]: unknown entity 'NOPE'",
        ),
        (_with(roles={"hr": {"clearance": "top"}}), "roles.hr.clearance: unknown level"),
        (_with(bogus=1), "bogus: unknown key (allowed here: levels, entities, recognizers, "
         "markers, min_score, roles, injection, inspect"),
        (
            _with(entities={"PERSON": {"level": "internal", "colour": "red"}}),
            "entities.PERSON.colour: unknown key (allowed here: level, mask, gate, min_score)",
        ),
        (
            _with(entities={"PERSON": {"level": "internal", "mask": "blur"}}),
            "entities.PERSON.mask:",
        ),
        (_with(recognizers=[{"entity": "X_ID", "level": "internal"}]), "recognizers[0]: needs"),
        (
            _with(recognizers=[{"entity": "PERSON", "deny_list": ["x"], "level": "internal"}]),
            "recognizers[0].entity: duplicate entity 'PERSON'",
        ),
        (_with(entities={"person": {"level": "internal"}}), "entities.person: entity names"),
        (_with(markers=[{"phrases": ["  "], "level": "internal"}]), "markers[0].phrases[0]: empty"),
        (_with(markers=[{"phrases": ["x"], "level": "nope"}]), "markers[0].level: unknown level"),
        (_with(min_score=1.5), "min_score:"),
        (_with(levels=["a", "a"]), "levels: duplicate level name"),
        ([], "(root): the policy must be a mapping"),
        (_with(inspect={"allowed_hosts": ["ok.example", "https://x.example"]}),
         "inspect.allowed_hosts[1]: not a lower-case host name"),
        (_with(inspect={"allowed_hosts": ["*.acme.example"]}), "inspect.allowed_hosts[0]:"),
        (_with(inspect={"allowed_hosts": ["Acme.Example"]}), "inspect.allowed_hosts[0]:"),
        (_with(inspect={"hosts": []}), "inspect.hosts: unknown key (allowed here: allowed_hosts)"),
    ],
)
def test_when_policy_is_invalid_then_error_names_the_key_path(data: object, expected: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(data)
    assert expected in str(caught.value)


def test_when_yaml_is_broken_then_error_gives_the_line() -> None:
    with pytest.raises(PolicyError, match="not valid YAML at line 2"):
        parse_policy_text("levels: [a]\n  bad: : x\n")


def test_when_pattern_is_invalid_then_error_does_not_echo_the_pattern() -> None:
    canary = "CANARY(7f3a"
    with pytest.raises(PolicyError) as caught:
        parse_policy(
            _with(recognizers=[{"entity": "X_ID", "patterns": [canary], "level": "internal"}])
        )
    assert canary not in str(caught.value)


@pytest.mark.parametrize("rank", [-1, -4, 4, 99])
def test_when_level_rank_out_of_range_or_negative_then_refused(rank: int) -> None:
    from ragseal.classification import default_policy

    with pytest.raises(IndexError):
        default_policy().level_name(rank)


LEVELS = "levels: [public, internal, restricted]\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            LEVELS + "entities:\n  PERSON: {level: internal, colour: red}\n",
            "entities.PERSON.colour: unknown key (allowed here: level, mask, gate, min_score)",
            id="unknown key"),
        pytest.param(
            LEVELS + "recognizers:\n  - entity: X_ID\n    patterns: ['ok', '[a-']\n"
            "    level: internal\n",
            "recognizers[0].patterns[1]: invalid regular expression (unterminated character "
            "set)", id="bad regex"),
        pytest.param(
            LEVELS + "recognizers:\n  - entity: X_ID\n    patterns: ['(a+)+$']\n"
            "    level: internal\n",
            "recognizers[0].patterns[0]: regular expression refused, a repeated group holds an "
            "unbounded repeat (nested quantifiers); rewrite it without nested unbounded repeats "
            "(e.g. (ab)+ rather than (a+b?)+)", id="catastrophic regex"),
        pytest.param(
            LEVELS + "recognizers:\n  - entity: X_ID\n    patterns: ['(a|aa)*$']\n"
            "    level: internal\n",
            "recognizers[0].patterns[0]: regular expression refused, it backtracks "
            "catastrophically on a probe string; rewrite it without nested unbounded repeats "
            "(e.g. (ab)+ rather than (a+b?)+)", id="regex slow on probe"),
        pytest.param(
            LEVELS + "entities:\n  PERSON: {level: internal, mask: blur}\n",
            "entities.PERSON.mask: Input should be 'pseudonym', 'redact' or 'last4'",
            id="unknown mask"),
        pytest.param(
            LEVELS + "entities:\n  PERSON: {level: secret}\n",
            "entities.PERSON.level: unknown level 'secret'", id="unknown level"),
        pytest.param(
            LEVELS + "entities:\n  PERSON: {level: internal}\n  PERSON: {level: public}\n",
            "entities.PERSON: duplicate key at line 4", id="duplicate entity key"),
        pytest.param(
            LEVELS + "entities:\n  PERSON: {level: internal}\nrecognizers:\n"
            "  - {entity: PERSON, deny_list: [x], level: internal}\n",
            "recognizers[0].entity: duplicate entity 'PERSON'", id="entity and recognizer"),
        pytest.param(
            LEVELS + "recognizers:\n  - {entity: X_ID, deny_list: [x], level: internal}\n"
            "  - {entity: X_ID, patterns: ['y'], level: internal}\n",
            "recognizers[1].entity: duplicate entity 'X_ID'", id="two recognizers"),
        pytest.param(
            LEVELS + "roles:\n  hr: {clearance: top}\n",
            "roles.hr.clearance: unknown level 'top'", id="bad role clearance"),
        pytest.param(
            LEVELS + "roles:\n  hr:\n    clearance: internal\n    clearance: restricted\n",
            "roles.hr.clearance: duplicate key at line 5", id="duplicate nested key"),
        pytest.param(
            '{"levels": ["a"], "levels": ["b"]}', "levels: duplicate key at line 1",
            id="duplicate key in JSON"),
    ],
)
def test_when_policy_text_is_invalid_then_the_error_is_exactly_the_key_path_and_reason(
    text: str, expected: str,
) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy_text(text)
    assert str(caught.value) == expected


def test_when_yaml_uses_anchors_and_merge_keys_then_they_are_not_duplicates() -> None:
    text = (LEVELS + "entities:\n  PERSON: &conf {level: internal, mask: pseudonym}\n"
            "  EMAIL_ADDRESS: *conf\n  PHONE_NUMBER: {<<: *conf, mask: redact}\n")
    policy = parse_policy_text(text)
    assert policy.entity_rule("EMAIL_ADDRESS").mask == "pseudonym"
    assert policy.entity_rule("PHONE_NUMBER").mask == "redact"
    assert policy.entity_rule("PHONE_NUMBER").level == "internal"


def test_when_inspect_hosts_are_set_then_they_load_and_default_is_none() -> None:
    assert parse_policy(_with()).inspect.allowed_hosts == ()
    policy = parse_policy(_with(inspect={"allowed_hosts": ["acme.example", "docs.acme.example"]}))
    assert policy.inspect.allowed_hosts == ("acme.example", "docs.acme.example")


@pytest.mark.parametrize("text", ["\x00", "levels: [a, b]\x07", "min_score: 0.5\n\x1b"])
def test_when_a_policy_holds_a_control_character_then_it_is_refused_with_where(
    text: str,
) -> None:
    """The YAML reader refuses these in its constructor (a ReaderError, before
    any parsing): found by schemathesis as a 500 on PUT /v1/policy."""
    from ragseal.classification import PolicyError, parse_policy_text

    with pytest.raises(PolicyError, match="at character"):
        parse_policy_text(text)
