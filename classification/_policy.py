"""The steward's policy: levels, entities, recognizers, markers and roles.

A policy is parsed from YAML (or JSON) into frozen pydantic models with
``extra="forbid"``, so an unknown key stops loading with its key path. Every
cross-reference (a level named by an entity, a role, a marker) is checked
here; nothing downstream has to re-validate.

Errors::

    PolicyError            the policy cannot be used; message carries key paths

Why one module of this size: the policy is one pydantic model tree whose
validators cross-reference each other (levels named by entities, roles and
markers); split, each part would import the others' types back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from ragseal import InvalidInputError

from ._yaml import DuplicateKeyError, YamlError, key_path, load_yaml

__all__ = [
    "MASKS",
    "FLOOR_ENTITIES",
    "FLOOR_MIN_SCORE",
    "EntityRule",
    "InjectionRule",
    "InspectRule",
    "Marker",
    "Policy",
    "PolicyError",
    "RecognizerRule",
    "RoleRule",
    "decode_policy_text",
    "default_policy",
    "key_path",
    "load_policy",
    "parse_policy",
    "parse_policy_text",
]

Mask = Literal["pseudonym", "redact", "last4"]
MASKS: tuple[str, ...] = ("pseudonym", "redact", "last4")

_ENTITY_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")

# The floor (classification/_floor.py): secrets, whatever a policy says.
FLOOR_ENTITIES: frozenset[str] = frozenset(
    {"AWS_ACCESS_KEY", "PRIVATE_KEY", "API_TOKEN", "PASSWORD"}
)
# A floor entity's finding counts from this score (or the policy's lower one).
FLOOR_MIN_SCORE = 0.5


class PolicyError(InvalidInputError, ValueError):
    """The policy is invalid; the message names each offending key path."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntityRule(_Model):
    """How sensitive one entity type is and how it is masked."""

    level: str
    mask: Mask = "redact"
    gate: bool = False
    min_score: float | None = Field(default=None, ge=0.0, le=1.0)


def _nested_quantifier(pattern: str) -> str | None:
    """Why ``pattern`` can backtrack catastrophically, or None (static check).

    Flags a group repeated without bound (``*``, ``+``, ``{n,}``) that itself
    holds an unbounded repeat, like ``(a+)+`` or ``(.*)*``, and a repeated
    alternation with two equal branches, like ``(a|a)*``.
    """
    stack: list[dict[str, object]] = [{"unbounded": False, "branches": [""]}]
    i, n = 0, len(pattern)

    def unbounded_at(j: int) -> int:
        """Length of an unbounded quantifier at ``j`` (0 if none)."""
        if j < n and pattern[j] in "*+":
            return 1
        m = re.match(r"\{\d*,\}", pattern[j:])
        return len(m.group(0)) if m else 0

    while i < n:
        c = pattern[i]
        top = stack[-1]
        if c == "\\":
            top["branches"][-1] += pattern[i : i + 2]  # type: ignore[index]
            i += 2
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            top["branches"][-1] += pattern[i : j + 1]  # type: ignore[index]
            i = j + 1
        elif c == "(":
            stack.append({"unbounded": False, "branches": [""]})
            i += 1
            continue
        elif c == "|":
            top["branches"].append("")  # type: ignore[attr-defined]
            i += 1
            continue
        elif c == ")" and len(stack) > 1:
            group = stack.pop()
            q = unbounded_at(i + 1)
            if q:
                if group["unbounded"]:
                    return "a repeated group holds an unbounded repeat (nested quantifiers)"
                branches = [b for b in group["branches"]]  # type: ignore[attr-defined]
                if len(branches) != len(set(branches)):
                    return "a repeated alternation has two equal branches"
            if group["unbounded"] or q:
                stack[-1]["unbounded"] = True
            stack[-1]["branches"][-1] += "(...)"  # type: ignore[index]
            i += 1 + q
            continue
        else:
            top["branches"][-1] += c  # type: ignore[index]
            i += 1
        if unbounded_at(i):
            stack[-1]["unbounded"] = True
    return None


_PROBE_TIMEOUT = 0.05


def _slow_on_probe(pattern: str) -> bool:
    """Run the pattern on adversarial strings with a timeout (``regex`` module)."""
    import regex

    try:
        compiled = regex.compile(pattern, regex.MULTILINE)
    except regex.error:
        return False  # ``re`` accepted it; the detector reports what regex refuses
    letters = {c for c in pattern if c.isalnum()} | set("a0 .-_@")
    for c in sorted(letters)[:24]:
        for size in (28, 3000):
            try:
                compiled.search(c * size + "!\n", timeout=_PROBE_TIMEOUT)
            except TimeoutError:
                return True
    return False


Validator = Literal["luhn", "mod97"]


class RecognizerRule(_Model):
    """A steward-defined recognizer: regex patterns with context, or a deny list.

    ``validator`` drops pattern matches that fail a checksum: ``luhn`` (card
    numbers) or ``mod97`` (IBAN, ISO 7064) on the match's letters and digits.
    """

    entity: str
    patterns: tuple[str, ...] = ()
    validator: Validator | None = None
    deny_list: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    score: float = Field(default=0.6, ge=0.0, le=1.0)
    level: str
    mask: Mask = "redact"
    gate: bool = False

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for i, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"[{i}]: invalid regular expression ({exc.msg})") from None
            reason = _nested_quantifier(pattern)
            if reason is None and _slow_on_probe(pattern):
                reason = "it backtracks catastrophically on a probe string"
            if reason is not None:
                raise ValueError(
                    f"[{i}]: regular expression refused, {reason}; rewrite it without "
                    "nested unbounded repeats (e.g. (ab)+ rather than (a+b?)+)"
                )
        return patterns


class Marker(_Model):
    """Phrases that raise the level of the whole document containing them."""

    phrases: tuple[str, ...] = Field(min_length=1)
    level: str
    case_sensitive: bool = False


class RoleRule(_Model):
    """What a role may see: a clearance level and entity types it may unmask."""

    clearance: str
    unmask: tuple[str, ...] | Literal["all"] = ()


class InjectionRule(_Model):
    """What ingest does with a chunk's injection score (``classification.injection``).

    ``flag_at``: from this score a chunk is flagged (returned, marked, fenced).
    ``quarantine_at``: from this score it is stored but never retrieved until a
    steward releases its document; ``null`` never quarantines.
    """

    flag_at: float = Field(default=0.5, ge=0.0, le=1.0)
    quarantine_at: float | None = Field(default=0.9, ge=0.0, le=1.0)


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")


class InspectRule(_Model):
    """What ``inspect`` lets through of links and images in an answer.

    ``allowed_hosts``: host names (lower case) that markdown links, images
    and URLs may point at; each also allows its subdomains. Empty: none.
    """

    allowed_hosts: tuple[str, ...] = ()

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        for i, host in enumerate(hosts):
            if not _HOST.match(host):
                raise ValueError(
                    f"[{i}]: not a lower-case host name (e.g. docs.acme.example; "
                    "no scheme, port, path or wildcard)"
                )
        return hosts


class AdminRule(_Model):
    """Administrative safeguards (docs/POLICY.md).

    ``require_mfa``: roles whose routes (e.g. ``steward``: the policy and
    quarantine routes; ``ingestor``: documents) accept only tokens whose
    ``amr`` claim (RFC 8176) lists ``mfa``.
    """

    require_mfa: tuple[str, ...] = ()


class Policy(_Model):
    """A validated classification and access policy.

    Levels are ordered from least to most sensitive; a level's rank is its
    index. ``entities`` holds the built-in entity types the steward enables;
    ``recognizers`` adds custom ones (their level and mask live on the rule).
    """

    levels: tuple[str, ...] = Field(min_length=1)
    entities: dict[str, EntityRule] = Field(default_factory=dict)
    recognizers: tuple[RecognizerRule, ...] = ()
    markers: tuple[Marker, ...] = ()
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    roles: dict[str, RoleRule] = Field(default_factory=dict)
    injection: InjectionRule = Field(default_factory=InjectionRule)
    inspect: InspectRule = Field(default_factory=InspectRule)
    admin: AdminRule = Field(default_factory=AdminRule)

    # -- levels -----------------------------------------------------------
    def rank(self, level: str) -> int:
        """Index of ``level`` in the ordered levels (KeyError if unknown)."""
        return self._ranks[level]

    def level_name(self, rank: int) -> str:
        """Name of the level at ``rank``; IndexError outside ``0..len-1``.

        Negative ranks are refused rather than indexed from the end: a
        tampered payload level of -1 passes every ``level <= clearance``
        filter and must never map back to a real level name (and so to
        the labels the chunk was sealed under).
        """
        if isinstance(rank, bool) or not 0 <= rank < len(self.levels):
            raise IndexError("level rank out of range")
        return self.levels[rank]

    @property
    def lowest(self) -> str:
        return self.levels[0]

    @property
    def highest(self) -> str:
        return self.levels[-1]

    @cached_property
    def _ranks(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.levels)}

    # -- entities ---------------------------------------------------------
    @cached_property
    def entity_rules(self) -> dict[str, EntityRule]:
        """Every entity type the policy knows: built-in and custom."""
        rules = dict(self.entities)
        for rec in self.recognizers:
            rules[rec.entity] = EntityRule(level=rec.level, mask=rec.mask, gate=rec.gate)
        return rules

    def entity_rule(self, entity: str) -> EntityRule:
        """The rule for ``entity``; an unknown type fails closed (highest, redact)."""
        rule = self.entity_rules.get(entity)
        if rule is None:
            return EntityRule(level=self.highest, mask="redact", gate=True)
        return rule

    def threshold(self, entity: str) -> float:
        rule = self.entity_rules.get(entity)
        if rule is not None and rule.min_score is not None:
            found = rule.min_score
        else:
            found = self.min_score
        return min(found, FLOOR_MIN_SCORE) if entity in FLOOR_ENTITIES else found

    # -- roles ------------------------------------------------------------
    def clearance(self, roles: Iterable[str]) -> int:
        """Highest rank any known role grants; no known role: the lowest level."""
        ranks = [self.rank(self.roles[r].clearance) for r in roles if r in self.roles]
        return max(ranks, default=0)

    def may_unmask(self, roles: Iterable[str], entity: str) -> bool:
        """Whether a principal with ``roles`` may read ``entity`` spans in clear."""
        roles = tuple(roles)
        if self.rank(self.entity_rule(entity).level) <= self.clearance(roles):
            return True
        if entity in FLOOR_ENTITIES:
            return False  # the floor: only the highest clearance reads a secret
        for role in roles:
            rule = self.roles.get(role)
            if rule is None:
                continue
            if rule.unmask == "all" or entity in rule.unmask:
                return True
        return False

    # -- serialisation ----------------------------------------------------
    def to_json(self) -> dict[str, object]:
        # ``admin`` is left out while unset, so that policies written before it
        # existed keep their fingerprint (and stored documents their version ids).
        unset = {"admin"} if self.admin == AdminRule() else None
        return self.model_dump(mode="json", exclude_defaults=False, exclude=unset)

    @cached_property
    def fingerprint(self) -> str:
        """A short stable hash of the policy, recorded in audit records."""
        import hashlib

        blob = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _message(err: ErrorDetails) -> str:
    """``path: message``; a validator naming an item (``[0]: ...``) extends the path."""
    path, msg = key_path(err["loc"]), err["msg"]
    if err["type"] == "extra_forbidden":
        from ._policy_hints import did_you_mean

        return f"{path}: unknown key{did_you_mean(Policy, tuple(err['loc']))}"
    if err["type"] == "value_error":
        msg = str(err.get("ctx", {}).get("error", msg))
        if msg.startswith("[") and "]: " in msg:
            item, _, msg = msg.partition(": ")
            return f"{path}{item}: {msg}"
    return f"{path}: {msg}"


def _check_references(policy: Policy) -> list[str]:
    """Cross-field checks that pydantic cannot express per field."""
    errors: list[str] = []
    levels = set(policy.levels)
    if len(levels) != len(policy.levels):
        errors.append("levels: duplicate level name")
    for name, rule in policy.entities.items():
        if not _ENTITY_NAME.match(name):
            errors.append(f"entities.{name}: entity names are UPPER_SNAKE_CASE")
        if rule.level not in levels:
            errors.append(f"entities.{name}.level: unknown level {rule.level!r}")
    seen: set[str] = set(policy.entities)
    for i, rec in enumerate(policy.recognizers):
        path = f"recognizers[{i}]"
        if not _ENTITY_NAME.match(rec.entity):
            errors.append(f"{path}.entity: entity names are UPPER_SNAKE_CASE")
        if rec.entity in seen:
            errors.append(f"{path}.entity: duplicate entity {rec.entity!r}")
        seen.add(rec.entity)
        if rec.level not in levels:
            errors.append(f"{path}.level: unknown level {rec.level!r}")
        if not rec.patterns and not rec.deny_list:
            errors.append(f"{path}: needs patterns or deny_list")
    for i, marker in enumerate(policy.markers):
        if marker.level not in levels:
            errors.append(f"markers[{i}].level: unknown level {marker.level!r}")
        for j, phrase in enumerate(marker.phrases):
            if not phrase.strip():
                errors.append(f"markers[{i}].phrases[{j}]: empty phrase")
    inj = policy.injection
    if inj.quarantine_at is not None and inj.quarantine_at < inj.flag_at:
        errors.append("injection.quarantine_at: must be >= injection.flag_at "
                      "(a quarantined chunk is always flagged)")
    for j, role_name in enumerate(policy.admin.require_mfa):
        if not role_name.strip():
            errors.append(f"admin.require_mfa[{j}]: empty role name")
    for name, role in policy.roles.items():
        if role.clearance not in levels:
            errors.append(f"roles.{name}.clearance: unknown level {role.clearance!r}")
        if role.unmask != "all":
            for j, entity in enumerate(role.unmask):
                if entity not in seen and entity not in FLOOR_ENTITIES:  # floor: known
                    errors.append(f"roles.{name}.unmask[{j}]: unknown entity {entity!r}")
    return errors


def parse_policy(data: object, *, notes: list[str] | None = None) -> Policy:
    """Validate a decoded policy document; raise :class:`PolicyError` with key paths.

    The result always carries the floor (``_floor.py``); ``notes``, when
    given, receives one line per thing the floor changed.
    """
    if not isinstance(data, Mapping):
        raise PolicyError("(root): the policy must be a mapping")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        lines = [_message(err) for err in exc.errors(include_input=False)]
        raise PolicyError("; ".join(lines)) from None
    problems = _check_references(policy)
    if problems:
        raise PolicyError("; ".join(problems))
    from ._floor import with_floor  # it builds on this module's models

    floored, added = with_floor(policy)
    if notes is not None:
        notes.extend(added)
    return floored


def decode_policy_text(text: str, source: str = "policy") -> object:
    """A policy's YAML (or JSON) text, decoded but not validated.

    Read by the loader the ACL manifest uses too (:func:`load_yaml`).

    Raises:
        PolicyError: the text is refused (too large, too deep, aliases,
            duplicate keys, not YAML), with ``source`` and the place.
    """
    try:
        return load_yaml(text)
    except DuplicateKeyError as exc:
        raise PolicyError(str(exc)) from None  # the key path says where
    except YamlError as exc:
        raise PolicyError(f"{source}: {exc}") from None


def load_policy(path: str | Path, *, notes: list[str] | None = None) -> Policy:
    """Read and validate a policy file (``notes``: see :func:`parse_policy`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(f"policy file {path}: no such file") from None
    except UnicodeDecodeError:
        raise PolicyError(f"policy file {path}: not UTF-8 text") from None
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: "
                          f"{exc.strerror or exc.__class__.__name__}") from None
    return parse_policy(decode_policy_text(text, path.name), notes=notes)


def parse_policy_text(text: str, *, notes: list[str] | None = None) -> Policy:
    """Validate a policy given as YAML or JSON text (JSON is a subset of YAML)."""
    return parse_policy(decode_policy_text(text, "policy"), notes=notes)


def default_policy() -> Policy:
    """The policy bundled with ragseal (``classification/default_policy.yaml``)."""
    bundled = resources.files("ragseal.classification").joinpath("default_policy.yaml")
    text = bundled.read_text("utf-8")
    return parse_policy(decode_policy_text(text, "default_policy.yaml"))
