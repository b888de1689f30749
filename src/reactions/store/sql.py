"""Small SQL helpers every part of the store and the read path share: one value from a query,
a transaction, an Arrow insert, and the rollups' time grain."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa


def scalar(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> Any:
    """The single value of a one-row, one-column query.

    Fetches the whole result: DuckDB 2.0 refuses further work on a cursor whose last result
    was only partly fetched (as `fetchone()` leaves it).
    """
    rows = cur.execute(sql, list(params)).fetchall()
    return rows[0][0] if rows else None


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@contextmanager
def transaction(cur: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT on `cur`, ROLLBACK if the block raises: all of it lands or none."""
    cur.execute("BEGIN TRANSACTION")
    try:
        yield cur
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    cur.execute("COMMIT")


def insert_arrow(cur: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    """INSERT every row of an Arrow table, columns matched by name. `table` is one of ours."""
    cur.register("_incoming", data)
    try:
        columns = ", ".join(f'"{name}"' for name in data.column_names)
        cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming")
    finally:
        cur.unregister("_incoming")


# The rollups' time grain. Every timezone's offset is a multiple of 15 minutes, so local
# midnights, hours, days and weeks all fall on quarter-hour boundaries, and a rollup by
# quarter hour (UTC) answers any of the dashboard's ranges and buckets exactly.
QUARTER_HOUR_SQL = "time_bucket(INTERVAL 15 MINUTES, {column})"


def quarter_hour(at: datetime) -> datetime:
    """The start of `at`'s quarter hour: QUARTER_HOUR_SQL in Python."""
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)
