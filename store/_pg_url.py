"""``RAGSEAL_DATABASE_URL``: what a control-plane URL may be, and its printable form.

Kept apart from ``store/_pg`` so that settings can be checked without the
PostgreSQL driver installed. The URL holds a password: nothing here returns
or raises it.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qs, urlsplit, urlunsplit

__all__ = ["check_database_url", "redact_url"]

_TLS = frozenset({"require", "verify-ca", "verify-full"})


def _loopback(host: str) -> bool:
    if host in ("", "localhost") or host.startswith("/"):
        return True  # no host: a Unix socket
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_database_url(url: str) -> None:
    """Refuse a URL that is not PostgreSQL's, or would send a password in clear.

    Raises:
        ValueError: names the rule broken, never the URL.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
        query = parse_qs(parts.query)
    except ValueError:
        raise ValueError("must be a postgresql:// URL") from None
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError("must be a postgresql:// URL")
    hosts = [parts.hostname or ""] + query.get("host", [])
    sslmode = (query.get("sslmode") or [""])[-1]
    secret = parts.password is not None or "password" in query
    if secret and sslmode not in _TLS and not all(_loopback(h) for h in hosts):
        raise ValueError("would send the database password in clear: add "
                         "?sslmode=verify-full (or require) unless the server is on loopback")


def redact_url(url: str) -> str:
    """``url`` with its password and query string replaced by ``***``."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "postgresql://***"
    user = parts.username or ""
    auth = f"{user}:***@" if parts.password is not None else (f"{user}@" if user else "")
    return urlunsplit((parts.scheme, f"{auth}{host}{port}", parts.path,
                       "***" if parts.query else "", ""))
