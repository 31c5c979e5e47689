"""``ragseal query`` and ``inspect``: retrieve and check an answer as a principal would."""

from __future__ import annotations

import click

from .._settings import TOP_K_LIMIT
from ._common import (
    command_services,
    echo_json,
    principal_from,
    principal_options,
    read_input,
    tenant_paths_or_exit,
)
from ._errors import fail

__all__ = ["inspect", "query"]


# -- query ------------------------------------------------------------------
@click.command()
@click.argument("text")
@principal_options
@click.option("-k", "top_k", default=5, show_default=True, type=click.IntRange(1, TOP_K_LIMIT),
              help="How many chunks to return.")
@click.option("--pseudonymize", is_flag=True,
              help="Show even readable values as keyed pseudonyms (inspect puts them back).")
@click.option("--json", "as_json", is_flag=True, help="Print the retrieval as JSON.")
def query(text: str, user: str, groups: str, roles: str, tenant: str, top_k: int,
          pseudonymize: bool, as_json: bool) -> None:
    """Retrieve context as a principal would see it (operator tool; no token).

    \b
    Example:
      ragseal query "What is Maria's phone number?" --user maria@acme.example \\
          --groups hr,all-staff --roles hr --tenant acme
    """
    from .._empty_tenant import EMPTY_TENANT_NOTICE

    principal = principal_from(user, groups, roles, tenant)
    text = read_input(text)
    if not text.strip():
        fail("the query is empty")
    with command_services(existing=True) as services:
        tenant_paths_or_exit(services, principal.tenant)  # unreadable policy: one line
        # Over RAGSEAL_MAX_QUERY_CHARS: QueryTooLong, exit 2; top_k capped at RAGSEAL_MAX_TOP_K.
        retrieved = services.ops.retrieval.retrieve(principal, text, top_k,
                                                    pseudonymize=pseudonymize)
    result, empty_tenant = retrieved.result, retrieved.empty_tenant
    if as_json:
        answer: dict[str, object] = {"retrieval_id": result.retrieval_id,
                                     "chunks": [c.as_dict() for c in result.chunks],
                                     "context": result.context}
        if empty_tenant:
            answer["notice"] = EMPTY_TENANT_NOTICE
        echo_json(answer)
        return
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    console = Console()
    if empty_tenant:
        click.echo(f"ragseal: warning: tenant {tenant!r} has no documents "
                   "(check --tenant, or run ingest)", err=True)
    if not result.chunks:
        console.print("no chunk visible to this principal matches")
    for i, c in enumerate(result.chunks, 1):
        masked = ", ".join(c.masked) or "none"
        flag = (f" · injection {c.injection.score:.2f} ({', '.join(c.injection.signals)})"
                if c.injection.flagged else "")
        # Text(): document text is shown as is, never parsed as rich markup.
        console.print(Panel(Text(c.text), title=f"{i}. score {c.score:.3f} · level {c.level} · "
                            f"doc {c.doc_id[:12]}", subtitle=f"masked: {masked}{flag}"))


# -- inspect ------------------------------------------------------------------
@click.command()
@click.argument("text")
@principal_options
@click.option("--retrieval-id", help="The retrieval id the answer was written from.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def inspect(text: str, user: str, groups: str, roles: str, tenant: str,
            retrieval_id: str | None, as_json: bool) -> None:
    """Inspect an answer (or - for stdin) before it is shown to a principal.

    Verdict allow, redact (entities above the principal's clearance and
    exfiltration channels masked) or block (secrets, passages of chunks the
    principal may not read, images to hosts off the policy's allow-list).
    With --retrieval-id, the id must come from a query by this same
    principal: values that retrieval showed are not findings, and its
    pseudonyms (query --pseudonymize) are put back where the principal may
    read them.

    \b
    Example:
      ragseal inspect "Call Maria on 555-0100" --user emp@acme.example \\
          --groups all-staff --roles employee --tenant acme --json
    """
    principal = principal_from(user, groups, roles, tenant)
    answer = read_input(text)
    with command_services() as services:  # a fresh data dir is fine: inspect needs no corpus
        tenant_paths_or_exit(services, principal.tenant)  # unreadable policy: one line
        # RetrievalIdError (bad, foreign or expired id): audited, one line, exit 2.
        result = services.ops.retrieval.inspect(principal, answer, retrieval_id)
    if as_json:
        echo_json(result.as_dict())
        return
    click.echo(f"verdict: {result.verdict}")
    for f in result.findings:
        click.echo(f"  {f.type} [{f.start}:{f.end}] {f.action} ({f.reason})")
    click.echo(result.answer)
