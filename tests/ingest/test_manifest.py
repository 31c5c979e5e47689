"""The ACL manifest: pattern semantics, override order, default deny, errors."""

from __future__ import annotations

from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

import pytest
from ragseal.ingest._manifest import (
    DEFAULT_TENANT,
    Acl,
    Manifest,
    ManifestError,
    load_manifest,
    parse_acl,
    parse_manifest,
)

ACME = {
    "defaults": {"tenant": "acme", "groups": ["all-staff"], "level": "internal"},
    "rules": [
        {"match": "public/**", "level": "public"},
        {"match": "hr/**", "groups": ["hr"], "level": "confidential"},
        {"match": "hr/reviews/*.docx", "level": "restricted"},
        {
            "match": "board/*.pdf",
            "groups": ["executives"],
            "users": ["ceo@acme.example"],
            "level": "restricted",
        },
        {"match": "*.eml", "users": ["archivist@acme.example"]},
        {"match": "drafts/", "groups": [], "users": ["editor@acme.example"]},
    ],
}


def acl(
    groups: tuple[str, ...], level: str | None, users: tuple[str, ...] = (), tenant: str = "acme"
) -> Acl:
    return Acl(tenant=tenant, groups=groups, users=users, level=level)


@pytest.mark.parametrize(
    ("relpath", "expected"),
    [
        # no rule matches: the defaults alone
        ("notes.txt", acl(("all-staff",), "internal")),
        ("handbook/leave.md", acl(("all-staff",), "internal")),
        # a rule that sets only the level keeps the default groups
        ("public/press/launch.html", acl(("all-staff",), "public")),
        # groups and level both replaced
        ("hr/records/maria.txt", acl(("hr",), "confidential")),
        # a later rule overrides the level only; groups stay those of hr/**
        ("hr/reviews/2026.docx", acl(("hr",), "restricted")),
        ("hr/reviews/2026.pdf", acl(("hr",), "confidential")),
        # users added by a later rule; groups kept from earlier ones
        ("hr/tickets/leave.eml", acl(("hr",), "confidential", ("archivist@acme.example",))),
        ("board/memo.pdf", acl(("executives",), "restricted", ("ceo@acme.example",))),
        # an explicit empty list clears the groups
        ("drafts/q3/plan.md", acl((), "internal", ("editor@acme.example",))),
    ],
)
def test_when_rules_match_then_later_rules_override_field_by_field(
    relpath: str, expected: Acl
) -> None:
    assert parse_manifest(ACME).resolve(relpath) == expected


def test_when_a_general_rule_comes_last_then_it_wins_over_a_specific_one() -> None:
    manifest = parse_manifest(
        {
            "rules": [
                {"match": "hr/payroll.txt", "groups": ["finance"]},
                {"match": "hr/**", "groups": ["hr"]},
            ]
        }
    )
    assert manifest.resolve("hr/payroll.txt") == Acl("default", ("hr",), (), None)
    assert manifest.matching_rules("hr/payroll.txt") == (0, 1)


@pytest.mark.parametrize(
    ("pattern", "relpath", "matches"),
    [
        # '*' stays within one path segment
        ("board/*.pdf", "board/memo.pdf", True),
        ("board/*.pdf", "board/2026/memo.pdf", False),
        ("board/*", "board/memo.pdf", True),
        # a slash-free pattern matches a name at any depth
        ("*.pdf", "memo.pdf", True),
        ("*.pdf", "board/2026/memo.pdf", True),
        ("*.pdf", "board/memo.pdf.txt", False),
        ("memo.pdf", "board/memo.pdf", True),
        # a pattern with a slash is anchored at the manifest's folder
        ("board/memo.pdf", "archive/board/memo.pdf", False),
        ("/memo.pdf", "memo.pdf", True),
        ("/memo.pdf", "board/memo.pdf", False),
        # '**' crosses segments
        ("hr/**", "hr/a.txt", True),
        ("hr/**", "hr/a/b/c.txt", True),
        ("hr/**", "hra/a.txt", False),
        ("hr/**", "finance/hr/a.txt", False),
        ("**/payroll/*.txt", "payroll/run.txt", True),
        ("**/payroll/*.txt", "finance/eu/payroll/run.txt", True),
        ("finance/**/*.pdf", "finance/q1.pdf", True),
        ("finance/**/*.pdf", "finance/eu/2026/q1.pdf", True),
        # a directory pattern covers everything below the directory
        ("hr/", "hr/records/a.txt", True),
        ("hr/", "finance/hr/records/a.txt", True),
        ("?.md", "a.md", True),
        ("?.md", "ab.md", False),
        ("[ab].md", "b.md", True),
        # matching is case-sensitive, like git on Linux
        ("HR/**", "hr/a.txt", False),
    ],
)
def test_when_a_pattern_is_gitignore_style_then_it_matches_like_git(
    pattern: str, relpath: str, matches: bool
) -> None:
    manifest = parse_manifest({"rules": [{"match": pattern, "groups": ["g"]}]})
    assert (manifest.resolve(relpath) is not None) is matches


@pytest.mark.parametrize(
    "relpath",
    [
        "./hr/a.txt",
        PurePosixPath("hr/a.txt"),
        PureWindowsPath("hr\\a.txt"),
    ],
)
def test_when_a_path_is_spelled_differently_then_it_resolves_the_same(
    relpath: str | PurePosixPath,
) -> None:
    assert parse_manifest(ACME).resolve(relpath) == acl(("hr",), "confidential")


@pytest.mark.parametrize(
    ("data", "relpath"),
    [
        # no default and no rule covers the file
        ({"rules": [{"match": "hr/**", "groups": ["hr"]}]}, "finance/run.txt"),
        # defaults that name nobody who could read
        ({"defaults": {"tenant": "acme", "level": "internal"}}, "notes.txt"),
        ({"defaults": {"groups": []}, "rules": [{"match": "x", "level": "public"}]}, "x"),
        # a rule that takes every reader away
        (
            {
                "defaults": {"groups": ["all-staff"]},
                "rules": [{"match": "secret/**", "groups": [], "users": []}],
            },
            "secret/a.txt",
        ),
        # paths that leave the manifest's folder or are not relative
        ({"defaults": {"groups": ["all-staff"]}}, "../elsewhere/a.txt"),
        ({"defaults": {"groups": ["all-staff"]}}, "/etc/passwd"),
        ({"defaults": {"groups": ["all-staff"]}}, ""),
        ({"defaults": {"groups": ["all-staff"]}}, "."),
        ({"defaults": {"groups": ["all-staff"]}}, PureWindowsPath("C:\\hr\\a.txt")),
        ({"defaults": {"groups": ["all-staff"]}}, PurePosixPath("hr/../../a.txt")),
    ],
)
def test_when_nothing_covers_a_file_or_nobody_could_read_it_then_it_is_refused(
    data: dict[str, object], relpath: str | PurePath
) -> None:
    assert parse_manifest(data).resolve(relpath) is None


@pytest.mark.parametrize(
    ("data", "cli_tenant", "expected"),
    [
        ({"defaults": {"tenant": "acme", "groups": ["g"]}}, None, "acme"),
        ({"defaults": {"tenant": "acme", "groups": ["g"]}}, "globex", "globex"),
        ({"defaults": {"groups": ["g"]}}, "globex", "globex"),
        ({"defaults": {"groups": ["g"]}}, None, DEFAULT_TENANT),
        (
            {
                "defaults": {"tenant": "acme", "groups": ["g"]},
                "rules": [{"match": "eu/**", "tenant": "acme-eu"}],
            },
            None,
            "acme-eu",
        ),
        (
            {
                "defaults": {"tenant": "acme", "groups": ["g"]},
                "rules": [{"match": "eu/**", "tenant": "acme-eu"}],
            },
            "globex",
            "globex",
        ),
    ],
)
def test_when_a_tenant_is_given_on_the_command_line_then_it_overrides_the_manifest(
    data: dict[str, object], cli_tenant: str | None, expected: str
) -> None:
    resolved = parse_manifest(data).resolve("eu/a.txt", default_tenant=cli_tenant)
    assert resolved is not None
    assert resolved.tenant == expected


def test_when_groups_repeat_then_the_acl_is_sorted_and_deduplicated() -> None:
    manifest = parse_manifest(
        {
            "defaults": {
                "groups": ["ops", "all-staff", "ops"],
                "users": ["b@x", "a@x", "b@x"],
            }
        }
    )
    assert manifest.resolve("a.txt") == Acl("default", ("all-staff", "ops"), ("a@x", "b@x"), None)


def test_when_names_have_surrounding_spaces_then_they_are_stripped() -> None:
    manifest = parse_manifest({"defaults": {"tenant": " acme ", "groups": [" hr "]}})
    assert manifest.resolve("a.txt") == Acl("acme", ("hr",), (), None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "(root): the manifest must be a mapping"),
        (None, "(root): the manifest must be a mapping"),
        ({}, "(root): the manifest covers no file"),
        ({"rule": []}, "rule: Extra inputs are not permitted"),
        ({"defaults": {"group": ["hr"]}}, "defaults.group: Extra inputs are not permitted"),
        (
            {"rules": [{"match": "a", "groups": ["g"]}, {"match": "b", "level": "x", "lvl": "y"}]},
            "rules[1].lvl: Extra inputs are not permitted",
        ),
        ({"rules": [{"groups": ["g"]}]}, "rules[0].match: Field required"),
        (
            {"rules": [{"match": 3, "groups": ["g"]}]},
            "rules[0].match: Input should be a valid string",
        ),
        (
            {"rules": [{"match": "a"}, {"match": "", "groups": ["g"]}]},
            "rules[1].match: empty pattern",
        ),
        (
            {"rules": [{"match": "a"}, {"match": "!b", "groups": ["g"]}]},
            "rules[1].match: negated patterns are not supported",
        ),
        (
            {"rules": [{"match": "# hr", "groups": ["g"]}]},
            "rules[0].match: pattern matches nothing",
        ),
        ({"rules": {"match": "a"}}, "rules: Input should be a valid list"),
        (
            {"rules": [{"match": "a", "groups": "hr"}]},
            "rules[0].groups: Input should be a valid list",
        ),
        (
            {"rules": [{"match": "a", "groups": ["hr", ""]}]},
            "rules[0].groups[1]: String should have at least 1 character",
        ),
        (
            {"rules": [{"match": "a", "groups": ["  "]}]},
            "rules[0].groups[0]: String should have at least 1 character",
        ),
        (
            {"rules": [{"match": "a", "users": [42]}]},
            "rules[0].users[0]: Input should be a valid string",
        ),
        ({"defaults": {"tenant": ""}}, "defaults.tenant: String should have at least 1 character"),
        ({"defaults": {"tenant": ["acme"]}}, "defaults.tenant: Input should be a valid string"),
        (
            {"defaults": {"groups": ["g"], "level": 2}},
            "defaults.level: Input should be a valid string",
        ),
        (
            {"defaults": {"groups": ["g"]}, "rules": [{"match": "a", "level": ""}]},
            "rules[0].level: String should have at least 1 character",
        ),
    ],
)
def test_when_the_manifest_is_invalid_then_the_error_names_the_key_path(
    data: object, message: str
) -> None:
    with pytest.raises(ManifestError) as excinfo:
        parse_manifest(data, source="acl.yaml")
    assert str(excinfo.value).startswith("acl.yaml: ")
    assert message in str(excinfo.value)


def test_when_several_keys_are_invalid_then_each_is_named() -> None:
    with pytest.raises(ManifestError) as excinfo:
        parse_manifest({"defaults": {"tenant": ""}, "rules": [{"match": "a", "groups": [""]}]})
    assert "defaults.tenant" in str(excinfo.value)
    assert "rules[0].groups[0]" in str(excinfo.value)


def test_when_levels_are_checked_against_the_policy_then_unknown_ones_are_named() -> None:
    manifest = parse_manifest(
        {
            "defaults": {"groups": ["g"], "level": "internal"},
            "rules": [{"match": "a", "level": "public"}, {"match": "b", "level": "top-secret"}],
        }
    )
    manifest.check_levels(["public", "internal", "top-secret"])
    with pytest.raises(ManifestError, match=r"rules\[1\]\.level: unknown level 'top-secret'"):
        manifest.check_levels(["public", "internal", "confidential", "restricted"])
    with pytest.raises(ManifestError, match=r"defaults\.level: unknown level 'internal'"):
        manifest.check_levels(["public", "top-secret"])


def test_when_a_manifest_is_loaded_from_a_file_then_paths_resolve_from_its_folder(
    tmp_path: Path,
) -> None:
    (tmp_path / "hr").mkdir()
    (tmp_path / "acl.yaml").write_text(
        "defaults: {tenant: acme, groups: [all-staff], level: internal}\n"
        "rules:\n  - match: 'hr/**'\n    groups: [hr]\n    level: confidential\n",
        encoding="utf-8",
    )
    manifest = load_manifest(tmp_path / "acl.yaml")
    assert manifest.base_dir == tmp_path.resolve()
    assert manifest.resolve_file(tmp_path / "hr" / "a.txt") == acl(("hr",), "confidential")
    assert manifest.resolve_file(tmp_path / "a.txt") == acl(("all-staff",), "internal")
    assert manifest.resolve_file(tmp_path.parent / "a.txt") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [\n", "acl.yaml: not valid YAML at line 2"),
        ("rules:\n  - match: 'a'\n    group: [x]\n", "acl.yaml: rules[0].group: Extra inputs"),
        ("", "acl.yaml: (root): the manifest must be a mapping"),
    ],
)
def test_when_a_manifest_file_is_bad_then_the_error_names_the_file_and_place(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "acl.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as excinfo:
        load_manifest(tmp_path / "acl.yaml")
    assert message in str(excinfo.value)


def test_when_the_manifest_file_is_missing_then_the_error_says_so(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read manifest"):
        load_manifest(tmp_path / "absent.yaml")


def test_when_a_manifest_is_permissive_then_every_file_gets_the_same_acl() -> None:
    manifest = Manifest.permissive("acme", groups=["hr", "all-staff"], level="confidential")
    expected = acl(("all-staff", "hr"), "confidential")
    assert manifest.resolve("upload.pdf") == expected
    assert manifest.resolve("any/depth/upload.docx") == expected
    assert manifest.resolve_file(Path("/srv/uploads/upload.pdf")) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"groups": [], "users": []}, "acl: (root): name at least one group or user"),
        ({}, "acl: (root): name at least one group or user"),
        ({"groups": ["hr"], "roles": ["x"]}, "acl: roles: Extra inputs are not permitted"),
        ({"groups": ["hr", ""]}, "acl: groups[1]: String should have at least 1 character"),
        ({"groups": ["hr"], "tenant": "globex"}, "acl: tenant: must be the uploader's tenant"),
        (["hr"], "acl: (root): the ACL must be a mapping"),
    ],
)
def test_when_an_upload_acl_is_invalid_then_it_is_refused_with_the_key(
    data: object, message: str
) -> None:
    with pytest.raises(ManifestError) as excinfo:
        parse_acl(data, tenant="acme")
    assert message in str(excinfo.value)


def test_when_an_upload_acl_is_valid_then_it_takes_the_uploaders_tenant() -> None:
    manifest = parse_acl({"users": ["ceo@acme.example"], "level": "restricted"}, tenant="acme")
    assert manifest.resolve("board.pdf") == acl((), "restricted", ("ceo@acme.example",))


def test_when_an_acl_is_built_then_it_cannot_be_changed() -> None:
    resolved = parse_manifest(ACME).resolve("notes.txt")
    assert resolved is not None
    with pytest.raises(AttributeError):
        resolved.level = "public"  # type: ignore[misc]


# --- one YAML loader for the manifest and the policy -------------------------------
_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [" + ", ".join([f"*{p}"] * 9) + "]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True))


@pytest.mark.parametrize(
    ("text", "manifest_error", "policy_error"),
    [
        pytest.param(
            "defaults: {tenant: acme, groups: [hr]}\nrules:\n  - match: 'a'\n"
            "    level: public\n    level: restricted\n",
            "acl.yaml: rules[0].level: duplicate key at line 5",
            "rules[0].level: duplicate key at line 5", id="duplicate key"),
        pytest.param(
            "defaults: {tenant: acme, groups: [hr]}\ndefaults: {groups: [all]}\n",
            "acl.yaml: defaults: duplicate key at line 2",
            "defaults: duplicate key at line 2", id="duplicate top-level key"),
        pytest.param(_LAUGHS, "acl.yaml: more than 64 YAML aliases",
                     "policy: more than 64 YAML aliases", id="billion laughs"),
        pytest.param("a:\n" + "".join(f"{'  ' * i}- \n" for i in range(1, 80)),
                     "acl.yaml: nested deeper than 64 levels",
                     "policy: nested deeper than 64 levels", id="too deep"),
        pytest.param("rules: [\n", "acl.yaml: not valid YAML at line 2, column 1",
                     "policy: not valid YAML at line 2, column 1", id="syntax, with the column"),
        pytest.param("x: " + "y" * 1_000_001, "acl.yaml: larger than 1,000,000 characters",
                     "policy: larger than 1,000,000 characters", id="too large"),
    ],
)
def test_when_yaml_is_refused_then_manifest_and_policy_refuse_it_the_same_way(
    tmp_path: Path, text: str, manifest_error: str, policy_error: str,
) -> None:
    from ragseal.classification import PolicyError, parse_policy_text

    (tmp_path / "acl.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as manifest:
        load_manifest(tmp_path / "acl.yaml")
    with pytest.raises(PolicyError) as policy:
        parse_policy_text(text)
    assert str(manifest.value).startswith(manifest_error)
    assert str(policy.value).startswith(policy_error)


def test_when_a_manifest_uses_anchors_and_merge_keys_then_they_are_not_duplicates(
    tmp_path: Path,
) -> None:
    (tmp_path / "acl.yaml").write_text(
        "defaults: &base {tenant: acme, groups: [all-staff], level: internal}\n"
        "rules:\n  - {<<: *base, match: 'hr/**', groups: [hr]}\n", encoding="utf-8")
    manifest = load_manifest(tmp_path / "acl.yaml")
    assert manifest.resolve_file(tmp_path / "hr" / "a.txt") == Acl(
        "acme", ("hr",), (), "internal")
