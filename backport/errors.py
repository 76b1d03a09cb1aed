"""Exception classes of backport (every stage) and the exit code each maps to in cli.py.

Library code raises these; only ``backport.cli`` turns them into messages and exit codes.
"""

from __future__ import annotations

from .model import SourceRef


class BackportError(Exception):
    """Base of every error the tool reports on purpose (exit 2 unless said otherwise)."""

    exit_code = 2

    def __init__(self, message: str, ref: SourceRef | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.ref = ref

    def __str__(self) -> str:
        where = f"{self.ref}: " if self.ref is not None else ""
        return f"{where}error: {self.message}"


class ParseError(BackportError):
    """Malformed input: mbox, mail, diff, rule file. Always carries a SourceRef when known."""


class UsageError(BackportError):
    """The command line asks for something impossible."""


class TreeError(BackportError):
    """The target or upstream tree is missing, unreadable or not what was asked."""


class UnsafePathError(BackportError):
    """A path in a patch escapes the tree, goes through a symlink, or is otherwise hostile."""


class ApplyError(BackportError):
    """--apply could not write the result (the tree was left as it was)."""

    exit_code = 1


class RuleError(ParseError):
    """A knowledge-base rule file fails its schema."""
