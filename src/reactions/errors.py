"""The small exception family every surface translates for people.

The CLI prints `str(error)` on one line and exits non-zero; the API maps each class to a
status code; the UI shows the message. Messages therefore say what was wrong and what to do,
never how the code is built.
"""

from __future__ import annotations


class ReactionsError(Exception):
    """Base class: a problem a user can act on."""


class InvalidInput(ReactionsError):
    """A value that can never be valid (empty, too long, wrong shape). API: 422."""


class UnknownArticle(ReactionsError):
    """The article id is well formed but no such article exists. API: 404."""


class UnknownKind(ReactionsError):
    """The reaction kind does not exist or is disabled. API: 422."""


class DatabaseLocked(ReactionsError):
    """Another process holds the DuckDB file (DuckDB allows one writer process per file)."""


class DatabaseError(ReactionsError):
    """The database file cannot be opened or is not a Reactions database."""


class ImportFileError(ReactionsError):
    """An import file cannot be read as a whole; nothing from it was written."""


class ExportWriteError(ReactionsError):
    """An export's file or stream cannot be written (a path that cannot be made, a full disk,
    a closed pipe). Nothing is left behind."""


class StoreUnavailable(ReactionsError):
    """The system of record (PostgreSQL) cannot be reached; nothing was written. API: 503
    with Retry-After."""


class RateLimited(ReactionsError):
    """Over a shared per-minute budget (PostgreSQL mode: counted across servers). API: 429."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
