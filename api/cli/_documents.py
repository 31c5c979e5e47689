"""``ragseal ingest``, ``delete`` and ``relabel``: documents in, out and relabelled."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ragseal._cpus import usable_cpus

from ._common import (
    command_services,
    echo_json,
    operator_of,
    relabel_in_force,
    tenant_paths_or_exit,
    write_audit,
)
from ._engine import engine_options
from ._errors import CommandFailed, fail

if TYPE_CHECKING:
    from ragseal.ingest import EngineConfig, Ingestor, IngestResult, Manifest

    from .._container import Services

__all__ = ["delete", "ingest", "relabel"]


EXAMPLES_INGEST = """
\b
Examples:
  ragseal ingest samples/corpus --manifest samples/corpus/acl.yaml
  ragseal ingest report.pdf --manifest acl.yaml --tenant acme --json
"""


# -- ingest -----------------------------------------------------------------
@click.command(epilog=EXAMPLES_INGEST)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--manifest", type=click.Path(path_type=Path, dir_okay=False),
              help="ACL manifest (YAML), required. Its match patterns are relative to the "
                   "folder that holds it (or --root). Files no rule covers are refused.")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="Folder the manifest's match patterns (and --exclude) are relative to "
                   "(default: the manifest's folder); for a manifest kept elsewhere.")
@click.option("--exclude", "excludes", multiple=True, metavar="PATTERN",
              help="Leave out files matching this gitignore-style pattern, relative to the "
                   "same folder (repeatable), e.g. --exclude 'legacy/*.pdf'.")
@click.option("--tenant", help="Tenant for every file (overrides the manifest).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--sync", is_flag=True,
              help="Also erase documents whose files are gone from the given folders.")
@click.option("--workers", type=click.IntRange(1, 256), default=lambda: min(usable_cpus(), 256),
              show_default="the CPUs this process may use",
              help="Processes that parse and classify in parallel (used when at least 8 "
                   "changed files per worker; writes stay in one process, in order).")
@engine_options
def ingest(paths: tuple[Path, ...], manifest: Path | None, root: Path | None,
           excludes: tuple[str, ...], tenant: str | None, as_json: bool, sync: bool,
           workers: int, engine: EngineConfig | None = None) -> None:
    """Ingest files and folders: parse, classify, mask, seal, embed and index.

    Supported: .txt .md .html .pdf .docx .eml. Every file needs an ACL from
    the manifest; a file that no rule covers is listed and not ingested.
    Unchanged files (same content, ACL and policy) write nothing; a changed
    file replaces its old version atomically for readers. A run that was
    killed can simply be run again. Exit status 1 when any file was refused;
    2 (before anything is loaded) without --manifest or for a path that does
    not exist. The report ends with one stable line for scripts:
    "ragseal ingest: added=N changed=N unchanged=N removed=N refused=N ...".
    """
    from ragseal.ingest import ManifestError, ingest_paths, load_manifest
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from ._checks import check_ingest_paths, print_ingest_report, warn_unmatched

    check_ingest_paths(paths, manifest)
    if excludes:
        from pydantic import ValidationError
        from ragseal.ingest import ManifestRule

        for pattern in excludes:
            try:
                ManifestRule(match=pattern)
            except ValidationError as exc:
                reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
                fail(f"--exclude {pattern!r}: {reason}")
    acl = None
    if manifest is not None:
        try:
            acl = load_manifest(manifest)
        except ManifestError as exc:
            fail(f"manifest: {exc}")
    console = Console(stderr=True)
    with command_services(batch=True) as services:
        if acl is not None and manifest is not None:
            try:
                acl.check_levels(services.policy.levels)
            except ManifestError as exc:
                fail(f"manifest: {manifest.name}: {exc}")
        documents = services.ops.documents
        services.ops.auditor.require()  # no audit trail, no ingestion
        progress = Progress(
            TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[chunks]} chunks"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(), TimeRemainingColumn(),
            console=console, transient=True, disable=as_json or not console.is_terminal,
        )
        counted = {"chunks": 0}

        def _committed(result: IngestResult) -> None:
            if not result.unchanged:  # its record now, as its new version commits
                documents.ingested(operator_of(result.tenant), result)
            counted["chunks"] += 0 if result.unchanged else result.chunks
            elapsed = progress.tasks[0].elapsed or 0.0
            rate = f"{counted['chunks'] / elapsed:.1f} chunks/s" if elapsed else ""
            progress.update(task, chunks=counted["chunks"], rate=rate)

        with progress:
            task = progress.add_task("files", total=None, chunks=0, rate="")
            report = ingest_paths(
                run_ingestor(services, acl, tenant),
                list(paths),
                acl,
                tenant=tenant,
                exclude=[manifest] if manifest is not None else [],
                sync=sync,
                workers=workers,
                on_total=lambda n: progress.update(task, total=n),
                on_file=lambda _p: progress.advance(task),
                on_result=_committed,
                root=root.resolve() if root is not None else None,
                exclude_patterns=excludes,
                engine=engine,
            )
        operator = operator_of(tenant)
        for refusal in report.refused:
            documents.refused(operator, refusal.path, refusal.reason)
        for doc_id in report.removed:
            documents.removed(operator, doc_id)
    if as_json:
        echo_json(report.as_dict())
    else:
        print_ingest_report(report)
    warn_unmatched(report)
    if report.refused:
        raise CommandFailed(1, f"{len(report.refused)} file(s) refused")


# -- delete -----------------------------------------------------------------
@click.command()
@click.argument("doc_id")
@click.option("--tenant", help="Tenant of the document (looked up when omitted).")
def delete(doc_id: str, tenant: str | None) -> None:
    """Erase a document: destroy its data key, then delete its points.

    A backup of the vector store restored later cannot serve it again: the
    key that opens its chunks is gone from the keyring. DOC_ID is the
    doc_id that "ingest --json" and "query --json" print. Exit status 2 when
    no such document exists.

    \b
    Example:
      ragseal delete 3f9a2b...e1 --tenant acme
    """
    with command_services(existing=True) as services:
        documents = services.ops.documents
        tenant = tenant or documents.tenant_of(doc_id)
        if tenant is None:
            fail("no such document (give --tenant if its key was already destroyed)")
        documents.delete(operator_of(tenant), tenant, doc_id)  # DocumentNotFound: exit 2
    click.echo(f"deleted {doc_id}")


# -- relabel ----------------------------------------------------------------
@click.command()
@click.option("--tenant", "tenants", multiple=True,
              help="Only this tenant (repeatable; default: every tenant).")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def relabel(tenants: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Recompute stored chunks' levels under the current policy (no re-embedding).

    Run it after a policy change that moves levels (an entity's level or
    gate, markers, thresholds, the levels themselves). Each chunk's level is
    recomputed from what its seal holds (entity spans, text for markers, the
    manifest level); a changed chunk is re-sealed with its new labels and its
    payload rewritten in one write. Idempotent: a killed run is simply run
    again. Reveal decisions need no relabel: they always use the current
    policy. New entity types or recognizers need a re-ingest (spans are not
    searched again). Exit status 1 when a chunk could not be relabelled.

    \b
    Examples:
      RAGSEAL_POLICY=new-policy.yaml ragseal relabel --dry-run
      RAGSEAL_POLICY=new-policy.yaml ragseal relabel --tenant acme --json
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with command_services(existing=True, batch=True) as services:
        _ = services.audit  # no audit trail, no relabelling
        progress = Progress(
            TextColumn("relabelling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=True, disable=as_json or not console.is_terminal,
        )
        with progress:
            task = progress.add_task("chunks", total=None)
            report = relabel_in_force(  # each tenant under its own policy
                services, tenants, dry_run=dry_run,
                on_total=lambda n: progress.update(task, total=n),
                on_chunks=lambda n: progress.advance(task, n),
            )
        transitions = {f"{b}->{a}"[:64]: n for (b, a), n in sorted(report.transitions.items())}
        write_audit(services, "relabel", operator_of(tenants[0] if len(tenants) == 1 else None),
               "failed" if report.errors else "ok", dry_run=dry_run,
               documents=report.documents, chunks=report.scanned, relabeled=report.relabeled,
               errors=len(report.errors), mismatched=report.mismatched, levels=transitions)
    if as_json:
        echo_json(report.as_dict())
    else:
        verb = "would relabel" if dry_run else "relabelled"
        click.echo(f"{verb} {report.relabeled} of {report.scanned} chunk(s) in "
                   f"{report.documents} document(s) ({report.unchanged} unchanged, "
                   f"{report.skipped} of no current version skipped) in {report.seconds:.1f}s")
        for (before, after), n in sorted(report.transitions.items()):
            click.echo(f"  {before} -> {after}: {n}")
        if report.mismatched:
            click.echo(f"  {report.mismatched} chunk(s) had a payload level other than the one "
                       "their seal is bound to (levels changed, or the store was edited): "
                       "rewritten from the seal")
        for e in report.errors[:20]:
            click.echo(f"  error: {e.tenant} doc {e.doc_id} chunk {e.chunk_id}: {e.reason}")
    if report.errors:
        raise CommandFailed(1, f"{len(report.errors)} chunk(s) could not be relabelled")


def run_ingestor(services: Services, manifest: Manifest | None, tenant: str | None) -> Ingestor:
    """The ingestor of an ``ingest`` run: the policy in force of its tenant(s).

    A manifest may send files to several tenants; they must share one policy
    version (the base, usually), else the run is refused: one run per tenant.
    """
    tenants: set[str] = set()
    if tenant is not None:
        tenants.add(tenant)
    elif manifest is not None:
        tenants.add(manifest.defaults.tenant or "default")
        tenants.update(r.tenant for r in manifest.rules if r.tenant is not None)
    paths = [tenant_paths_or_exit(services, t) for t in sorted(tenants)]
    if all(p.version == 0 for p in paths):
        return services.ingestor
    if len(paths) == 1:
        return paths[0].ingestor
    fail("the manifest sends files to tenants with their own policies; ingest once per "
          "tenant (--tenant T)")
