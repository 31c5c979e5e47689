"""The authenticated caller, as every access decision sees it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Principal"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: built only from a verified token (or the CLI's flags).

    ``groups`` and ``roles`` are sorted tuples so that equal principals
    compare and hash equal. ``amr`` holds the token's authentication
    methods (RFC 8176, e.g. ``mfa``): a policy may require ``mfa`` for the
    routes of administrative roles (docs/POLICY.md).
    """

    sub: str
    tenant: str = "default"
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    amr: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.sub:
            raise ValueError("a principal needs a non-empty sub")
        if not self.tenant:
            raise ValueError("a principal needs a non-empty tenant")
        object.__setattr__(self, "groups", tuple(sorted(set(self.groups))))
        object.__setattr__(self, "roles", tuple(sorted(set(self.roles))))
        object.__setattr__(self, "amr", tuple(sorted(set(self.amr))))
