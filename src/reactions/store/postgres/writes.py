"""Writes whose embedded form is DuckDB-specific (Arrow inserts, appenders, the rollup's cells),
in PostgreSQL: articles, integrity flags, and the bulk loads of `reactions demo`. Bulk rows
travel as CSV through COPY (made by DuckDB, which writes CSV fast), never row by row. After
each, the ClusterStore syncs its replica, whose derived tables follow.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import psycopg

from reactions.clock import utc_now
from reactions.store.postgres.connection import unavailable
from reactions.store.taps import EVENT_COLUMNS

SCANNED_THROUGH = "integrity_scanned_through"  # as store.integrity_flags: shared by servers
_BLOCK = 1 << 20


class PgRecord:
    """The ClusterStore's connection for writes other than taps and views (one at a time)."""

    def __init__(self, con: psycopg.Connection) -> None:
        self.con = con
        self.lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor[Any]]:
        with self.lock:
            try:
                with self.con.transaction(), self.con.cursor() as cur:
                    yield cur
            except psycopg.OperationalError as exc:
                raise unavailable(exc) from None

    # --- articles ------------------------------------------------------------------------

    def upsert_articles(self, articles: pd.DataFrame) -> tuple[int, int]:
        """(added, updated), by article_id."""
        columns = list(articles.columns)
        rows = [
            [_plain(v) for v in row]
            for row in articles.astype(object).where(articles.notna(), None).itertuples(index=False)
        ]
        names = ", ".join(columns)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "article_id")
        with self.transaction() as cur:
            cur.execute(
                "SELECT count(*) FROM articles WHERE article_id = ANY(%s)",
                [list(articles["article_id"])],
            )
            found = cur.fetchone()
            existing = int(found[0]) if found else 0
            cur.executemany(
                f"INSERT INTO articles ({names}) VALUES ({', '.join(['%s'] * len(columns))}) "
                f"ON CONFLICT (article_id) DO "
                + (f"UPDATE SET {updates}" if updates else "NOTHING"),
                rows,
            )
        return len(articles) - existing, existing

    # --- integrity -----------------------------------------------------------------------

    def replace_flags(
        self,
        flags: pd.DataFrame,
        flagged: pd.DataFrame,
        baselines: pd.DataFrame | None,
        through: int | None,
    ) -> None:
        with self.transaction() as cur:
            cur.execute("DELETE FROM flagged_events")
            cur.execute("DELETE FROM integrity_flags")
            _insert(cur, "integrity_flags", flags)
            _insert(cur, "flagged_events", flagged)
            if baselines is not None:
                cur.execute("DELETE FROM integrity_baselines")
                _insert(cur, "integrity_baselines", baselines)
            if through is not None:
                _set_meta(cur, SCANNED_THROUGH, str(through))

    def add_flags(self, flags: pd.DataFrame, flagged: pd.DataFrame, through: int) -> None:
        with self.transaction() as cur:
            cur.execute(
                "DELETE FROM integrity_flags WHERE flag_id = ANY(%s)", [list(flags["flag_id"])]
            )
            _insert(cur, "integrity_flags", flags)
            _insert(cur, "flagged_events", flagged)
            _set_meta(cur, SCANNED_THROUGH, str(through))

    # --- bulk ----------------------------------------------------------------------------

    def append_events(self, events: pd.DataFrame, labels: pd.Series | None) -> range:
        """Append a consistent log (no remove without its add), ids after the newest, and
        rebuild every reader's current reactions and every article's counts from the log.
        One transaction; the table is locked so no tap interleaves its ids."""
        with self.transaction() as cur:
            cur.execute("LOCK TABLE reaction_events IN EXCLUSIVE MODE")
            cur.execute("SELECT coalesce(max(event_id), 0) + 1 FROM reaction_events")
            found = cur.fetchone()
            start = int(found[0]) if found else 1
            frame = events.reset_index(drop=True).assign(event_id=range(start, start + len(events)))
            _copy_frame(cur, "reaction_events", frame[list(EVENT_COLUMNS)])
            if labels is not None:
                marked = pd.DataFrame({"event_id": frame["event_id"], "label": labels.to_numpy()})
                _copy_frame(cur, "synthetic_labels", marked.dropna())
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('reaction_events', 'event_id'), "
                "(SELECT max(event_id) FROM reaction_events))"
            )
            rebuild_current(cur)
        return range(start, start + len(events))

    def append_views(
        self, duck: duckdb.DuckDBPyConnection, queries: Sequence[tuple[str, Sequence[object]]]
    ) -> int:
        """The rows each DuckDB query selects (viewed_at, article_id, reader_hash, source:
        the demo's views, made from the replica's events), copied in; a reader's second view
        of an article on a day is left out, as the unique key says."""
        added = 0
        with self.transaction() as cur:
            cur.execute(
                "CREATE TEMP TABLE incoming_views (viewed_at timestamp, article_id text, "
                "reader_hash text, source text) ON COMMIT DROP"
            )
            for select_sql, params in queries:
                _copy_query(cur, "incoming_views", duck, select_sql, params)
            cur.execute(
                "INSERT INTO view_events (viewed_at, article_id, reader_hash, source, viewed_on) "
                "SELECT viewed_at, article_id, reader_hash, source, viewed_at::date "
                "FROM incoming_views ON CONFLICT (reader_hash, article_id, viewed_on) DO NOTHING"
            )
            added = cur.rowcount
        return added


def rebuild_current(cur: psycopg.Cursor[Any]) -> None:
    """Every reader's current reactions and every article's live counts, from the log."""
    cur.execute("TRUNCATE current_reactions, article_counts")
    cur.execute(
        """
        INSERT INTO current_reactions
        SELECT reader_hash, article_id, kind_id, event_id, occurred_at FROM (
            SELECT DISTINCT ON (reader_hash, article_id, kind_id)
                   reader_hash, article_id, kind_id, event_id, occurred_at, action
            FROM reaction_events ORDER BY reader_hash, article_id, kind_id, event_id DESC
        ) latest WHERE action = 'add'
        """
    )
    cur.execute(
        "INSERT INTO article_counts SELECT article_id, kind_id, count(*) FROM current_reactions "
        "GROUP BY 1, 2"
    )


def _plain(value: object) -> object:
    """pandas' values as psycopg adapts them: timestamps as datetimes, arrays as lists."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _insert(cur: psycopg.Cursor[Any], table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    if table == "integrity_flags" and "scanned_at" not in frame.columns:
        frame = frame.assign(scanned_at=utc_now())
    frame = frame[[c for c in frame.columns if c != "threshold" or table != "integrity_flags"]]
    _copy_frame(cur, table, frame)


def _copy_frame(cur: psycopg.Cursor[Any], table: str, frame: pd.DataFrame) -> None:
    """`frame`'s rows into `table` (columns by name) through COPY, as CSV made by DuckDB."""
    duck = duckdb.connect()
    try:
        duck.register("frame", frame)
        _copy_query(cur, table, duck, "SELECT * FROM frame", [], columns=list(frame.columns))
    finally:
        duck.close()


def _copy_query(
    cur: psycopg.Cursor[Any],
    table: str,
    duck: duckdb.DuckDBPyConnection,
    select_sql: str,
    params: Sequence[object],
    *,
    columns: list[str] | None = None,
) -> None:
    """The rows of a DuckDB query into `table` through COPY (CSV in a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="reactions-copy-") as folder:
        path = Path(folder) / "rows.csv"
        quoted = str(path).replace("'", "''")  # COPY's target cannot be a parameter
        duck.execute(f"COPY ({select_sql}) TO '{quoted}' (FORMAT csv, HEADER false)", list(params))
        names = f" ({', '.join(columns)})" if columns else ""
        with (
            cur.copy(f"COPY {table}{names} FROM STDIN WITH (FORMAT csv)") as copy,
            path.open("rb") as rows,
        ):
            while block := rows.read(_BLOCK):
                copy.write(block)


def _set_meta(cur: psycopg.Cursor[Any], key: str, value: str) -> None:
    cur.execute(
        "INSERT INTO meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
