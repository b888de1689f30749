"""This process's DuckDB file as a copy of PostgreSQL, kept up incrementally: what every page,
export and CLI read is served from.

**The logs, without skipping a row.** PostgreSQL hands out event ids at insert, not at commit,
so "ids above the last one seen" would miss a transaction that commits after a later one.
Each row carries its writing transaction (`tx`); a sync takes a snapshot and pulls the rows
whose transaction is at or above the last snapshot's horizon (`xmin`) and visible in this
one. A transaction still running at a snapshot is at or above its horizon, so the next sync
pulls it once committed. Rows pulled twice (the overlap) are kept once, by id.

**Derived tables follow the rows pulled**: the readers of new events get their
`current_reactions` rows and rollup cells recomputed from the log (a late row lands in order
by id); new views add their `view_counts` cells. Never a full rebuild per sync.

**Small tables** (articles, kinds, tokens, integrity flags and decisions, baselines, labels,
shared meta) are copied whole when their version in PostgreSQL changed; a change to flags or
decisions re-derives the rollup's `excluded` column, a moved publication time `view_counts`.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import psycopg

from reactions.clock import utc_now
from reactions.store.derived import (
    advance_readers,
    rebuild_reaction_counts,
    rebuild_view_counts,
    recompute_readers,
    set_current_reactions_through,
    view_counts_of,
)
from reactions.store.postgres.schema import VERSIONED_TABLES
from reactions.store.sql import transaction
from reactions.store.taps import EVENT_COLUMNS

# Replica-local keys of `meta` (everything else there comes from PostgreSQL).
EVENTS_HORIZON = "pg_events_horizon"
VIEWS_HORIZON = "pg_views_horizon"
VERSIONS = "pg_table_versions"
LOCAL_META = {EVENTS_HORIZON, VIEWS_HORIZON, VERSIONS, "current_reactions_through"}

EVENT_TYPES = (
    "BIGINT",
    "TIMESTAMP",
    "VARCHAR",
    "VARCHAR",
    "VARCHAR",
    "VARCHAR",
    "VARCHAR",
    "VARCHAR",
)
VIEW_COLUMNS = ("view_id", "viewed_at", "article_id", "reader_hash", "source", "network_hash")
VIEW_TYPES = ("BIGINT", "TIMESTAMP", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR")


@dataclass(frozen=True)
class Synced:
    events: int  # new events copied
    views: int  # new views copied
    tables: tuple[str, ...]  # small tables copied whole
    rollup_cells: int  # rows appended to reaction_counts (for its compaction)
    at: datetime  # when this sync read PostgreSQL (the clock's time)


def sync(duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection) -> Synced:
    """One sync; the caller holds the replica's write lock. Raises psycopg's errors."""
    at = utc_now()
    tables = _copy_changed_tables(duck, pg)
    events, cells = _pull_events(duck, pg)
    views = _pull_views(duck, pg)
    return Synced(events, views, tables, cells, at)


# --- small tables --------------------------------------------------------------------------


def _copy_changed_tables(
    duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection
) -> tuple[str, ...]:
    versions: dict[str, int] = dict(
        pg.execute("SELECT name, version FROM table_versions").fetchall()
    )
    seen = _versions_seen(duck)
    # A table PostgreSQL never wrote has no version row (0); so has one this replica copied
    # at 0. A replica that never synced copies everything once.
    changed = tuple(t for t in VERSIONED_TABLES if not seen or versions.get(t, 0) != seen.get(t, 0))
    if not changed:
        return ()
    published = _publication_times(duck)
    with transaction(duck):
        for table in changed:
            _copy_table(duck, pg, table)
        if {"integrity_flags", "flagged_events", "integrity_decisions"} & set(changed):
            rebuild_reaction_counts(duck)  # its `excluded` column follows flags and decisions
        if "articles" in changed and _publication_times(duck) != published:
            rebuild_view_counts(duck)  # hours since publication moved
        _set_meta(duck, VERSIONS, json.dumps(versions))
    return changed


def _versions_seen(duck: duckdb.DuckDBPyConnection) -> dict[str, int]:
    rows = duck.execute("SELECT value FROM meta WHERE key = ?", [VERSIONS]).fetchall()
    if not rows:
        return {}
    seen: dict[str, int] = json.loads(rows[0][0])
    return seen


def _publication_times(duck: duckdb.DuckDBPyConnection) -> dict[str, datetime]:
    return dict(duck.execute("SELECT article_id, published_at FROM articles").fetchall())


def _copy_table(duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection, table: str) -> None:
    """`table` replaced by PostgreSQL's rows (columns matched by name; `meta` keeps the
    replica's own keys)."""
    columns = [
        r[0]
        for r in duck.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
            [table],
        ).fetchall()
    ]
    with pg.cursor() as cur:
        cur.execute(f"SELECT {', '.join(columns)} FROM {table}")
        frame = pd.DataFrame(cur.fetchall(), columns=columns)
    if table == "meta":
        frame = frame[~frame["key"].isin(LOCAL_META)]
        duck.execute(
            f"DELETE FROM meta WHERE key NOT IN ({', '.join('?' * len(LOCAL_META))})",
            sorted(LOCAL_META),
        )
    else:
        duck.execute(f"DELETE FROM {table}")
    if frame.empty:
        return
    duck.register("_copied", frame)
    try:
        names = ", ".join(columns)
        duck.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _copied")
    finally:
        duck.unregister("_copied")


# --- the logs ------------------------------------------------------------------------------


def _pull_events(duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection) -> tuple[int, int]:
    """New events since the last snapshot: (how many, rollup cells appended)."""
    fetched = _fetched(duck, pg, "reaction_events", EVENT_COLUMNS, EVENTS_HORIZON)
    with fetched as (path, horizon), transaction(duck):
        newest = duck.execute("SELECT coalesce(max(event_id), 0) FROM reaction_events").fetchall()
        fresh = _keep_new(duck, path, "reaction_events", EVENT_COLUMNS, EVENT_TYPES, "event_id")
        cells = 0
        if fresh:
            before = _rollup_rows(duck)
            late = duck.execute(
                "SELECT min(event_id) <= ? FROM _pulled_new", [int(newest[0][0])]
            ).fetchall()[0][0]
            if late:  # a transaction committed after later ones: its readers from the log
                recompute_readers(duck, "SELECT DISTINCT reader_hash FROM _pulled_new", [])
            else:  # the usual case: from their standing rows and the new events alone
                advance_readers(duck, "_pulled_new")
            newest = duck.execute("SELECT max(event_id) FROM reaction_events").fetchall()
            set_current_reactions_through(duck, int(newest[0][0]))
            cells = _rollup_rows(duck) - before
        _set_meta(duck, EVENTS_HORIZON, horizon)
    return fresh, cells


def _pull_views(duck: duckdb.DuckDBPyConnection, pg: psycopg.Connection) -> int:
    fetched = _fetched(duck, pg, "view_events", VIEW_COLUMNS, VIEWS_HORIZON)
    with fetched as (path, horizon), transaction(duck):
        fresh = _keep_new(duck, path, "view_events", VIEW_COLUMNS, VIEW_TYPES, "view_id")
        if fresh:
            duck.execute(f"INSERT INTO view_counts {view_counts_of('_pulled_new')}")
        _set_meta(duck, VIEWS_HORIZON, horizon)
    return fresh


@contextmanager
def _fetched(
    duck: duckdb.DuckDBPyConnection,
    pg: psycopg.Connection,
    table: str,
    columns: tuple[str, ...],
    horizon_key: str,
) -> Iterator[tuple[Path | None, str]]:
    """`table`'s rows of transactions at or above the last horizon and visible in a new
    snapshot, as a CSV file (None: no rows), and the new horizon (the snapshot's xmin)."""
    rows = duck.execute("SELECT value FROM meta WHERE key = ?", [horizon_key]).fetchall()
    horizon = rows[0][0] if rows else "0"
    with tempfile.TemporaryDirectory(prefix="reactions-sync-") as folder:
        path = Path(folder) / "rows.csv"
        with pg.transaction():
            # One snapshot for the horizon and the rows: REPEATABLE READ pins it.
            pg.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            found = pg.execute("SELECT pg_current_snapshot()::text").fetchone()
            assert found is not None
            snapshot = str(found[0])
            with (
                pg.cursor().copy(
                    f"COPY (SELECT {', '.join(columns)} FROM {table} "
                    "WHERE tx >= %s::xid8 AND pg_visible_in_snapshot(tx, %s::pg_snapshot)) "
                    "TO STDOUT WITH (FORMAT csv)",
                    [horizon, snapshot],
                ) as copy,
                path.open("wb") as out,
            ):
                for block in copy:
                    out.write(block)
        yield (path if path.stat().st_size else None), snapshot.split(":")[0]


def _keep_new(
    duck: duckdb.DuckDBPyConnection,
    path: Path | None,
    table: str,
    columns: tuple[str, ...],
    types: tuple[str, ...],
    key: str,
) -> int:
    """Append the rows of `path` not already in `table` (by `key`); they are also in the
    temporary `_pulled_new`. Returns how many. The caller owns the transaction."""
    duck.execute(f"CREATE OR REPLACE TEMP TABLE _pulled_new AS SELECT * FROM {table} LIMIT 0")
    if path is None:
        return 0
    spec = ", ".join(f"'{c}': '{t}'" for c, t in zip(columns, types, strict=True))
    names = ", ".join(columns)
    pulled = f"read_csv(?, header = false, columns = {{{spec}}}, allow_quoted_nulls = false)"
    low = duck.execute(f"SELECT min({key}) FROM {pulled}", [str(path)]).fetchall()[0][0]
    duck.execute(
        f"CREATE OR REPLACE TEMP TABLE _pulled_new AS SELECT {names} FROM {pulled} "
        f"ANTI JOIN (SELECT {key} FROM {table} WHERE {key} >= ?) t USING ({key})",
        [str(path), low],
    )
    duck.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _pulled_new")
    return int(duck.execute("SELECT count(*) FROM _pulled_new").fetchall()[0][0])


def _rollup_rows(duck: duckdb.DuckDBPyConnection) -> int:
    return int(duck.execute("SELECT count(*) FROM reaction_counts").fetchall()[0][0])


def _set_meta(duck: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    duck.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])
