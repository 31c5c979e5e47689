"""``ragseal policy``: check, show, push, history and rollback (docs/POLICY.md).

The commands are thin adapters over the tenant policy service
(``api/_policies.py``): parse the flags, call it, print. ``check`` loads no
store and no key; the others open the keyring (where versions live), never
the vector store, except ``push`` and ``rollback`` which relabel the
tenant's stored chunks when the new version changes how chunks are labelled.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:

    from .._container import Services

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
    from .._policies import base_policy
    from ._common import load_settings

    notes: list[str] = []  # PolicyError: "policy: <key path>: ...", exit 2
    base_file = load_settings().policy
    pol = base_policy(file if file is not None else base_file, notes=notes)
    base = base_policy(base_file)
    click.echo(f"policy OK: {len(pol.levels)} levels, {len(pol.entity_rules)} entity types, "
               f"{len(pol.roles)} roles (fingerprint {pol.fingerprint})")
    for note in notes:
        click.echo(f"floor: {note}")
    for warning in _base_warnings(pol, base):
        click.echo(f"warning: {warning}", err=True)


def _policies_or_exit(services: Services) -> None:
    """Open the policy store now, so that an unusable one is one line, exit 2."""
    _ = services.policies  # PolicyStoreError: one line, exit 2


@policy.command("show")
@click.option("--tenant", default="default", show_default=True, help="Whose policy.")
@click.option("--version", "version", type=click.IntRange(min=0),
              help="This version (default: the one in force; 0: the base).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the policy and its version).")
def policy_show(tenant: str, version: int | None, as_json: bool) -> None:
    """Print a tenant's policy in force (or one version) with its floor applied.

    \b
    Examples:
      ragseal policy show --tenant acme
      ragseal policy show --tenant acme --version 3 --json
    """
    import json

    import yaml

    from .._policies import PolicyUnavailable, PolicyVersionNotFound
    from ._common import command_services, operator_of
    from ._errors import fail

    with command_services(store=False) as services:
        _policies_or_exit(services)
        try:
            found = services.ops.policy.read(operator_of(tenant), tenant, version)
        except (PolicyUnavailable, PolicyVersionNotFound) as exc:
            fail(f"tenant {tenant!r}: {exc}")  # the line names the tenant
    body = {**found.policy.to_json(), "version": found.version,
            "fingerprint": found.policy.fingerprint}
    if as_json:
        click.echo(json.dumps(body, sort_keys=True))
        return
    click.echo(f"# tenant {tenant}, version {found.version}, fingerprint "
               f"{found.policy.fingerprint}")
    click.echo(yaml.safe_dump(found.policy.to_json(), sort_keys=False).rstrip())


@policy.command("history")
@click.option("--tenant", default="default", show_default=True, help="Whose policy.")
@click.option("--json", "as_json", is_flag=True, help="Print the versions as JSON.")
def policy_history(tenant: str, as_json: bool) -> None:
    """List a tenant's policy versions (0: the base): number, fingerprint, author, time.

    \b
    Example:
      ragseal policy history --tenant acme
    """
    import json
    from datetime import UTC, datetime

    from .._policies import PolicyUnavailable
    from ._common import command_services, operator_of
    from ._errors import fail

    with command_services(store=False) as services:
        _policies_or_exit(services)
        try:
            listed, _ = services.ops.policy.versions(operator_of(tenant), tenant)
        except PolicyUnavailable as exc:
            fail(f"tenant {tenant!r}: {exc}")  # the line names the tenant
    if as_json:
        click.echo(json.dumps({"tenant": tenant, "versions": listed}))
        return
    for v in listed:
        created = v["created"]
        when = (datetime.fromtimestamp(created, UTC).isoformat(timespec="seconds")
                if isinstance(created, float) else "-")
        author = v["author"] or "(base policy)"
        click.echo(f"{v['version']:>4}  {v['fingerprint']}  {when}  {author}")


def _apply(tenant: str, action: str, change: str, text: str | None, version: int | None,
           no_relabel: bool, as_json: bool) -> None:
    """Store a new version (push: ``text``; rollback: ``version``), then relabel."""
    import json

    from .._policies import (
        PolicyRefused,
        PolicyUnavailable,
        PolicyVersionNotFound,
        reclassify_needed,
        relabel_needed,
    )
    from ._common import command_services, operator_of, write_audit
    from ._errors import fail

    with command_services(store=False) as services:
        _policies_or_exit(services)
        actor = operator_of(tenant)
        ops = services.ops.policy  # audits the change (or why it was refused)
        try:
            if text is not None:
                previous, new = ops.push(actor, tenant, text)
            else:
                assert version is not None  # noqa: S101 - one of the two is given
                previous, new = ops.rollback(actor, tenant, version)
        except PolicyRefused as exc:
            fail(f"policy: {exc}")  # the line names the component, as policy check does
        except (PolicyUnavailable, PolicyVersionNotFound) as exc:
            fail(f"tenant {tenant!r}: {exc}")  # the line names the tenant
        relabeled: dict[str, object] | None = None
        if relabel_needed(previous.policy, new.policy) and not no_relabel:
            from ragseal.store import StoreError

            try:
                from ._common import relabel_in_force

                report = relabel_in_force(
                    services, (tenant,),
                    reclassify=reclassify_needed(previous.policy, new.policy))
            except StoreError:
                # The embedded store is held by a running server: it notices the
                # version within seconds and relabels the tenant itself.
                click.echo("relabel deferred: the store is in use (a running server "
                           "relabels this tenant when it sees the version)", err=True)
                report = None
            relabeled = report.as_dict() if report is not None else None
            if report is not None:
                write_audit(services, "relabel", actor, "failed" if report.errors else "ok",
                       documents=report.documents, chunks=report.scanned,
                       relabeled=report.relabeled, errors=len(report.errors),
                       version=new.version)
    if as_json:
        click.echo(json.dumps({"tenant": tenant, "version": new.version,
                               "fingerprint": new.policy.fingerprint,
                               "previous_version": previous.version, "relabel": relabeled}))
        return
    click.echo(f"tenant {tenant}: version {new.version} ({change}), fingerprint "
               f"{new.policy.fingerprint}; was version {previous.version}")
    if relabeled is not None:
        click.echo(f"relabelled {relabeled['relabeled']} of {relabeled['scanned']} chunk(s)")


@policy.command("push")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--tenant", required=True, help="Whose policy (a new version of it).")
@click.option("--no-relabel", is_flag=True, help="Store the version; relabel later.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def policy_push(file: Path, tenant: str, no_relabel: bool, as_json: bool) -> None:
    """Store FILE as the newest version of a tenant's policy; relabel its chunks.

    Refused (exit 2, key path) when invalid or when its levels differ from the
    base policy's. Every process using this keyring applies it within seconds.

    \b
    Example:
      ragseal policy check acme.yaml && ragseal policy push acme.yaml --tenant acme
    """
    from ._errors import fail

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read policy file {file}: {exc.__class__.__name__}")
    _apply(tenant, "policy_update", "pushed", text, None, no_relabel, as_json)


@policy.command("rollback")
@click.argument("version", type=click.IntRange(min=0))
@click.option("--tenant", required=True, help="Whose policy.")
@click.option("--no-relabel", is_flag=True, help="Store the version; relabel later.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def policy_rollback(version: int, tenant: str, no_relabel: bool, as_json: bool) -> None:
    """Make a copy of VERSION (0: the base) the newest version of a tenant's policy.

    \b
    Example:
      ragseal policy history --tenant acme && ragseal policy rollback 2 --tenant acme
    """
    _apply(tenant, "policy_rollback", f"copy of version {version}", None, version,
           no_relabel, as_json)
