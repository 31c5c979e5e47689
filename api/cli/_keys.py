"""``ragseal keys``: key-encryption keys (rotate, retire, status)."""

from __future__ import annotations

import click

from ._common import command_services, echo_json, operator_of

__all__ = ["keys"]


# -- keys -------------------------------------------------------------------
@click.group()
def keys() -> None:
    """Key-encryption keys: rotate, retire, status (never shows key material)."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Add a KEK version and re-wrap every data key under it (resumable).

    \b
    Example:
      ragseal keys rotate && ragseal keys status
    """
    with command_services(store=False) as services:
        version = services.ops.keys.rotate(operator_of(None))
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

    with command_services(store=False, existing=True) as services:
        # Refused (the active version, or one still in use): KeyringError, exit 2.
        services.ops.keys.retire(operator_of(None), version)
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

    with command_services(store=False, existing=True) as services:
        status = services.ops.keys.status()
    if as_json:
        echo_json(asdict(status))
        return
    click.echo(f"active version: v{status.active_version}")
    for v, state in status.versions.items():
        click.echo(f"  v{v}: {state}, {status.data_keys_per_version.get(v, 0)} data keys")
    click.echo(f"data keys: {status.data_keys}; encryptions: {status.encryptions} "
               f"(max on one key: {status.max_encryptions_one_key})")
