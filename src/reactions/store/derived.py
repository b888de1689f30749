"""The derived tables: each rebuilt from the append-only event logs, kept up by the writers,
and checkable against a recount (`reactions rebuild --check`).

- `current_reactions`: each reader's standing reactions;
- `reaction_counts`: the standing reactions per article, kind, quarter hour and exclusion;
- `view_counts`: views per article, quarter hour and hour since publication.
"""

from __future__ import annotations

import duckdb

from reactions.store.sql import QUARTER_HOUR_SQL, scalar, transaction

CURRENT_REACTIONS_DDL = """
    CREATE TABLE current_reactions (
        article_id  VARCHAR NOT NULL,
        reader_hash VARCHAR NOT NULL,
        kind_id     VARCHAR NOT NULL,
        event_id    BIGINT NOT NULL,      -- the add event that made it current
        added_at    TIMESTAMP NOT NULL,   -- … and its time (UTC): dashboards filter on it
        reader_no   BIGINT NOT NULL       -- READER_NO: one number per reader, on all its rows
    )
"""

# A reader's number: the event id of its earliest standing reaction. Event ids are unique and
# each is one reader's, so numbers never collide; every writer rewrites all of a reader's rows
# at once, so its rows always share one. Reacting readers then count exactly as set bits —
# bit_count(bitstring_agg(reader_no, 1, max)) — with no hash table of readers, as
# count(DISTINCT reader_hash) needs.
READER_NO = "min(event_id) OVER (PARTITION BY reader_hash)"


# Standing reactions per article, kind, quarter hour (UTC) of their adding and whether
# integrity excludes them: what every count on the dashboard reads (rollup.py), an order of
# magnitude fewer rows than current_reactions. A quarter hour for the reasons QUARTER_HOUR_SQL
# gives; `excluded` so that leaving flagged events out is a condition on the rollup, not a
# scan of every standing reaction. Derived from
# current_reactions and excluded_events, and written by whatever writes them: rebuilt with
# current_reactions and after every integrity scan or decision, and given the net change of
# the rows each settle or catch-up rewrites. A cell may have several rows, some negative:
# readers sum them.
REACTION_COUNTS_DDL = """
    CREATE TABLE reaction_counts (
        article_id  VARCHAR NOT NULL,
        kind_id     VARCHAR NOT NULL,
        bucket      TIMESTAMP NOT NULL,   -- start of the quarter hour (UTC) of added_at
        excluded    BOOLEAN NOT NULL,     -- flagged by integrity and not dismissed
        reactions   BIGINT NOT NULL
    )
"""
# The events integrity leaves out — flagged, and no editor dismissed the flag (the view
# `excluded_events`, schema.py): the one definition every clause about them uses.
EXCLUDED_EVENTS = "(SELECT event_id FROM excluded_events)"


def is_excluded(column: str) -> str:
    """SQL: the event id in `column` (our constant) is one integrity leaves out."""
    return f"{column} IN {EXCLUDED_EVENTS}"


def is_kept(column: str) -> str:
    """SQL: the event id in `column` (our constant) counts in cleaned figures."""
    return f"{column} NOT IN {EXCLUDED_EVENTS}"


EXCLUDED_EVENT = is_excluded("event_id")


def reaction_counts_of(where: str = "TRUE", sign: int = 1) -> str:
    """SELECT of reaction_counts rows from the current_reactions rows `where` picks (our own
    SQL, bound values only), each counted `sign` (±1) times."""
    assert sign in (1, -1)
    bucket = QUARTER_HOUR_SQL.format(column="added_at")
    return (
        f"SELECT article_id, kind_id, {bucket} AS bucket, {EXCLUDED_EVENT} AS excluded, "
        f"{sign} * count(*) AS reactions FROM current_reactions WHERE {where} GROUP BY ALL"
    )


def rebuild_reaction_counts(cur: duckdb.DuckDBPyConnection) -> None:
    """Recompute `reaction_counts` from `current_reactions`."""
    _recreate(cur, "reaction_counts", REACTION_COUNTS_DDL, reaction_counts_of())


def _recreate(cur: duckdb.DuckDBPyConnection, table: str, ddl: str, rows: str) -> None:
    """A derived table dropped and created anew with `rows` (our SELECT), as
    `rebuild_current_reactions` explains."""
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(ddl)
    cur.execute(f"INSERT INTO {table} {rows}")


def rebuild_current_reactions(cur: duckdb.DuckDBPyConnection) -> None:
    """Recompute `current_reactions` from the event log (the caller owns the transaction,
    and calls `index_current_reactions` after committing).

    A (reader, article, kind) is current when its latest event is an add. Most keys never
    see a remove, so: their adds as they are, plus a group-by over only the keys that do
    (instead of grouping the whole log).

    The table is dropped and created anew rather than emptied: DuckDB writes a large insert
    into a new table straight to storage, while deleting and re-inserting every row goes
    through the WAL and took many times longer to commit.
    """
    cur.execute("DROP TABLE IF EXISTS current_reactions")
    cur.execute(CURRENT_REACTIONS_DDL)
    cur.execute(
        """
        INSERT INTO current_reactions
        WITH removed AS (
            SELECT DISTINCT article_id, reader_hash, kind_id
            FROM reaction_events WHERE action = 'remove'
        ),
        standing AS (
            SELECT e.article_id, e.reader_hash, e.kind_id, e.event_id, e.occurred_at AS added_at
            FROM reaction_events e
            ANTI JOIN removed r
                ON e.article_id = r.article_id AND e.reader_hash = r.reader_hash
               AND e.kind_id = r.kind_id
            WHERE e.action = 'add'
            UNION ALL
            SELECT article_id, reader_hash, kind_id, max(event_id), arg_max(occurred_at, event_id)
            FROM reaction_events SEMI JOIN removed USING (article_id, reader_hash, kind_id)
            GROUP BY ALL
            HAVING arg_max(action, event_id) = 'add'
        )
        -- READER_NO as a join with each reader's least event id, cheaper than the window.
        -- In event order, which is time order: the join would leave them in
        -- no order, and every date range would read the whole table, not its row groups.
        SELECT s.*, n.reader_no FROM standing s
        JOIN (SELECT reader_hash, min(event_id) AS reader_no FROM standing GROUP BY 1) n
            USING (reader_hash)
        ORDER BY s.event_id
        """
    )
    set_current_reactions_through(
        cur, int(scalar(cur, "SELECT coalesce(max(event_id), 0) FROM reaction_events"))
    )
    # …and its rollup, once the schema has one: migrations before 011 rebuild this table too.
    if scalar(cur, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'reaction_counts'"):
        rebuild_reaction_counts(cur)


THROUGH_KEY = "current_reactions_through"


def set_current_reactions_through(cur: duckdb.DuckDBPyConnection, event_id: int) -> None:
    """Record that `current_reactions` reflects every event up to `event_id`."""
    cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [THROUGH_KEY, str(event_id)])


def catch_up_current_reactions(cur: duckdb.DuckDBPyConnection, *, through: int) -> int:
    """Bring `current_reactions` up to event `through` if it trails (a process that died
    before settling): every reader with a later event gets their rows recomputed from the
    whole log. Returns how many events it caught up on (0, nearly always, at one query)."""
    settled = cur.execute("SELECT value::BIGINT FROM meta WHERE key = ?", [THROUGH_KEY]).fetchall()
    after = int(settled[0][0]) if settled else 0
    if after >= through:
        return 0
    with transaction(cur):
        recompute_readers(
            cur, "SELECT DISTINCT reader_hash FROM reaction_events WHERE event_id > ?", [after]
        )
        set_current_reactions_through(cur, through)
    return through - after


def recompute_readers(
    cur: duckdb.DuckDBPyConnection, readers_sql: str, params: list[object]
) -> None:
    """Recompute, from the whole log, the `current_reactions` rows of the readers
    `readers_sql` selects (our SQL, bound values), with the rollup's net change: their old
    cells out, their new ones in. The caller owns the transaction."""
    cur.execute(f"CREATE TEMP TABLE caught_up AS {readers_sql}", params)
    try:
        rewritten = "reader_hash IN (FROM caught_up)"
        cur.execute(f"INSERT INTO reaction_counts {reaction_counts_of(rewritten, -1)}")
        cur.execute(f"DELETE FROM current_reactions WHERE {rewritten}")
        cur.execute(
            f"""
            INSERT INTO current_reactions
            WITH standing AS (
                SELECT article_id, reader_hash, kind_id, max(event_id) AS event_id,
                       arg_max(occurred_at, event_id) AS added_at
                FROM reaction_events SEMI JOIN caught_up USING (reader_hash)
                GROUP BY ALL HAVING arg_max(action, event_id) = 'add'
            )
            SELECT *, {READER_NO} FROM standing
            """
        )
        cur.execute(f"INSERT INTO reaction_counts {reaction_counts_of(rewritten)}")
    finally:
        cur.execute("DROP TABLE IF EXISTS caught_up")


def advance_readers(cur: duckdb.DuckDBPyConnection, new_events: str) -> None:
    """`recompute_readers` for the readers of `new_events` (our temporary table of events
    appended after every other), from their standing rows and those events alone — not the
    whole log: a key's latest event decides it, and every new one is later than what the
    key's standing row records. The caller owns the transaction."""
    cur.execute(f"CREATE TEMP TABLE caught_up AS SELECT DISTINCT reader_hash FROM {new_events}")
    try:
        rewritten = "reader_hash IN (FROM caught_up)"
        cur.execute(f"INSERT INTO reaction_counts {reaction_counts_of(rewritten, -1)}")
        cur.execute(
            "CREATE TEMP TABLE prior AS SELECT article_id, reader_hash, kind_id, event_id, "
            f"added_at FROM current_reactions WHERE {rewritten}"
        )
        cur.execute(f"DELETE FROM current_reactions WHERE {rewritten}")
        cur.execute(
            f"""
            INSERT INTO current_reactions
            WITH latest AS (
                SELECT article_id, reader_hash, kind_id, event_id, added_at AS occurred_at,
                       'add' AS action
                FROM prior
                UNION ALL
                SELECT article_id, reader_hash, kind_id, event_id, occurred_at, action
                FROM {new_events}
            ),
            standing AS (
                SELECT article_id, reader_hash, kind_id, max(event_id) AS event_id,
                       arg_max(occurred_at, event_id) AS added_at
                FROM latest GROUP BY ALL HAVING arg_max(action, event_id) = 'add'
            )
            SELECT *, {READER_NO} FROM standing
            """
        )
        cur.execute(f"INSERT INTO reaction_counts {reaction_counts_of(rewritten)}")
    finally:
        cur.execute("DROP TABLE IF EXISTS caught_up")
        cur.execute("DROP TABLE IF EXISTS prior")


# Views per article, quarter hour (UTC) and hour since the article's publication: what every
# page reads instead of the view log. The hour since publication because the article page
# plots by it, and a quarter hour straddles at most two of them. Written in the same
# transaction as the views it counts; a cell may have several rows (one per write): readers
# sum them. An article whose publication time changes has its cells rebuilt
# (Store.upsert_articles).
VIEW_COUNTS_DDL = """
    CREATE TABLE view_counts (
        article_id          VARCHAR NOT NULL,
        bucket              TIMESTAMP NOT NULL,   -- start of the quarter hour (UTC)
        hours_since_publish BIGINT NOT NULL,      -- whole hours after published_at
        views               BIGINT NOT NULL
    )
"""


def view_counts_of(source: str) -> str:
    """SELECT of view_counts rows from the view rows of `source` (a table name, ours)."""
    bucket = QUARTER_HOUR_SQL.format(column="v.viewed_at")
    return (
        f"SELECT v.article_id, {bucket} AS bucket, "
        "floor(epoch(v.viewed_at - a.published_at) / 3600)::BIGINT AS hours_since_publish, "
        f"count(*) AS views FROM {source} v JOIN articles a USING (article_id) GROUP BY ALL"
    )


def rebuild_view_counts(cur: duckdb.DuckDBPyConnection) -> None:
    """Recompute `view_counts` from the view log."""
    _recreate(cur, "view_counts", VIEW_COUNTS_DDL, view_counts_of("view_events"))


# The rollups writers append to: their DDL, the columns naming a cell, and the summed column.
ROLLUPS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "reaction_counts": (
        REACTION_COUNTS_DDL,
        ("article_id", "kind_id", "bucket", "excluded"),
        "reactions",
    ),
    "view_counts": (VIEW_COUNTS_DDL, ("article_id", "bucket", "hours_since_publish"), "views"),
}


def compact_rollup(cur: duckdb.DuckDBPyConnection, table: str) -> int:
    """Sum a rollup's rows into one per cell, leaving out cells that sum to 0. Live writes
    append a row for each cell they change, so without this a rollup would grow by a row per
    write. Made as a new table, as rebuilds are (deleting and inserting went through the
    WAL); the caller owns the transaction and remakes its appenders. Returns the rows left."""
    ddl, cell, value = ROLLUPS[table]
    cur.execute(f"ALTER TABLE {table} RENAME TO {table}_uncompacted")
    cur.execute(ddl)
    cur.execute(
        f"INSERT INTO {table} SELECT {', '.join(cell)}, sum({value}) "
        f"FROM {table}_uncompacted GROUP BY ALL HAVING sum({value}) <> 0"
    )
    cur.execute(f"DROP TABLE {table}_uncompacted")
    return int(scalar(cur, f"SELECT count(*) FROM {table}"))


def index_current_reactions(cur: duckdb.DuckDBPyConnection) -> None:
    """Taps look readers up by hash, which without this index scans the table. Built outside
    the rebuild's transaction: inside it, the commit took several times as long as the index
    takes on its own."""
    cur.execute(
        "CREATE INDEX IF NOT EXISTS current_reactions_reader ON current_reactions (reader_hash)"
    )


# --- checks: each derived table against a recount from the logs (`rebuild --check`) ----


def derived_state_mismatches(cur: duckdb.DuckDBPyConnection) -> int:
    """How many (article, reader, kind) rows differ between `current_reactions` and a fresh
    recomputation from the event log. 0 means the derived table is exactly the events' truth."""
    return _rows_on_one_side(
        cur,
        truth=f"""
            WITH standing AS (
                SELECT article_id, reader_hash, kind_id, max(event_id) AS event_id,
                       arg_max(occurred_at, event_id) AS added_at
                FROM reaction_events GROUP BY ALL HAVING arg_max(action, event_id) = 'add'
            )
            SELECT *, {READER_NO} AS reader_no FROM standing""",
        derived="FROM current_reactions",
    )


def reaction_count_mismatches(cur: duckdb.DuckDBPyConnection) -> int:
    """How many cells (article, kind, quarter hour, excluded) of `reaction_counts` differ from
    a recount of `current_reactions` and `excluded_events`. 0 means the rollup is exactly the
    standing reactions."""
    return _rows_on_one_side(
        cur,
        truth=reaction_counts_of(),
        derived="""
            SELECT article_id, kind_id, bucket, excluded, sum(reactions) AS reactions
            FROM reaction_counts GROUP BY ALL HAVING sum(reactions) <> 0""",
    )


def view_count_mismatches(cur: duckdb.DuckDBPyConnection) -> int:
    """How many cells (article, quarter hour, hour since publication) of `view_counts` differ
    from a recount of the view log. 0 means the rollup is exactly the views' truth."""
    return _rows_on_one_side(
        cur,
        truth=view_counts_of("view_events"),
        derived="""
            SELECT article_id, bucket, hours_since_publish, sum(views) AS views
            FROM view_counts GROUP BY ALL""",
    )


def _rows_on_one_side(cur: duckdb.DuckDBPyConnection, *, truth: str, derived: str) -> int:
    """Rows of `truth` (recomputed from the logs) or of `derived` (what a derived table
    holds) that the other lacks, duplicates counted. Both are our own constant queries.

    Each row is known by two independent 64-bit hashes of its values, by position (as EXCEPT
    ALL compares); truth counts +1 and derived −1 per row, so a row on one side leaves a
    sum other than 0. One pass over each side into one aggregate: EXCEPT ALL both ways ran
    the truth twice and held both sides in hash tables, which at 100M events spilled more
    than 24 GB and had not finished in 7 minutes."""
    return int(
        scalar(
            cur,
            f"""
            WITH truth AS ({truth}), derived AS ({derived}),
            sides AS (
                SELECT hash(t) AS h1, hash(t, 7) AS h2, 1 AS side FROM truth t
                UNION ALL
                SELECT hash(d), hash(d, 7), -1 FROM derived d
            )
            SELECT coalesce(sum(abs(n)), 0) FROM (SELECT sum(side) AS n FROM sides GROUP BY h1, h2)
            """,
        )
    )
