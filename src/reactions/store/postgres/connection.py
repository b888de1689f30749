"""Connecting to PostgreSQL, and speaking to it in the store's own SQL.

`connect_pg` applies the schema's missing migrations (as DuckDB's `connect` does) and turns
a refused connection into `StoreUnavailable` with one line. `PgCursor` lets the store's
portable writes (kinds, tokens, decisions) run unchanged: they bind values with `?`, which
psycopg spells `%s`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from reactions.errors import DatabaseError, StoreUnavailable

CONNECT_TIMEOUT_SECONDS = 3


def connect_pg(url: str, *, migrate: bool = True) -> psycopg.Connection:
    """An autocommit connection (callers open transactions where they need them)."""
    from reactions.store.postgres.schema import apply_migrations

    try:
        con = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    except psycopg.OperationalError as exc:
        raise StoreUnavailable(f"cannot reach PostgreSQL at {_safe(url)}: {_first(exc)}") from None
    except psycopg.ProgrammingError as exc:  # a malformed URL
        raise DatabaseError(
            f"REACTIONS_DATABASE_URL is not a PostgreSQL URL: {_first(exc)}"
        ) from None
    if migrate:
        apply_migrations(con)
    return con


def unavailable(exc: BaseException) -> StoreUnavailable:
    """A lost or refused connection as the one error the surfaces translate (503)."""
    return StoreUnavailable(f"PostgreSQL is unavailable: {_first(exc)}")


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _safe(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


_QMARK = re.compile(r"\?(?=(?:[^']*'[^']*')*[^']*$)")  # a ? outside '…' literals


def to_pg(sql: str) -> str:
    """The store's SQL (values bound with ?) in psycopg's spelling (%s); a literal % doubled."""
    return _QMARK.sub("%s", sql.replace("%", "%%"))


class PgCursor:
    """The slice of DuckDB's cursor API the store's portable writes use."""

    def __init__(self, cur: psycopg.Cursor[Any]) -> None:
        self._cur = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        self._cur.execute(to_pg(sql), list(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> PgCursor:
        self._cur.executemany(to_pg(sql), [list(r) for r in rows])
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cur.fetchall() if self._cur.description else []


@contextmanager
def pg_transaction(con: psycopg.Connection) -> Iterator[PgCursor]:
    """A transaction on `con`, committed when the block ends, rolled back if it raises; a
    lost connection is `StoreUnavailable`."""
    try:
        with con.transaction():
            yield PgCursor(con.cursor())
    except psycopg.OperationalError as exc:
        raise unavailable(exc) from None
