"""``ragseal quarantine``: chunks held for a steward (list, release, add)."""

from __future__ import annotations

import click

from ._common import command_services, echo_json, operator_of
from ._errors import fail

__all__ = ["quarantine"]


@click.group()
def quarantine() -> None:
    """Chunks held for a steward because they look like injected instructions."""


@quarantine.command("list")
@click.option("--tenant", help="Only this tenant (default: every tenant); with it, each "
              "document's source path is shown (decrypted, audited).")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def quarantine_list(tenant: str | None, as_json: bool) -> None:
    """Documents with quarantined chunks: ids, scores and signals, never text.

    With --tenant, the source path of each document is opened from its
    seal so that a steward of that tenant can find the file; every path
    shown is recorded in the audit trail. Loads no model. Review a
    document's text with its owner before releasing.

    \b
    Example:
      ragseal quarantine list --tenant acme
    """

    sources: dict[str, str | None] = {}
    with command_services(existing=True) as services:
        held = services.ops.quarantine
        docs = held.documents(operator_of(tenant), tenant)
        if tenant is not None and docs:
            sources = held.sources(operator_of(tenant), docs)
    if as_json:
        echo_json({"documents": [
            {**d.as_dict(), **({"source": sources.get(d.doc_id)} if tenant else {})}
            for d in docs]})
        return
    if not docs:
        click.echo("no quarantined chunk")
        return
    click.echo(f"{'TENANT':<12} {'DOC_ID':<32} {'SCORE':>5} {'CHUNKS':>6}  SIGNALS  PATH")
    for d in docs:
        path = (sources.get(d.doc_id) or "(not readable)") if tenant else "(give --tenant)"
        click.echo(f"{d.tenant:<12} {d.doc_id:<32} {d.score:>5.3f} {len(d.chunks):>6}  "
                   f"{','.join(d.signals) or '-'}  {path}")


@quarantine.command("release")
@click.argument("doc_id")
@click.option("--tenant", help="Tenant of the document (looked up when omitted).")
def quarantine_release(doc_id: str, tenant: str | None) -> None:
    """Release a document's quarantined chunks: retrievable (still flagged).

    Loads no model. Exit status 1 when nothing of that document is held.

    \b
    Example:
      ragseal quarantine release 3f9a2b...e1 --tenant acme
    """

    with command_services(existing=True) as services:
        tenant = tenant or services.ops.documents.tenant_of(doc_id)
        if tenant is None:
            fail("no such document (give --tenant)")
        # NothingQuarantined: one line, exit 1 (a failed check).
        released = services.ops.quarantine.release(operator_of(tenant), tenant, doc_id)
    click.echo(f"released {released} chunk(s) of {doc_id}")


@quarantine.command("add")
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

    from ._tenant import check_tenant

    check_tenant(tenant)
    with command_services() as services:
        # NotInTenant: one line, exit 1.
        held = services.ops.quarantine.add(operator_of(tenant), tenant, doc_id)
    click.echo(f"quarantined {held} chunk(s) of {doc_id}")
