"""``ragseal policy``: check, show, push, history and rollback (docs/POLICY.md).

The commands are thin adapters over the tenant policy service
(``api/_policies.py``): parse the flags, call it, print. ``check`` loads no
store and no key; the others open the keyring (where versions live), never
the vector store, except ``push`` and ``rollback`` which relabel the
tenant's stored chunks when the new version changes how chunks are labelled.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["policy"]


@click.group()
def policy() -> None:
    """Check, show and version the policy of a tenant (docs/POLICY.md)."""


def _base_warnings(pol: object, base: object) -> list[str]:
    """PII types the base policy detects that ``pol`` leaves out."""
    from ragseal.classification import Policy

    assert isinstance(pol, Policy) and isinstance(base, Policy)  # noqa: S101 - typing only
    missing = sorted(set(base.entity_rules) - set(pol.entity_rules))
    return [f"entities.{e}: the base policy detects it, this policy does not" for e in missing]


@policy.command("check")
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
def policy_check(file: Path | None) -> None:
    """Validate FILE (default: RAGSEAL_POLICY, else the bundled policy).

    Exits 2 with the offending key path, e.g. recognizers[2].patterns[0]: ...
    Prints what the floor adds (secrets are always detected, redacted,
    gating and at the highest level) and warns about PII types the base
    policy detects that FILE leaves out.

    \b
    Examples:
      ragseal policy check my-policy.yaml
      RAGSEAL_POLICY=my-policy.yaml ragseal policy check
    """
    from ragseal.classification import PolicyError, default_policy, load_policy

    from .cli import _fail, _settings

    notes: list[str] = []
    try:
        base_file = _settings().policy
        checked = file if file is not None else base_file
        pol = load_policy(checked, notes=notes) if checked is not None else default_policy()
        base = load_policy(base_file) if base_file is not None else default_policy()
    except PolicyError as exc:
        _fail(f"policy: {exc}")
    click.echo(f"policy OK: {len(pol.levels)} levels, {len(pol.entity_rules)} entity types, "
               f"{len(pol.roles)} roles (fingerprint {pol.fingerprint})")
    for note in notes:
        click.echo(f"floor: {note}")
    for warning in _base_warnings(pol, base):
        click.echo(f"warning: {warning}", err=True)
