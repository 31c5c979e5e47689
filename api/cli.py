"""The ``ragseal`` command line.

Exit status: 0 success, 1 a failed check (refused files, tampering found),
2 bad usage or bad input, always with one clear line on stderr. ``--json``
prints exactly one JSON document on stdout.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import click
from ragseal.classification import ensure_offline

from ._cli_engine import engine_options

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from ragseal.classification import Finding, Policy
    from ragseal.ingest._engine import EngineConfig
    from ragseal.retrieval import Principal
    from ragseal.store import Actor
    from rich.text import Text

    from ._container import Services
    from ._settings import Settings

ensure_offline()

F = TypeVar("F", bound=Callable[..., object])

log = logging.getLogger(__name__)

EXAMPLES_INGEST = """
\b
Examples:
  ragseal ingest samples/corpus --manifest samples/corpus/acl.yaml
  ragseal ingest report.pdf --manifest acl.yaml --tenant acme --json
"""


class _Exit(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _fail(message: str, code: int = 2) -> NoReturn:
    raise _Exit(code, message)


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _settings() -> Settings:
    from ._settings import ConfigError, Settings

    try:
        return Settings()
    except ConfigError as exc:
        _fail(f"configuration: {exc}")


@contextmanager
def _services(*, store: bool = True, existing: bool = False,
              batch: bool = False) -> Iterator[Services]:
    """The composition root of one command (see ``_beside.open_services``).

    ``store``: open the store now, before any model, directly or through a
    running server's socket (one line, exit 2, when neither is possible).
    ``existing``: a read-only command; a data dir that does not exist is an
    error, not something to create. ``batch``: lower priority beside a server.
    """
    from ._beside import open_services

    with open_services(_settings(), store=store, existing=existing, batch=batch) as services:
        yield services


def _split(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(v.strip() for v in value.split(",") if v.strip())


def principal_options(func: F) -> F:
    """--user/--groups/--roles/--tenant: act as this principal (operator tools)."""
    func = click.option("--tenant", default="default", show_default=True,
                        help="Tenant of the principal.")(func)
    func = click.option("--roles", default="",
                        help="Comma-separated roles, e.g. hr,employee.")(func)
    func = click.option("--groups", default="", help="Comma-separated ACL groups.")(func)
    func = click.option("--user", "user", required=True,
                        help="The principal's sub (user id).")(func)
    return func


def _principal(user: str, groups: str, roles: str, tenant: str) -> Principal:
    from ragseal.retrieval import Principal

    try:
        return Principal(sub=user, tenant=tenant, groups=_split(groups), roles=_split(roles))
    except ValueError as exc:
        _fail(str(exc))


def _operator(tenant: str | None) -> Actor:
    """The principal of an operator command: ``cli:<OS user>`` (audit records)."""
    import getpass

    from ragseal.store import Actor

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        import os

        user = f"uid{os.getuid()}"
    return Actor(sub=f"cli:{user}", tenant=tenant or "*")


def _audit(services: Services, action: str, principal: Principal | Actor | None,
           outcome: str = "ok", **fields: object) -> None:
    """One audit record (docs/AUDIT.md); an AuditError ends the command (exit 2)."""
    services.audit.record(action, principal=principal, outcome=outcome,
                          policy=services.policy.fingerprint, **fields)


def _read_input(value: str) -> str:
    if value == "-":
        return sys.stdin.read()
    return value


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog="Configuration comes from RAGSEAL_* environment variables (see README).",
)
@click.option("-v", "--verbose", count=True, help="Log to stderr (-v info, -vv debug). "
              "Logs never hold document text, queries or keys.")
def cli(verbose: int) -> None:
    """ragseal: a secure retrieval layer for RAG.

    \b
    Typical flow:
      1. ragseal policy check               validate the steward's policy
      2. ragseal ingest DIR --manifest ACL  classify, mask, seal and index files
      3. ragseal token --sub alice ...      mint a dev token (HS256 secret)
      4. ragseal serve                      the HTTP API on 127.0.0.1:8000
    """
    from ._logging import configure_logging

    os.umask(0o077)  # everything created under the data dir: 0700 / 0600
    configure_logging({0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG))


# -- ingest -----------------------------------------------------------------
@cli.command(epilog=EXAMPLES_INGEST)
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
@click.option("--workers", type=click.IntRange(1, 256), default=os.cpu_count() or 1,
              show_default="the cores",
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
    from ragseal.ingest import ManifestError, load_manifest
    from ragseal.ingest._runner import ingest_paths
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from ._cli_policy import run_ingestor
    from ._cli_support import check_ingest_paths, print_ingest_report, warn_unmatched

    check_ingest_paths(paths, manifest)
    if excludes:
        from pydantic import ValidationError
        from ragseal.ingest._manifest import ManifestRule

        for pattern in excludes:
            try:
                ManifestRule(match=pattern)
            except ValidationError as exc:
                reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
                _fail(f"--exclude {pattern!r}: {reason}")
    acl = None
    if manifest is not None:
        try:
            acl = load_manifest(manifest)
        except ManifestError as exc:
            _fail(f"manifest: {exc}")
    console = Console(stderr=True)
    with _services(batch=True) as services:
        if acl is not None and manifest is not None:
            try:
                acl.check_levels(services.policy.levels)
            except ManifestError as exc:
                _fail(f"manifest: {manifest.name}: {exc}")
        _ = services.audit  # no audit trail, no ingestion
        progress = Progress(
            TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[chunks]} chunks"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(), TimeRemainingColumn(),
            console=console, transient=True, disable=as_json or not console.is_terminal,
        )
        counted = {"chunks": 0}

        def _advance(result_chunks: int) -> None:
            counted["chunks"] += result_chunks
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
                on_result=lambda r: _advance(0 if r.unchanged else r.chunks),
                root=root.resolve() if root is not None else None,
                exclude_patterns=excludes,
                engine=engine,
            )
        operator = _operator(tenant)
        for result in report.ingested:
            _audit(services, "ingest", _operator(result.tenant), doc_id=result.doc_id,
                   chunks=result.chunks, level=result.level, entities=result.entities,
                   flagged=result.flagged, quarantined=result.quarantined)
        for refusal in report.refused:
            # The path may itself be sensitive: a keyed hash only.
            _audit(services, "ingest", operator, "refused", reason=refusal.reason[:120],
                   path_hash=services.ids.keyed_hash("path", refusal.path))
        for doc_id in report.removed:
            _audit(services, "delete", operator, doc_id=doc_id[:64], reason="sync")
    if as_json:
        _echo_json(report.as_dict())
    else:
        print_ingest_report(report)
    warn_unmatched(report)
    if report.refused:
        raise _Exit(1, f"{len(report.refused)} file(s) refused")


# -- delete -----------------------------------------------------------------
@cli.command()
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
    with _services(existing=True) as services:
        keys = services.keys
        tenant = tenant or keys.tenant_of(doc_id)
        if tenant is None:
            _fail("no such document (give --tenant if its key was already destroyed)")
        if not services.erase(tenant, doc_id):
            _audit(services, "delete", _operator(tenant), "not_found",
                   doc_hash=services.ids.keyed_hash("doc-id", doc_id))
            _fail("no such document")
        _audit(services, "delete", _operator(tenant), doc_id=doc_id[:64])
    click.echo(f"deleted {doc_id}")


# -- relabel ----------------------------------------------------------------
@cli.command()
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

    from ._cli_policy import relabel_in_force

    console = Console(stderr=True)
    with _services(existing=True, batch=True) as services:
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
        _audit(services, "relabel", _operator(tenants[0] if len(tenants) == 1 else None),
               "failed" if report.errors else "ok", dry_run=dry_run,
               documents=report.documents, chunks=report.scanned, relabeled=report.relabeled,
               errors=len(report.errors), mismatched=report.mismatched, levels=transitions)
    if as_json:
        _echo_json(report.as_dict())
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
        raise _Exit(1, f"{len(report.errors)} chunk(s) could not be relabelled")


# -- classify -----------------------------------------------------------------
@cli.command()
@click.argument("path")
@click.option("--json", "as_json", is_flag=True, help="Print findings as JSON.")
@click.option("--policy", "policy_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Policy to classify with (default: RAGSEAL_POLICY, else the bundled one): "
                   "preview a policy before deploying it.")
def classify(path: str, as_json: bool, policy_file: Path | None) -> None:
    """Preview what would be detected in a file (or - for stdin). Stores nothing.

    The terminal view prints the text with each finding highlighted in its
    level's colour and tagged [TYPE score level], a table of the findings,
    and the level the document would get from its content (markers and
    gating entities). --json prints {"level", "findings": [{"type", "start",
    "end", "score", "level"}]}, offsets into the text as read: the extracted
    text of a file, or stdin as given.

    \b
    Examples:
      ragseal classify samples/corpus/hr/employee-roster-2026-q4.txt
      echo "mail jane@example.com" | ragseal classify - --json
      ragseal classify report.pdf --policy new-policy.yaml
    """
    from ragseal.ingest._loaders import LoadError, load_document

    if path == "-":
        text = sys.stdin.read()
        if not text.strip():
            _fail("no text to classify on stdin")
    else:
        try:
            text = load_document(Path(path)).text
        except LoadError as exc:
            _fail(f"{path}: {exc}")
    if policy_file is not None:
        from ragseal.classification import Classifier, DetectorError, load_policy

        policy = load_policy(policy_file)  # PolicyError: one line, exit 2 (see main)
        try:
            classifier = Classifier(policy)
            classifier.warm_up()
        except DetectorError as exc:
            _fail(f"policy: {exc}")
        result = classifier.classify(text)
    else:
        with _services(store=False) as services:
            policy = services.policy
            result = services.classifier.classify(text)
    rank = result.level(policy)
    findings = [
        {**f.as_dict(), "level": policy.entity_rule(f.entity).level} for f in result.findings
    ]
    if as_json:
        _echo_json({"level": policy.level_name(rank), "findings": findings})
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(_highlighted(text, result.findings, policy), soft_wrap=True)
    table = Table("type", "start", "end", "score", "level", title="Findings")
    for item in findings:
        table.add_row(str(item["type"]), str(item["start"]), str(item["end"]),
                      f"{item['score']:.2f}", str(item["level"]),
                      style=_level_style(policy, str(item["level"])))
    console.print(table)
    console.print(f"document level from content: [bold]{policy.level_name(rank)}[/]")
    console.print(_level_reason(policy, result.findings, rank), markup=False, highlight=False)


def _level_reason(policy: Policy, findings: Sequence[Finding], rank: int) -> str:
    """Why the level is what it is: only markers and ``gate: true`` entities raise it."""
    above = sorted({f.entity for f in findings
                    if not policy.entity_rule(f.entity).gate
                    and policy.rank(policy.entity_rule(f.entity).level) > rank})
    text = ("(raised only by markers and by entities with gate: true; the manifest's level "
            "is the floor at ingest")
    if above:
        text += (f"; {', '.join(above)} stay masked for readers below their level but do not "
                 "raise it")
    return text + ")"


_LEVEL_STYLES = ("green", "cyan", "yellow", "magenta", "red")


def _level_style(policy: Policy, level: str) -> str:
    """A colour per level, lowest green to highest red, whatever the number of levels."""
    top = max(len(policy.levels) - 1, 1)
    return _LEVEL_STYLES[round(policy.rank(level) * (len(_LEVEL_STYLES) - 1) / top)]


def _highlighted(text: str, findings: Sequence[Finding], policy: Policy) -> Text:
    """The text with each finding styled in its level's colour and tagged after it.

    Built with ``Text.append``: document text is never parsed as rich markup.
    """
    from rich.text import Text

    out = Text()
    cursor = 0
    for f in sorted(findings, key=lambda f: (f.start, f.end)):
        if f.start < cursor:
            continue  # findings never overlap; guard anyway
        level = policy.entity_rule(f.entity).level
        style = _level_style(policy, level)
        out.append(text[cursor:f.start])
        out.append(text[f.start:f.end], style=f"bold reverse {style}")
        out.append(f"[{f.entity} {f.score:.2f} {level}]", style=f"dim {style}")
        cursor = f.end
    out.append(text[cursor:])
    return out


# -- eval -------------------------------------------------------------------
@cli.command("eval")
@click.argument("labeled", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (with offsets).")
@click.option("--predictions", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write our spans: one JSON line per sample, "
                   '{"spans": [{"type", "start", "end", "score"}]}.')
@click.option("--map", "maps", multiple=True, metavar="GOLD=OURS",
              help="Score gold type GOLD as our type OURS (repeatable); GOLD= skips it.")
@click.option("--match", "scheme", default="overlap", show_default=True,
              type=click.Choice(["overlap", "exact", "token"]), help="Matching scheme.")
@click.option("--iou", default=0.5, show_default=True, type=click.FloatRange(0.01, 1.0),
              help="Minimum character IoU for --match overlap.")
@click.option("--policy", "policy_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Policy to detect with (default: RAGSEAL_POLICY, else the bundled one).")
@click.option("--misses", "max_misses", default=5, show_default=True,
              type=click.IntRange(0, 1000), help="Worst misses to list per gold type.")
def eval_(labeled: Path, as_json: bool, predictions: Path | None, maps: tuple[str, ...],
          scheme: str, iou: float, policy_file: Path | None, max_misses: int) -> None:
    """Detection quality on a labelled corpus: precision, recall, F2 per type.

    LABELED is JSON lines {"text": str, "spans": [{"type", "start", "end"}]}
    (blank lines skipped). All lines are classified in one process, in
    batches, under the policy. Gold types are scored as ours when the policy
    detects a type of that name or --map names one; other gold types are
    listed as not evaluated, and predictions of types no evaluated gold type
    maps to are ignored.

    \b
    Matching (--match):
      overlap  span level, like presidio-research's SpanEvaluator: spans are
               trimmed of edge whitespace/punctuation; same type and character
               IoU >= --iou (0.5), one-to-one, best IoU first (default)
      exact    span level, same type and same trimmed start and end
      token    token level (words and punctuation): each token counts once,
               TP if gold and predicted types agree, else FP and/or FN
    F2 weighs recall twice as much as precision. "pii" is the same figure
    ignoring types. Missed text is shown in the terminal view only; --json
    gives offsets (sample number, start, end).

    \b
    Examples:
      ragseal eval labeled.jsonl --map GPE=LOCATION --map STREET_ADDRESS=LOCATION
      ragseal eval labeled.jsonl --json --predictions ours.jsonl --match exact
    """
    from ragseal.classification import Classifier, DetectorError, default_policy, load_policy
    from ragseal.classification._eval import EvalInputError, evaluate, parse_labeled, parse_mapping
    from ragseal.classification._eval import predict as predict_spans

    try:
        mapping = parse_mapping(maps)
        with labeled.open(encoding="utf-8") as fh:
            samples = parse_labeled(fh)
    except EvalInputError as exc:
        _fail(f"{labeled.name}: {exc}" if str(exc).startswith("line") else str(exc))
    except UnicodeDecodeError:
        _fail(f"{labeled.name}: not UTF-8 text")
    if policy_file is None:
        policy_file = _settings().policy
    pol = load_policy(policy_file) if policy_file is not None else default_policy()
    known = set(pol.entity_rules)
    unknown = sorted({t for t in mapping.values() if t and t not in known})
    if unknown:
        _fail(f"--map: the policy does not detect {', '.join(unknown)}")
    try:
        predicted = predict_spans(Classifier(pol), [s.text for s in samples])
    except DetectorError as exc:
        _fail(f"policy: {exc}")
    if predictions is not None:
        # One line per input line (CONTRACT.md): a blank input line gets no spans.
        by_line = {s.line: spans for s, spans in zip(samples, predicted, strict=True)}
        with predictions.open("w", encoding="utf-8") as out:
            for n in range(1, max(by_line, default=0) + 1):
                spans = by_line.get(n, [])
                out.write(json.dumps({"spans": [s.as_dict() for s in spans]}) + "\n")
    report = evaluate(samples, predicted, mapping=mapping, known_types=known,
                      scheme=scheme, iou=iou)
    if as_json:
        _echo_json(report.as_dict(max_misses=max_misses))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    console = Console()
    title = f"{len(samples)} samples, match {scheme}" + (f" (IoU >= {iou})"
                                                         if scheme == "overlap" else "")
    table = Table("type", "tp", "fp", "fn", "precision", "recall", "F2", title=title)
    rows = [*sorted(report.per_type.items()), ("overall", report.overall), ("pii", report.pii)]
    for name, c in rows:
        table.add_row(name, str(c.tp), str(c.fp), str(c.fn), pct(c.precision), pct(c.recall),
                      pct(c.f2), style="bold" if name in ("overall", "pii") else None)
    console.print(table)
    if report.not_evaluated:
        console.print("not evaluated (gold type: spans): " + ", ".join(
            f"{t}: {n}" for t, n in sorted(report.not_evaluated.items())), markup=False)
    for gold_type, misses in sorted(report.misses.items()):
        if not misses or not max_misses:
            continue
        console.print(f"worst misses, {gold_type}:", markup=False)
        for m in misses[:max_misses]:
            snippet = samples[m.sample - 1].text[m.start:m.end].replace("\n", " ")
            line = Text(f"  line {m.line or m.sample} [{m.reason}] ")
            line.append(snippet[:80], style="bold")
            console.print(line)


# -- query ------------------------------------------------------------------
@cli.command()
@click.argument("text")
@principal_options
@click.option("-k", "top_k", default=5, show_default=True, type=click.IntRange(1, 50),
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
    from ._cli_policy import tenant_paths_or_exit
    from ._empty_tenant import EMPTY_TENANT_NOTICE, tenant_has_documents

    principal = _principal(user, groups, roles, tenant)
    text = _read_input(text)
    if not text.strip():
        _fail("the query is empty")
    with _services(existing=True) as services:
        paths = tenant_paths_or_exit(services, principal.tenant)
        result = paths.retriever.retrieve(principal, text, top_k, pseudonymize=pseudonymize)
        empty_tenant = not result.chunks and not tenant_has_documents(services.store, tenant)
        _audit(services, "retrieve", principal, top_k=top_k,
               query_hash=services.ids.keyed_hash("query", text),
               returned=len(result.chunks), dropped=result.dropped,
               chunk_ids=[c.chunk_id for c in result.chunks],
               doc_ids=sorted({c.doc_id for c in result.chunks}), via="cli")
    if as_json:
        answer: dict[str, object] = {"retrieval_id": result.retrieval_id,
                                     "chunks": [c.as_dict() for c in result.chunks],
                                     "context": result.context}
        if empty_tenant:
            answer["notice"] = EMPTY_TENANT_NOTICE
        _echo_json(answer)
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
@cli.command()
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
    from ragseal.retrieval import RetrievalIdError

    from ._cli_policy import tenant_paths_or_exit

    principal = _principal(user, groups, roles, tenant)
    answer = _read_input(text)
    with _services() as services:  # a fresh data dir is fine: inspect needs no corpus
        try:
            result = tenant_paths_or_exit(services, principal.tenant).inspector.inspect(
                principal, answer, retrieval_id)
        except RetrievalIdError as exc:
            _audit(services, "inspect", principal, "denied", reason="invalid_retrieval_id",
                   via="cli")
            _fail(str(exc))
        _audit(services, "inspect", principal, verdict=result.verdict,
               findings=len(result.findings),
               finding_types=sorted({f.type for f in result.findings}),
               reidentified=result.reidentified, via="cli")
    if as_json:
        _echo_json(result.as_dict())
        return
    click.echo(f"verdict: {result.verdict}")
    for f in result.findings:
        click.echo(f"  {f.type} [{f.start}:{f.end}] {f.action} ({f.reason})")
    click.echo(result.answer)


# -- token ------------------------------------------------------------------
@cli.command()
@click.option("--sub", required=True, help="Subject (user id).")
@click.option("--groups", default="", help="Comma-separated groups.")
@click.option("--roles", default="", help="Comma-separated roles.")
@click.option("--tenant", help="Tenant claim (absent means 'default').")
@click.option("--ttl", default=3600, show_default=True, type=click.IntRange(1, 7 * 86400),
              help="Lifetime in seconds.")
def token(sub: str, groups: str, roles: str, tenant: str | None, ttl: int) -> None:
    """Mint a development token signed with RAGSEAL_JWT_SECRET (HS256).

    \b
    Example:
      export RAGSEAL_JWT_SECRET=$(python -c 'import secrets;print(secrets.token_urlsafe(48))')
      TOKEN=$(ragseal token --sub maria@acme.example --groups hr,all-staff --roles hr --tenant acme)
      curl -H "Authorization: Bearer $TOKEN" -d '{"query":"payroll"}' \\
           -H 'content-type: application/json' http://127.0.0.1:8000/v1/retrieve
    """
    from ._auth import mint_token

    settings = _settings()
    if settings.jwt_secret is None:
        _fail("set RAGSEAL_JWT_SECRET (at least 32 bytes) to mint HS256 tokens")
    if ttl > settings.max_token_ttl:
        _fail(f"--ttl {ttl} is longer than RAGSEAL_MAX_TOKEN_TTL ({settings.max_token_ttl} "
              "seconds): the server would refuse the token")
    try:
        minted = mint_token(
            settings.jwt_secret, sub=sub, tenant=tenant, groups=_split(groups),
            roles=_split(roles), ttl=ttl, audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        )
    except ValueError as exc:  # claims off-shape; the message names no value
        _fail(str(exc))
    click.echo(f"ragseal: token for {sub} in tenant {tenant or 'default'}"
               f"{'' if tenant else ' (no --tenant given)'}, valid {ttl}s", err=True)
    click.echo(minted)


# -- serve ------------------------------------------------------------------
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 serves every interface (put TLS in front).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="TCP port; a busy port stops serve at once (exit 2).")
def serve(host: str, port: int) -> None:
    """Serve the HTTP API. Refuses to start without JWT configuration.

    Set RAGSEAL_JWT_SECRET (HS256) or RAGSEAL_JWT_JWKS (RS256/ES256); there
    is no anonymous mode. Prints one line on stderr once it answers
    (address, store, tenants, policy fingerprint); GET /healthz is 200 then.

    \b
    Example:
      RAGSEAL_JWT_SECRET=$(cat .ragseal/dev-jwt-secret) ragseal serve --port 8000
    """
    import uvicorn
    from ragseal.classification import load_policy

    from ._announce import AnnouncingServer
    from ._app import create_app
    from ._auth import TokenVerifier
    from ._cli_support import check_port_free
    from ._container import Services
    from ._settings import ConfigError

    settings = _settings()
    try:
        # Build the verifier now: a missing or unusable JWKS stops here, with
        # one line, instead of inside the server's startup after a traceback.
        TokenVerifier(settings)
    except ConfigError as exc:
        _fail(str(exc))
    check_port_free(host, port)  # before the models load: a busy port in one line
    if settings.policy is not None:
        load_policy(settings.policy)  # PolicyError: one line, exit 2 (see main)
    from ._beside import embedded_store_in_use

    if embedded_store_in_use(settings):  # the server must own it: before any model
        _fail(f"the store in {settings.data_dir} is in use by another ragseal process "
              "(a server already serves it, or a command runs alone); stop it first")
    # Built here, not in the server's lifespan: a locked store, a master key that
    # does not open the keyring, a damaged keyring or audit trail stop the start
    # with one line and exit 2 (see main) instead of uvicorn's traceback.
    services = Services(settings)
    try:
        services.warm_up()
        app = create_app(settings, services)
        # log_config=None: uvicorn keeps its hands off logging; its loggers propagate to
        # the JSON handler the cli group configured (-v shows access lines: no bodies).
        config = uvicorn.Config(app, host=host, port=port, log_config=None,
                                server_header=False)
        server = AnnouncingServer(config, app, host, port)  # one line once it serves
        try:
            server.run()
        except SystemExit as exc:  # uvicorn's STARTUP_FAILURE (3): not one of our codes
            if exc.code in (0, None):
                raise
            _fail(f"could not start serving on {host}:{port} (run with -v for the reason)")
    finally:
        services.close()


# -- policy: api/_cli_policy.py (registered at the end of this module) --------


# -- quarantine ---------------------------------------------------------------
@cli.group()
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
    from ragseal.ingest import list_quarantine

    sources: dict[str, str | None] = {}
    with _services(existing=True) as services:
        docs = list_quarantine(services.store, tenant)
        _audit(services, "quarantine_list", _operator(tenant), documents=len(docs))
        if tenant is not None and docs:
            sources = {d.doc_id: services.ingestor.source_of(d.tenant, d.doc_id) for d in docs}
            _audit(services, "source_reveal", _operator(tenant), via="quarantine_list",
                   doc_ids=[d.doc_id[:64] for d in docs if sources.get(d.doc_id)])
    if as_json:
        _echo_json({"documents": [
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
    from ragseal.ingest import release_document

    with _services(existing=True) as services:
        tenant = tenant or services.keys.tenant_of(doc_id)
        if tenant is None:
            _fail("no such document (give --tenant)")
        released = release_document(services.store, tenant, doc_id)
        if not released:
            _audit(services, "quarantine_release", _operator(tenant), "not_found",
                   doc_hash=services.ids.keyed_hash("doc-id", doc_id))
            _fail("no quarantined chunk for that document", code=1)
        _audit(services, "quarantine_release", _operator(tenant), doc_id=doc_id[:64],
               chunks=released)
    click.echo(f"released {released} chunk(s) of {doc_id}")


# Incident commands (quarantine add, tenant freeze/unfreeze): api/_cli_incident.py.
from ._cli_incident import quarantine_add, tenant  # noqa: E402

quarantine.add_command(quarantine_add)
cli.add_command(tenant)


# -- keys -------------------------------------------------------------------
@cli.group()
def keys() -> None:
    """Key-encryption keys: rotate, retire, status (never shows key material)."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Add a KEK version and re-wrap every data key under it (resumable).

    \b
    Example:
      ragseal keys rotate && ragseal keys status
    """
    with _services(store=False) as services:
        _ = services.audit  # no audit trail, no key operation
        version = services.keys.rotate()
        _audit(services, "keys_rotate", _operator(None), version=version)
    click.echo(f"rotated: active key-encryption key is now v{version}")


@keys.command("retire")
@click.argument("version", type=int)
def keys_retire(version: int) -> None:
    """Destroy an old KEK version (after a complete rotation).

    Refused (exit 2) for the active version or one that still wraps keys.

    \b
    Example:
      ragseal keys rotate && ragseal keys retire 1
    """
    from ragseal.store import KeyringError

    with _services(store=False, existing=True) as services:
        _ = services.audit  # no audit trail, no key operation
        try:
            services.keys.retire(version)
        except KeyringError as exc:
            _audit(services, "keys_retire", _operator(None), "refused", version=version)
            _fail(str(exc))
        _audit(services, "keys_retire", _operator(None), version=version)
    click.echo(f"retired v{version}")


@keys.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def keys_status(as_json: bool) -> None:
    """KEK versions, data keys per version and usage counters (no key material).

    \b
    Example:
      ragseal keys status --json
    """
    from dataclasses import asdict

    with _services(store=False, existing=True) as services:
        status = services.keys.status()
    if as_json:
        _echo_json(asdict(status))
        return
    click.echo(f"active version: v{status.active_version}")
    for v, state in status.versions.items():
        click.echo(f"  v{v}: {state}, {status.data_keys_per_version.get(v, 0)} data keys")
    click.echo(f"data keys: {status.data_keys}; encryptions: {status.encryptions} "
               f"(max on one key: {status.max_encryptions_one_key})")


# -- audit ------------------------------------------------------------------
_DURATION = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _parse_since(value: str) -> datetime:
    import re
    from datetime import UTC, datetime, timedelta

    match = re.fullmatch(r"(\d{1,9})([smhdw])", value.strip())
    if match:
        seconds = int(match.group(1)) * _DURATION[match.group(2)]
        return datetime.now(UTC) - timedelta(seconds=seconds)
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        _fail("--since must be an ISO 8601 time (2026-03-01T00:00:00Z) or a duration "
              "(30m, 24h, 7d)")
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@cli.group()
def audit() -> None:
    """The tamper-evident audit trail: verify the chains, export for a SIEM."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def audit_verify(as_json: bool) -> None:
    """Check every replica's chain under $RAGSEAL_DATA_DIR/audit.

    Exit status 1 naming the first bad record (file and seq) on any
    modification, deletion, insertion or reordering, a seal that does not
    check, or a chain file missing. See docs/AUDIT.md for what is detected.

    \b
    Example:
      ragseal audit verify && echo intact
    """
    from ragseal.store import verify_audit

    settings = _settings()
    with _services(store=False, existing=True) as services:
        key = services.keys.secret("audit-seal")
    report = verify_audit(settings.data_dir / "audit", key)
    if as_json:
        _echo_json(report.as_dict())
    else:
        click.echo(f"audit: {report.chains} chain(s), {report.records} record(s), "
                   f"{report.seals} seal(s)")
        for name, count in sorted(report.unsealed.items()):
            click.echo(f"  {name}: {count} record(s) after the last seal (running or crashed)")
    if not report.ok:
        raise _Exit(1, f"audit trail tampered: {report.problems[0]}")


@audit.command("export")
@click.option("--since", help="ISO 8601 time or a duration back from now (15m, 24h, 7d).")
def audit_export(since: str | None) -> None:
    """Print audit records as JSON lines (oldest first), chain fields included.

    \b
    Examples:
      ragseal audit export --since 24h >> siem.jsonl
      ragseal audit export --since 2026-03-01T00:00:00Z
    """
    from ragseal.store import read_audit

    from ._cli_support import require_data_dir

    cutoff = _parse_since(since) if since else None
    settings = _settings()
    require_data_dir(settings)
    for record in read_audit(settings.data_dir / "audit", cutoff):
        click.echo(json.dumps(record, sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False))


from ._cli_policy import policy as _policy_group  # noqa: E402 - needs the helpers above

cli.add_command(_policy_group)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: maps every known failure to one line and an exit code.

    Anything unexpected is reported as one line naming the error's type only
    (its message might hold document text); ``-vv`` logs the traceback.
    """
    from ragseal.classification import PolicyError
    from ragseal.store import AuditError, KeyringError
    from ragseal.store._errors import StoreError

    from ._cli_support import UsageProblem

    try:
        # Outside standalone mode click *returns* the code of a ctx.exit()
        # (``--help`` gives 0) instead of raising it.
        code = cli.main(args=argv, prog_name="ragseal", standalone_mode=False)
    except _Exit as exc:
        if exc.code and exc.message:
            click.echo(f"ragseal: {exc.message}", err=True)
        return exc.code
    except UsageProblem as exc:
        click.echo(f"ragseal: {exc}", err=True)
        return 2
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.Abort:
        click.echo("ragseal: aborted", err=True)
        return 2
    except PolicyError as exc:
        click.echo(f"ragseal: policy: {exc}", err=True)
        return 2
    except (KeyringError, StoreError, AuditError) as exc:
        click.echo(f"ragseal: {exc}", err=True)
        return 2
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        click.echo(f"ragseal: cannot use{where}: {exc.strerror or type(exc).__name__}", err=True)
        return 2
    except Exception as exc:  # noqa: BLE001 - the one place that turns bugs into one line
        log.debug("unexpected error", exc_info=True)
        click.echo(f"ragseal: unexpected error ({type(exc).__name__}); "
                   "run with -vv for details", err=True)
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
