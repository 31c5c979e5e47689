"""The ``ragseal`` command line: one module per command group.

Exit status: 0 success, 1 a failed check (refused files, tampering found),
2 bad usage or bad input, always with one clear line on stderr. ``--json``
prints exactly one JSON document on stdout.

Each command is a thin adapter (parse the flags, call, print); errors are
mapped to the exit status and the line once, in ``_errors.py``. Where each
command lives::

    _documents   ingest, delete, relabel
    _query       query, inspect
    _classify    classify, eval
    _serve       serve, token          (_announce: the "serving on" line)
    _policy      policy check|show|history|push|rollback
    _quarantine  quarantine list|release|add
    _tenant      tenant freeze|unfreeze|status
    _keys        keys rotate|retire|status
    _audit       audit verify|export
    _common      settings, services, principal options, audit records, output
    _checks      usage checks before anything heavy, the ingest report

Importing this package loads click and the command modules only; each
command imports what it needs when it runs, so ``ragseal --help`` is quick.
"""

from __future__ import annotations

import logging
import os

import click
from ragseal.classification import ensure_offline

from ragseal import RagsealError

from ._audit import audit
from ._classify import classify, eval_
from ._documents import delete, ingest, relabel
from ._errors import exit_line
from ._keys import keys
from ._policy import policy
from ._quarantine import quarantine
from ._query import inspect, query
from ._serve import serve, token
from ._tenant import tenant

__all__ = ["cli", "main"]

ensure_offline()

log = logging.getLogger(__name__)


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
    from .._logging import configure_logging

    os.umask(0o077)  # everything created under the data dir: 0700 / 0600
    configure_logging({0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG))


for _command in (ingest, delete, relabel, classify, eval_, query, inspect, token, serve,
                 policy, quarantine, tenant, keys, audit):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: every failure becomes one line on stderr and an exit code.

    Errors of the tree are mapped once (:func:`~ragseal.api.cli._errors.exit_line`);
    click's own exits keep click's codes. Anything unexpected is reported as
    one line naming the error's type only (its message might hold document
    text); ``-vv`` logs the traceback.
    """
    try:
        # Outside standalone mode click *returns* the code of a ctx.exit()
        # (``--help`` gives 0) instead of raising it.
        code = cli.main(args=argv, prog_name="ragseal", standalone_mode=False)
    except RagsealError as exc:
        status, line = exit_line(exc)
        if status and line:
            click.echo(f"ragseal: {line}", err=True)
        return status
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.Abort:
        click.echo("ragseal: aborted", err=True)
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
