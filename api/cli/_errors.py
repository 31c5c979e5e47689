"""The CLI's one mapping of errors to an exit status and one line on stderr.

Commands raise (or let through) errors of the tree (:class:`~ragseal.RagsealError`,
drawn in ``ragseal/_errors.py``); :func:`exit_line` turns each into the
status and the line that :func:`~ragseal.api.cli.main` prints, and nothing
else in the CLI maps errors. Exit status 0 success, 1 a failed check, 2 bad
usage, bad input or an unusable component (CONTRACT.md).

Errors::

    UsageError      bad usage found before any work (exit 2)
    CommandFailed   a command's own exit status and line (1: a failed check)
"""

from __future__ import annotations

from typing import NoReturn

from ragseal import InvalidInputError, RagsealError

__all__ = ["CommandFailed", "UsageError", "exit_line", "fail"]


class UsageError(InvalidInputError):
    """A usage error found before any work: the CLI prints it and exits 2."""


class CommandFailed(RagsealError):
    """A command ends with ``code`` and ``message`` (no line when the message is empty)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def fail(message: str, code: int = 2) -> NoReturn:
    """End the command: ``ragseal: <message>`` on stderr, exit ``code`` (2: bad input)."""
    raise CommandFailed(code, message)


def _prefixes() -> tuple[tuple[type[RagsealError], str], ...]:
    # Imported when an error is mapped, not when the CLI starts: these pull in
    # the packages, and ``ragseal --help`` loads none of them.
    from ragseal.classification import PolicyError

    from .._settings import ConfigError

    return ((PolicyError, "policy: "), (ConfigError, "configuration: "))


def exit_line(exc: RagsealError) -> tuple[int, str]:
    """The exit status and the stderr line (without ``ragseal: ``; may be empty) of ``exc``.

    Every message of the tree is written for the user and holds no document
    text, query, token or key, so it is shown as is, after the prefix that
    names its component (``policy:``, ``configuration:``). The status is 2
    unless the error says otherwise (``exit_code = 1``: a failed check, such
    as nothing quarantined to release).
    """
    if isinstance(exc, CommandFailed):
        return exc.code, exc.message
    code = int(getattr(exc, "exit_code", 2))
    for kind, prefix in _prefixes():
        if isinstance(exc, kind):
            return code, f"{prefix}{exc}"
    return code, str(exc)
