"""Typed errors. Every error the library raises on purpose is a :class:`LineageError`.

The CLI turns them into one line and exit code 1; the web app into an HTTP 4xx
with the same message.
"""
from __future__ import annotations

from dataclasses import dataclass


class LineageError(Exception):
    """Base class of every error the library raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with some input, located as precisely as we can.

    ``where`` names the file and the line or record (``"council.json: nodes[3] (id 'x')"``),
    ``field`` the attribute, ``message`` what was expected.
    """

    where: str
    message: str
    field: str | None = None

    def __str__(self) -> str:
        if self.field:
            return f"{self.where}, field '{self.field}': {self.message}"
        return f"{self.where}: {self.message}"


class ValidationError(LineageError):
    """Input that breaks the model. Holds every :class:`Problem` found (at most a cap)."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        first = str(self.problems[0]) if self.problems else "invalid input"
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more != 1 else ''})" if more > 0 else ""
        super().__init__(first + suffix)


class NotFoundError(LineageError):
    """A node or edge that does not exist."""


class ConflictError(LineageError):
    """An update based on a stale version: someone else changed it first."""

    def __init__(self, message: str, *, expected: int | None = None, actual: int | None = None):
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class SelectorError(LineageError):
    """A selector that does not parse; the message points at the offending part."""


class StoreError(LineageError):
    """The database cannot be used (wrong schema version, not a lineage database)."""


class StorageError(StoreError):
    """The disk or the database file refused a write; nothing was written. The subclasses name why,
    in words an operator can act on (see :func:`lineage.store.storage_error`)."""


class DiskFullError(StorageError):
    """The disk holding the database is full."""


class ReadOnlyError(StorageError):
    """The database (or its folder) is read-only: it can be read and exported, not written."""


class BusyError(StorageError):
    """Another process held the database's write lock for longer than the store waits."""


class ForbiddenError(LineageError):
    """The policy (``lineage.policy.decide``) does not allow the actor to do this; the message says why.

    ``sign_in`` is true when the refusal is only because nobody is signed in."""

    def __init__(self, message: str, *, sign_in: bool = False):
        super().__init__(message)
        self.sign_in = sign_in


class RateLimitError(LineageError):
    """Too many actions of one kind from one account in a window; ``retry_after`` in seconds."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
