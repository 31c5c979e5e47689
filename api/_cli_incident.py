"""Incident commands: quarantine a document now, freeze a tenant's retrievals.

Registered on the CLI by api/cli.py::

    ragseal quarantine add DOC_ID --tenant T     # hold every chunk now (release undoes)
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

__all__ = ["quarantine_add", "tenant"]

_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
_REASON = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _check_tenant(value: str) -> str:
    if not _TENANT.match(value):
        raise click.BadParameter("must be a tenant name (letters, digits, . _ @ -)")
    return value


@click.command("add")
@click.argument("doc_id")
@click.option("--tenant", required=True, help="Tenant of the document.")
def quarantine_add(doc_id: str, tenant: str) -> None:
    """Quarantine a document now: nobody retrieves it until it is released.

    Loads no model. Exit status 1 when the tenant has no such document.

    \b
    Example:
      ragseal quarantine add 3f9a2b...e1 --tenant acme
      ragseal quarantine release 3f9a2b...e1 --tenant acme   # undo
    """
    from ragseal.ingest._quarantine import quarantine_document

    from .cli import _audit, _fail, _operator, _services

    _check_tenant(tenant)
    with _services() as services:
        held = quarantine_document(services.store, tenant, doc_id)
        if held is None:
            _audit(services, "quarantine_add", _operator(tenant), "not_found",
                   doc_hash=services.ids.keyed_hash("doc-id", doc_id))
            _fail("no such document in that tenant", code=1)
        _audit(services, "quarantine_add", _operator(tenant), doc_id=doc_id[:64], chunks=held)
    click.echo(f"quarantined {held} chunk(s) of {doc_id}")


@click.group()
def tenant() -> None:
    """Freeze a tenant's retrievals during an incident (reversible)."""


def _set(name: str, frozen: bool, reason: str) -> None:
    from ._control_plane import open_freezes
    from .cli import _audit, _operator, _services

    _check_tenant(name)
    if not _REASON.match(reason):
        raise click.BadParameter("must be a short code (a-z, 0-9, _ -)", param_hint="--reason")
    with _services() as services:
        actor = _operator(name)
        freezes = open_freezes(services.settings)
        try:
            changed = freezes.set(name, frozen, actor=actor.sub, reason=reason)
        finally:
            freezes.close()
        _audit(services, "tenant_freeze" if frozen else "tenant_unfreeze", actor,
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
    from ._control_plane import open_freezes
    from .cli import _echo_json, _settings

    freezes = open_freezes(_settings())
    try:
        frozen, history = sorted(freezes.frozen()), freezes.history()
    finally:
        freezes.close()
    if as_json:
        _echo_json({"frozen": frozen, "history": [e.as_dict() for e in history]})
        return
    click.echo("frozen: " + (", ".join(frozen) if frozen else "none"))
