"""``ragseal audit``: verify the chains, export for a SIEM."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from ._common import command_services, echo_json, load_settings
from ._errors import CommandFailed, fail

__all__ = ["audit"]

if TYPE_CHECKING:
    from datetime import datetime


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
        fail("--since must be an ISO 8601 time (2026-03-01T00:00:00Z) or a duration "
              "(30m, 24h, 7d)")
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@click.group()
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
    from .._control_plane import verify_trail

    settings = load_settings()
    with command_services(store=False, existing=True) as services:
        key = services.keys.secret("audit-seal")
    report = verify_trail(settings, key)
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo(f"audit: {report.chains} chain(s), {report.records} record(s), "
                   f"{report.seals} seal(s)")
        for name, count in sorted(report.unsealed.items()):
            click.echo(f"  {name}: {count} record(s) after the last seal (running or crashed)")
    if not report.ok:
        raise CommandFailed(1, f"audit trail tampered: {report.problems[0]}")


@audit.command("export")
@click.option("--since", help="ISO 8601 time or a duration back from now (15m, 24h, 7d).")
def audit_export(since: str | None) -> None:
    """Print audit records as JSON lines (oldest first), chain fields included.

    \b
    Examples:
      ragseal audit export --since 24h >> siem.jsonl
      ragseal audit export --since 2026-03-01T00:00:00Z
    """
    from .._control_plane import read_trail, uses_database
    from ._checks import require_data_dir

    cutoff = _parse_since(since) if since else None
    settings = load_settings()
    if not uses_database(settings):
        require_data_dir(settings)
    for record in read_trail(settings, cutoff):
        click.echo(json.dumps(record, sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False))
