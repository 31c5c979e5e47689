"""The shared control plane on PostgreSQL (``RAGSEAL_DATABASE_URL``; docs/CONTROL-PLANE.md).

Each part sits behind the interface its embedded counterpart already has,
so the rest of ragseal does not know which one it uses:

=============================  ==========================================
embedded (keyring folder)      shared (this package)
=============================  ==========================================
``LocalKeyring``               :class:`PgKeyring`
``SqlitePolicyStore``          :class:`PgPolicyStore`
``TenantFreezes``              :class:`PgTenantFreezes`
``AuditLog`` / verify / read   :class:`PgAuditLog`, :func:`verify_pg_audit`,
                               :func:`read_pg_audit`
``RateLimiter`` (memory)       :class:`PgRateLimiter`
``MemoryProbeCounters``        :class:`PgProbeCounters`
=============================  ==========================================

A public subpackage of :mod:`ragseal.store`, imported only where
``RAGSEAL_DATABASE_URL`` is set: it needs the ``postgres`` extra (psycopg 3
and psycopg_pool), which the embedded default does not install.

Errors::

    ControlPlaneUnavailable   the database cannot be reached or refused a statement
                              (the key provider raises KeyringError, the policy
                              store PolicyStoreError, the audit log AuditError)
"""

from ._audit import PgAuditLog, read_pg_audit, verify_pg_audit
from ._db import ControlPlaneUnavailable, Database, close_all, database, redact_url
from ._freeze import PgTenantFreezes
from ._keyring import PgKeyring
from ._limits import PgProbeCounters, PgRateLimiter
from ._policy import PgPolicyStore

__all__ = [
    "ControlPlaneUnavailable",
    "Database",
    "PgAuditLog",
    "PgKeyring",
    "PgPolicyStore",
    "PgProbeCounters",
    "PgRateLimiter",
    "PgTenantFreezes",
    "close_all",
    "database",
    "read_pg_audit",
    "redact_url",
    "verify_pg_audit",
]
