"""What every command shares: settings, services, the principal, audit, output.

Nothing heavy at import: ``ragseal --help`` loads no package but click.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import click

from ._errors import fail

if TYPE_CHECKING:
    from ragseal.ingest import RelabelReport
    from ragseal.retrieval import Principal
    from ragseal.store import Actor

    from .._container import Services
    from .._settings import Settings
    from .._tenant_paths import TenantPaths

__all__ = [
    "command_services",
    "echo_json",
    "load_settings",
    "operator_of",
    "principal_from",
    "principal_options",
    "read_input",
    "relabel_in_force",
    "split_list",
    "tenant_paths_or_exit",
    "write_audit",
]

F = TypeVar("F", bound=Callable[..., object])

def echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def load_settings() -> Settings:
    from .._settings import Settings

    return Settings()  # ConfigError: one line, exit 2 (_errors.py)


@contextmanager
def command_services(*, store: bool = True, existing: bool = False,
                     batch: bool = False) -> Iterator[Services]:
    """The composition root of one command (see ``_beside.open_services``).

    ``store``: open the store now, before any model, directly or through a
    running server's socket (one line, exit 2, when neither is possible).
    ``existing``: a read-only command; a data dir that does not exist is an
    error, not something to create. ``batch``: lower priority beside a server.
    """
    from .._beside import open_services

    with open_services(load_settings(), store=store, existing=existing, batch=batch) as services:
        yield services


def split_list(value: str | None) -> tuple[str, ...]:
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


def principal_from(user: str, groups: str, roles: str, tenant: str) -> Principal:
    from ragseal.retrieval import Principal

    try:
        return Principal(sub=user, tenant=tenant, groups=split_list(groups),
                         roles=split_list(roles))
    except ValueError as exc:
        fail(str(exc))


def operator_of(tenant: str | None) -> Actor:
    """The principal of an operator command: ``cli:<OS user>`` (audit records)."""
    import getpass

    from ragseal.store import Actor

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return Actor(sub=f"cli:{user}", tenant=tenant or "*")


def write_audit(services: Services, action: str, principal: Principal | Actor | None,
                outcome: str = "ok", **fields: object) -> None:
    """One audit record (docs/AUDIT.md); an AuditError ends the command (exit 2)."""
    services.audit.record(action, principal=principal, outcome=outcome,
                          policy=services.policy.fingerprint, **fields)


def read_input(value: str) -> str:
    if value == "-":
        return sys.stdin.read()
    return value


def tenant_paths_or_exit(services: Services, tenant: str) -> TenantPaths:
    """The tenant's paths under its policy in force; exit 2 when it cannot be read."""
    from .._policies import PolicyUnavailable
    try:
        return services.for_tenant(tenant)
    except PolicyUnavailable as exc:
        fail(f"tenant {tenant!r}: {exc}")


def relabel_in_force(services: Services, tenants: tuple[str, ...], *, dry_run: bool = False,
                     reclassify: bool = False,
                     on_total: Callable[[int], None] | None = None,
                     on_chunks: Callable[[int], None] | None = None) -> RelabelReport:
    """Relabel each tenant (default: every tenant in the store) under its own policy
    in force, recording the version in each chunk's payload."""
    from ragseal.ingest import RelabelReport

    from .._policy_relabel import relabel_tenant

    if not tenants:
        tenants = tuple(sorted({str(h.payload.get("tenant", "")) for h in
                                services.store.scroll(None)}))
    total = RelabelReport(dry_run=dry_run)
    counted: list[int] = []
    for tenant in tenants:
        tenant_paths_or_exit(services, tenant)  # unreadable policy: exit 2
        total.add(relabel_tenant(services, tenant, reclassify=reclassify, dry_run=dry_run,
                                 on_total=counted.append, on_chunks=on_chunks))
        if on_total is not None:
            on_total(sum(counted))
    return total
