"""``ragseal tenant``: freeze a tenant's retrievals during an incident.

::

    ragseal tenant freeze T [--reason CODE]      # /v1/retrieve and /v1/inspect -> 503
    ragseal tenant unfreeze T
    ragseal tenant status [--json]               # frozen tenants and the history

Each is audited like every operator command (principal ``cli:<OS user>``).
Freezes live in ``freezes.db`` beside the keyring (store/_freeze.py); a
running server sees a change within 2 seconds. No model is loaded.
"""

from __future__ import annotations

import re

import click

__all__ = ["check_tenant", "tenant"]

_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
_REASON = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_tenant(value: str) -> str:
    if not _TENANT.match(value):
        raise click.BadParameter("must be a tenant name (letters, digits, . _ @ -)")
    return value


@click.group()
def tenant() -> None:
    """Freeze a tenant's retrievals during an incident (reversible)."""


def _set(name: str, frozen: bool, reason: str) -> None:
    from .._control_plane import open_freezes
    from ._common import command_services, operator_of, write_audit

    check_tenant(name)
    if not _REASON.match(reason):
        raise click.BadParameter("must be a short code (a-z, 0-9, _ -)", param_hint="--reason")
    with command_services() as services:
        actor = operator_of(name)
        freezes = open_freezes(services.settings)
        try:
            changed = freezes.set(name, frozen, actor=actor.sub, reason=reason)
        finally:
            freezes.close()
        write_audit(services, "tenant_freeze" if frozen else "tenant_unfreeze", actor,
               "ok" if changed else "unchanged", reason=reason)
    state = "frozen" if frozen else "unfrozen"
    click.echo(f"tenant {name} {state}" + ("" if changed else " (it already was)"))


@tenant.command("freeze")
@click.argument("name")
@click.option("--reason", default="incident", show_default=True,
              help="A short code recorded with the freeze (no free text).")
def tenant_freeze(name: str, reason: str) -> None:
    """Suspend /v1/retrieve and /v1/inspect for tenant NAME (503 tenant_frozen).

    A running server applies it within 2 seconds. Stewards and ingestors
    keep working (quarantine, delete). Undo with ``ragseal tenant unfreeze``.

    \b
    Example:
      ragseal tenant freeze acme --reason token-leak
    """
    _set(name, True, reason)


@tenant.command("unfreeze")
@click.argument("name")
@click.option("--reason", default="resolved", show_default=True,
              help="A short code recorded with the thaw.")
def tenant_unfreeze(name: str, reason: str) -> None:
    """Resume retrievals for tenant NAME.

    \b
    Example:
      ragseal tenant unfreeze acme
    """
    _set(name, False, reason)


@tenant.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def tenant_status(as_json: bool) -> None:
    """Frozen tenants, and every freeze and thaw so far.

    \b
    Example:
      ragseal tenant status --json
    """
    from .._control_plane import open_freezes
    from ._common import echo_json, load_settings

    freezes = open_freezes(load_settings())
    try:
        frozen, history = sorted(freezes.frozen()), freezes.history()
    finally:
        freezes.close()
    if as_json:
        echo_json({"frozen": frozen, "history": [e.as_dict() for e in history]})
        return
    click.echo("frozen: " + (", ".join(frozen) if frozen else "none"))
