"""The ACL manifest: which tenant, groups, users and level each file gets.

A manifest is YAML written next to a document store (CONTRACT.md, "ACL
manifest")::

    defaults: {tenant: acme, groups: [all-staff], level: internal}
    rules:                      # later rules override earlier ones, like .gitignore
      - match: "hr/**"
        groups: [hr]
        level: confidential

``match`` is a gitignore-style pattern matched against the file's path
relative to the manifest's folder, with POSIX separators. Every rule that
matches is applied in order, field by field: a rule that sets only
``level`` keeps the groups decided before it; an explicit empty list
(``users: []``) clears the field.

Default deny: a file that no rule and no default covers, or whose resulting
ACL names no group and no user, is refused (``resolve`` returns ``None``).
Levels are kept as strings here; :meth:`Manifest.check_levels` checks them
against the policy's levels.

Errors::

    ManifestError          the manifest cannot be used; message carries key paths
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePath, PurePosixPath
from typing import Annotated

import pathspec
from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
)
from ragseal.classification import YamlError, key_path, load_yaml

from ragseal import InvalidInputError

__all__ = [
    "DEFAULT_TENANT",
    "Acl",
    "Manifest",
    "ManifestDefaults",
    "ManifestError",
    "ManifestRule",
    "load_manifest",
    "parse_acl",
    "parse_manifest",
]

DEFAULT_TENANT = "default"


# pathspec >= 1.0 registers git's documented pattern semantics as "gitignore"
# and deprecates the "gitwildmatch" name that 0.12 offers for the same thing.
def _pattern_factory() -> str:
    try:
        pathspec.util.lookup_pattern("gitignore")
    except KeyError:
        return "gitwildmatch"
    return "gitignore"


_PATTERN_FACTORY = _pattern_factory()

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class ManifestError(InvalidInputError, ValueError):
    """The manifest is invalid; the message names each offending key path."""


@dataclass(frozen=True, slots=True)
class Acl:
    """What the manifest decided for one file.

    ``groups`` and ``users`` are sorted and free of duplicates; ``level`` is
    ``None`` when the manifest sets none (the content alone decides).
    """

    tenant: str
    groups: tuple[str, ...]
    users: tuple[str, ...]
    level: str | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ManifestDefaults(_Model):
    """ACL fields that apply to every file before any rule."""

    tenant: Name | None = None
    groups: tuple[Name, ...] | None = None
    users: tuple[Name, ...] | None = None
    level: Name | None = None

    @property
    def is_empty(self) -> bool:
        return all(v is None for v in (self.tenant, self.groups, self.users, self.level))


class ManifestRule(ManifestDefaults):
    """Fields that apply to the files ``match`` selects; unset fields are kept."""

    match: str

    @field_validator("match")
    @classmethod
    def _match_compiles(cls, match: str) -> str:
        if not match.strip():
            raise ValueError("empty pattern")
        try:
            pattern = pathspec.util.lookup_pattern(_PATTERN_FACTORY)(match)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid pattern ({exc})") from None
        if pattern.include is None:
            raise ValueError("pattern matches nothing (a comment?); escape a leading '#' as '\\#'")
        if pattern.include is False:
            raise ValueError("negated patterns are not supported; add a later rule instead")
        return match


class Manifest(_Model):
    """A validated ACL manifest.

    Build one with :func:`load_manifest`, :func:`parse_manifest`,
    :func:`parse_acl` or :meth:`Manifest.permissive`.
    """

    defaults: ManifestDefaults = ManifestDefaults()
    rules: tuple[ManifestRule, ...] = ()
    _base_dir: Path | None = PrivateAttr(default=None)

    @property
    def base_dir(self) -> Path | None:
        """The folder that ``match`` patterns are relative to (``None``: not from a file)."""
        return self._base_dir

    @classmethod
    def permissive(
        cls,
        tenant: str,
        groups: Iterable[str] = (),
        users: Iterable[str] = (),
        level: str | None = None,
    ) -> Manifest:
        """A manifest that gives every file the same ACL (single-document upload).

        Raises :class:`ManifestError` when a value is invalid or when the ACL
        names no group and no user (nobody could read the document).
        """
        data = {"tenant": tenant, "groups": list(groups), "users": list(users), "level": level}
        return parse_acl(data, tenant=tenant)

    # -- resolution -------------------------------------------------------
    @cached_property
    def _specs(self) -> tuple[pathspec.PathSpec[pathspec.Pattern], ...]:
        return tuple(pathspec.PathSpec.from_lines(_PATTERN_FACTORY, [r.match]) for r in self.rules)

    def matching_rules(self, relpath: str | PurePath) -> tuple[int, ...]:
        """Indexes of the rules that match ``relpath``, in order (for reports)."""
        path = _normalise(relpath)
        return () if path is None else self._matching(path)

    def _matching(self, path: str) -> tuple[int, ...]:
        return tuple(i for i, spec in enumerate(self._specs) if spec.match_file(path))

    def resolve(self, relpath: str | PurePath, default_tenant: str | None = None) -> Acl | None:
        """The ACL of the file at ``relpath`` (relative to the manifest's folder).

        Args:
            relpath: the file's path relative to the manifest's folder; a
                string is read with POSIX separators. A path that leaves the
                folder (``..``) or is absolute is not covered.
            default_tenant: the tenant given on the command line (``--tenant``);
                when set it overrides the manifest's tenant. With no tenant
                anywhere the file goes to ``"default"``.

        Returns:
            The file's :class:`Acl`, or ``None`` when the file is refused: no
            rule and no default covers it, or its ACL names no group and no
            user.
        """
        path = _normalise(relpath)
        if path is None:
            return None
        matched = self._matching(path)
        if not matched and self.defaults.is_empty:
            return None
        tenant, groups, users, level = (
            self.defaults.tenant,
            self.defaults.groups,
            self.defaults.users,
            self.defaults.level,
        )
        for i in matched:
            rule = self.rules[i]
            tenant = rule.tenant if rule.tenant is not None else tenant
            groups = rule.groups if rule.groups is not None else groups
            users = rule.users if rule.users is not None else users
            level = rule.level if rule.level is not None else level
        if not groups and not users:
            return None
        return Acl(
            tenant=default_tenant or tenant or DEFAULT_TENANT,
            groups=tuple(sorted(set(groups or ()))),
            users=tuple(sorted(set(users or ()))),
            level=level,
        )

    def resolve_file(self, path: str | Path, default_tenant: str | None = None) -> Acl | None:
        """:meth:`resolve` for a file on disk, relative to :attr:`base_dir`.

        A file outside the manifest's folder is not covered (``None``). A
        manifest that did not come from a file has no folder: every file is
        matched by its name alone.
        """
        path = Path(path)
        if self._base_dir is None:
            return self.resolve(PurePosixPath(path.name), default_tenant)
        try:
            rel = path.resolve().relative_to(self._base_dir)
        except ValueError:
            return None
        return self.resolve(rel, default_tenant)

    def check_levels(self, levels: Iterable[str]) -> None:
        """Raise :class:`ManifestError` naming every level not in ``levels``."""
        known = set(levels)
        problems = []
        if self.defaults.level is not None and self.defaults.level not in known:
            problems.append(f"defaults.level: unknown level {self.defaults.level!r}")
        for i, rule in enumerate(self.rules):
            if rule.level is not None and rule.level not in known:
                problems.append(f"rules[{i}].level: unknown level {rule.level!r}")
        if problems:
            raise ManifestError("; ".join(problems))


def _normalise(relpath: str | PurePath) -> str | None:
    """``relpath`` as a clean POSIX path, or ``None`` when it leaves the folder."""
    if isinstance(relpath, PurePath):
        if relpath.is_absolute() or relpath.anchor:
            return None
        relpath = relpath.as_posix()
    path = PurePosixPath(relpath)
    if path.is_absolute() or ".." in path.parts or not path.parts or path.parts == (".",):
        return None
    return path.as_posix()


def _validation_error(exc: ValidationError, source: str, prefix: str = "") -> ManifestError:
    lines = []
    for err in exc.errors(include_input=False):
        loc = key_path(tuple(err["loc"]))
        where = f"{prefix}.{loc}" if prefix and loc != "(root)" else (prefix or loc)
        # Users write YAML lists; "tuple" is our storage, not their vocabulary.
        msg = err["msg"].removeprefix("Value error, ").replace("valid tuple", "valid list")
        lines.append(f"{where}: {msg}")
    return ManifestError(f"{source}: " + "; ".join(lines))


def parse_manifest(data: object, source: str = "manifest") -> Manifest:
    """Validate a decoded manifest; raise :class:`ManifestError` with key paths."""
    if not isinstance(data, Mapping):
        raise ManifestError(f"{source}: (root): the manifest must be a mapping")
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, source) from None
    if manifest.defaults.is_empty and not manifest.rules:
        raise ManifestError(f"{source}: (root): the manifest covers no file; add defaults or rules")
    return manifest


def parse_acl(data: object, *, tenant: str, source: str = "acl") -> Manifest:
    """A manifest covering every file from an upload's ACL ``{groups, users, level}``.

    ``tenant`` is the uploader's tenant; an ACL that names a tenant of its
    own is refused unless it is the same one.
    """
    if not isinstance(data, Mapping):
        raise ManifestError(f"{source}: (root): the ACL must be a mapping")
    if data.get("tenant", tenant) != tenant:
        raise ManifestError(f"{source}: tenant: must be the uploader's tenant")
    try:
        defaults = ManifestDefaults.model_validate({**data, "tenant": tenant})
    except ValidationError as exc:
        raise _validation_error(exc, source) from None
    if not defaults.groups and not defaults.users:
        raise ManifestError(f"{source}: (root): name at least one group or user")
    return Manifest(defaults=defaults)


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate a manifest file (YAML or JSON)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc.__class__.__name__}") from None
    try:
        data = load_yaml(text)
    except YamlError as exc:  # too large, too deep, aliases, duplicate keys, not YAML
        raise ManifestError(f"{path.name}: {exc}") from None
    manifest = parse_manifest(data, source=path.name)
    manifest._base_dir = path.resolve().parent
    return manifest
