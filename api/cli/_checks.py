"""What the CLI checks before anything heavy, and what it says when it is done.

A newcomer's first hour (issue 20): a busy port found after minutes of
model loading, a server that never says it is up, a command run from the
wrong folder that silently creates an empty store, an ingest report that
wraps mid-phrase in a log. Each check here runs before any model loads
and ends in one line and exit 2 (bad usage); the reports are plain lines
that neither wrap nor parse document text as markup.

Functions::

    require_data_dir       refuse to create a data dir from a read-only command
    check_port_free        a busy port in one line, before the models load
    check_ingest_paths     missing paths are a usage error, not refused files
    print_ingest_report    the human report and the stable summary line
    warn_unmatched         manifest rules that matched no file, on stderr
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._errors import UsageError

if TYPE_CHECKING:
    from ragseal.ingest import BatchReport

    from .._settings import Settings

__all__ = [
    "check_ingest_paths",
    "check_port_free",
    "print_ingest_report",
    "require_data_dir",
    "warn_unmatched",
]


def require_data_dir(settings: Settings) -> None:
    """Raise :class:`UsageError` when the data dir does not exist.

    Read-only commands (query, inspect, quarantine, audit, keys status,
    delete, relabel) would otherwise create an empty store wherever they are
    run and answer as if it were the real one.
    """
    if not settings.data_dir.is_dir():
        raise UsageError(f"no ragseal data dir at {settings.data_dir}; set RAGSEAL_DATA_DIR "
                           "or run ingest first")


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`UsageError` when ``host:port`` cannot be bound now.

    Bound and released at once, with SO_REUSEADDR as uvicorn binds, so a
    socket in TIME_WAIT is not mistaken for a busy port. A race with another
    process remains possible; ``serve`` maps that late failure to exit 2 too.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise UsageError(f"--host {host}: not an address this machine can serve on") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(f"port {port} on {host} is already in use; choose another "
                                   "with --port (quickstart: RAGSEAL_PORT)") from None
            if exc.errno == errno.EACCES:
                raise UsageError(f"port {port} on {host}: permission denied; "
                                   "use a port above 1023") from None
            raise UsageError(f"cannot serve on {host}:{port}: "
                               f"{exc.strerror or type(exc).__name__}") from None


def check_ingest_paths(paths: Sequence[Path], manifest: Path | None) -> None:
    """Usage errors of ``ingest``, found before any model or store is opened."""
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"{path}: no such file or folder")
    if manifest is None:
        # Never picked up on its own: whoever can write into a document store
        # must not be able to choose its ACL by dropping a file there.
        beside = [p / name for p in paths if p.is_dir()
                  for name in ("acl.yaml", "acl.yml") if (p / name).is_file()]
        hint = f"; did you mean --manifest {beside[0]}?" if beside else \
            "; see samples/corpus/acl.yaml"
        raise UsageError("--manifest is required: without an ACL manifest every file would be "
                           "refused (default deny)" + hint)
    if not manifest.is_file():
        raise UsageError(f"--manifest {manifest}: no such file")


def print_ingest_report(report: BatchReport) -> None:
    """The human report on stdout, one fact per line, then the summary line.

    Lines are written as they are (no terminal wrapping, no markup), so a
    log or a cron mail shows them whole. Levels count documents.
    """
    out = click.echo
    total = len(report.ingested) + len(report.unchanged)
    out(f"ingested {total} file(s): {len(report.added_paths)} added, "
        f"{len(report.changed_paths)} changed, {len(report.unchanged)} unchanged; "
        f"{report.chunks} chunk(s) written in {report.seconds:.1f}s")
    out(f"removed {len(report.removed)}; refused {len(report.refused)}; "
        f"excluded {report.excluded}; skipped {report.skipped} hidden")
    if report.ingested:
        levels = ", ".join(f"{k}: {v}" for k, v in report.level_counts().items())
        out(f"levels of written documents: {levels}")
        entities = ", ".join(f"{k}: {v}" for k, v in report.entity_counts().items()) or "none"
        out(f"entities found in written documents: {entities}")
        flagged = sum(r.flagged for r in report.ingested)
        held = sum(r.quarantined for r in report.ingested)
        if flagged:
            out(f"injection: {flagged} chunk(s) flagged, {held} quarantined "
                "(ragseal quarantine list)")
    for title, names in (("changed", report.changed_paths), ("removed", report.removed_paths)):
        if names:
            out(f"{title}:")
            for name in names:
                out(f"  {name}")
    if report.refused:
        out("refused:")
        for r in report.refused:
            out(f"  {r.path}: {r.reason}")
    if report.unmatched_rules:
        out("rules that matched no file: " + "; ".join(report.unmatched_rules))
    out(report.summary())


def warn_unmatched(report: BatchReport) -> None:
    """CONTRACT.md: a rule that matched no file of the run is also named on stderr."""
    for rule in report.unmatched_rules:
        click.echo(f"ragseal: warning: manifest {rule} matched no file of this run "
                   "(patterns are relative to the manifest's folder, or --root)", err=True)
