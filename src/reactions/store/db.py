"""Opening the database, the schema migrations, and the transaction helper.

Rule 2 of the design lives here: one process owns the DuckDB file. `connect()` turns DuckDB's
lock error into `DatabaseLocked` with one line naming the holder and what to do instead.

Migrations are ordered, named functions recorded in `schema_migrations`; `connect()` applies
the missing ones, so a database made by an older version upgrades in place.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from reactions.clock import utc_now
from reactions.errors import DatabaseError, DatabaseLocked

# Nothing may be downloaded at run time: a query touching an unknown extension must fail at
# once rather than stall on the network.
_DUCKDB_CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}

_LOCK_PATTERN = re.compile(r"Conflicting lock is held in (?P<exe>.+?) \(PID (?P<pid>\d+)\)")


def connect(path: str | Path, *, migrate: bool = True) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database at `path` and bring its schema up to date.

    `":memory:"` gives a private in-memory database, used by tests that need no file.
    """
    target = str(path)
    if target != ":memory:":
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(target, config=dict(_DUCKDB_CONFIG))
    except duckdb.IOException as exc:
        raise _friendly_open_error(target, exc) from None
    except duckdb.Error as exc:
        raise DatabaseError(f"cannot open {target}: {_first_line(exc)}") from None
    if migrate:
        apply_migrations(con)
    return con


def _friendly_open_error(path: str, exc: duckdb.Error) -> Exception:
    match = _LOCK_PATTERN.search(str(exc))
    if not match:
        return DatabaseError(f"cannot open {path}: {_first_line(exc)}")
    pid = match["pid"]
    return DatabaseLocked(
        f"{path} is in use by process {pid} ({_describe_process(pid, match['exe'])}); DuckDB lets "
        "one process open a database file, so stop that process (e.g. the running app) or "
        "pass --db with another file"
    )


def _describe_process(pid: str, executable: str) -> str:
    """The holder's command line when /proc shows it, else the executable DuckDB reported."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return executable
    words = [w for w in raw.decode(errors="replace").split("\0") if w]
    command = " ".join(Path(words[0]).name if i == 0 else w for i, w in enumerate(words[:4]))
    return command or executable


def scalar(cur: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> Any:
    """The single value of a one-row, one-column query.

    Fetches the whole result: DuckDB 2.0 refuses further work on a cursor whose last result
    was only partly fetched (as `fetchone()` leaves it).
    """
    rows = cur.execute(sql, list(params)).fetchall()
    return rows[0][0] if rows else None


def _first_line(exc: BaseException) -> str:
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


# --- migrations --------------------------------------------------------------------------
# Append new migrations at the end; never edit or reorder one that has shipped.

Migration = Callable[[duckdb.DuckDBPyConnection], None]


def _001_core_tables(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute(
        """
        CREATE TABLE articles (
            article_id   VARCHAR PRIMARY KEY,
            title        VARCHAR NOT NULL,
            dek          VARCHAR NOT NULL DEFAULT '',
            body         VARCHAR NOT NULL DEFAULT '',   -- markdown, sanitized on the way in
            url          VARCHAR,
            topic        VARCHAR NOT NULL,
            tags         VARCHAR[] NOT NULL DEFAULT [],
            author       VARCHAR NOT NULL DEFAULT '',
            dateline     VARCHAR NOT NULL DEFAULT '',
            published_at TIMESTAMP NOT NULL,            -- UTC
            updated_at   TIMESTAMP,                     -- UTC
            origin       VARCHAR NOT NULL DEFAULT 'import'  -- import | synthetic | seed
        )
        """
    )
    cur.execute(
        """
        CREATE TABLE reaction_kinds (
            kind_id   VARCHAR PRIMARY KEY,
            label     VARCHAR NOT NULL,
            emoji     VARCHAR NOT NULL,
            sentiment TINYINT NOT NULL CHECK (sentiment IN (-1, 0, 1)),
            position  INTEGER NOT NULL,
            enabled   BOOLEAN NOT NULL DEFAULT TRUE
        )
        """
    )
    # Append-only: rows are inserted, never updated or deleted (design rule 3). No foreign
    # keys or primary key: the store validates on the way in, and constraints would slow the
    # bulk path by an order of magnitude.
    cur.execute(
        """
        CREATE TABLE reaction_events (
            event_id     BIGINT NOT NULL,
            occurred_at  TIMESTAMP NOT NULL,            -- UTC
            article_id   VARCHAR NOT NULL,
            reader_hash  VARCHAR NOT NULL,              -- never a raw id, IP or user agent
            kind_id      VARCHAR NOT NULL,
            action       VARCHAR NOT NULL CHECK (action IN ('add', 'remove')),
            source       VARCHAR NOT NULL CHECK (source IN ('widget', 'api', 'synthetic', 'import')),
            network_hash VARCHAR                        -- salted hash of the client network
        )
        """
    )
    cur.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
    # The pepper makes reader hashes of this installation unlinkable to any other's.
    cur.execute("INSERT INTO meta VALUES ('reader_pepper', md5(gen_random_uuid()::VARCHAR))")


DEFAULT_REACTION_KINDS: tuple[tuple[str, str, str, int], ...] = (
    # kind_id, label, emoji, sentiment — the set under the example article, in its order.
    ("like", "Like", "👍", 1),
    ("dislike", "Dislike", "👎", -1),
    ("love", "Love", "❤️", 1),
    ("funny", "Funny", "😂", 1),
    ("angry", "Angry", "😡", -1),
    ("sad", "Sad", "😢", -1),
    ("wow", "Wow", "😮", 0),
)


def _002_default_reaction_kinds(cur: duckdb.DuckDBPyConnection) -> None:
    cur.executemany(
        "INSERT INTO reaction_kinds VALUES (?, ?, ?, ?, ?, TRUE)",
        [
            (kind, label, emoji, sentiment, position)
            for position, (kind, label, emoji, sentiment) in enumerate(DEFAULT_REACTION_KINDS)
        ],
    )


def _003_current_reactions(cur: duckdb.DuckDBPyConnection) -> None:
    # Derived: each reader's current reactions, so a tap can be toggled without scanning
    # the event log. Built from events (an upgraded database may already hold some) and
    # rebuilt by `reactions rebuild`.
    rebuild_current_reactions(cur)
    index_current_reactions(cur)


def _004_synthetic_labels(cur: duckdb.DuckDBPyConnection) -> None:
    # Ground truth for generated data only: which events the generator planted as bot-like
    # bursts, so integrity detection can be measured. Production events never get a label.
    cur.execute("CREATE TABLE synthetic_labels (event_id BIGINT NOT NULL, label VARCHAR NOT NULL)")


def _005_current_reactions_added_at(cur: duckdb.DuckDBPyConnection) -> None:
    # Dashboards count standing reactions by when they were added; keeping that time in the
    # derived table spares every page a join with the whole event log.
    rebuild_current_reactions(cur)
    index_current_reactions(cur)


# One colour per kind, used by every chart; moods read at a glance (anger red, love pink).
DEFAULT_KIND_COLORS = {
    "like": "#2563eb",
    "dislike": "#64748b",
    "love": "#db2777",
    "funny": "#f59e0b",
    "angry": "#dc2626",
    "sad": "#7c3aed",
    "wow": "#0d9488",
}


def _006_reaction_kind_colors(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute("ALTER TABLE reaction_kinds ADD COLUMN color VARCHAR NOT NULL DEFAULT '#94a3b8'")
    cur.executemany(
        "UPDATE reaction_kinds SET color = ? WHERE kind_id = ?",
        [(color, kind) for kind, color in DEFAULT_KIND_COLORS.items()],
    )


def _007_current_reactions_through(cur: duckdb.DuckDBPyConnection) -> None:
    # Taps now commit their events first and settle the derived table shortly after; until
    # this version it was written in the same transaction, so it reflects every event.
    set_current_reactions_through(
        cur, int(scalar(cur, "SELECT coalesce(max(event_id), 0) FROM reaction_events"))
    )


def _008_api_tokens(cur: duckdb.DuckDBPyConnection) -> None:
    # Bearer tokens for the export API: the SHA-256 of each token, never the token.
    cur.execute(
        """
        CREATE TABLE api_tokens (
            token_id     VARCHAR PRIMARY KEY,    -- the public part of rx_<id>_<secret>
            name         VARCHAR NOT NULL,       -- who or what uses it
            token_sha256 VARCHAR NOT NULL,
            created_at   TIMESTAMP NOT NULL,     -- UTC
            revoked_at   TIMESTAMP               -- UTC; NULL while valid
        )
        """
    )


def _009_integrity(cur: duckdb.DuckDBPyConnection) -> None:
    # Flags are derived (a scan replaces them); decisions are events: append-only.
    cur.execute(
        """
        CREATE TABLE integrity_flags (
            flag_id     VARCHAR PRIMARY KEY,   -- stable across scans: rule, subject, first event
            rule        VARCHAR NOT NULL,
            article_id  VARCHAR,               -- NULL when the flag spans articles
            subject     VARCHAR NOT NULL,      -- the reader or network hash
            first_at    TIMESTAMP NOT NULL,
            last_at     TIMESTAMP NOT NULL,
            events      BIGINT NOT NULL,
            readers     BIGINT NOT NULL,
            kind        VARCHAR NOT NULL,
            severity    VARCHAR NOT NULL,
            reason      VARCHAR NOT NULL,
            scanned_at  TIMESTAMP NOT NULL
        )
        """
    )
    cur.execute("CREATE TABLE flagged_events (event_id BIGINT NOT NULL, flag_id VARCHAR NOT NULL)")
    cur.execute(
        """
        CREATE TABLE integrity_decisions (
            decided_at  TIMESTAMP NOT NULL,    -- UTC
            flag_id     VARCHAR NOT NULL,
            decision    VARCHAR NOT NULL,      -- 'confirm' (exclude) or 'dismiss' (count)
            decided_by  VARCHAR NOT NULL,
            why         VARCHAR NOT NULL
        )
        """
    )
    # What "exclude flagged events" leaves out: events of flags not (last) dismissed.
    cur.execute(
        """
        CREATE VIEW excluded_events AS
        SELECT f.event_id FROM flagged_events f
        WHERE f.flag_id NOT IN (
            SELECT flag_id FROM integrity_decisions
            GROUP BY flag_id HAVING arg_max(decision, decided_at) = 'dismiss'
        )
        """
    )


def _010_views(cur: duckdb.DuckDBPyConnection) -> None:
    # A view is the reaction bar shown to a reader (once per reader, article and UTC day).
    # Append-only like reactions; no id column: nothing refers to a single view, and at tens
    # of millions of rows every column costs seconds to write.
    cur.execute(
        """
        CREATE TABLE view_events (
            viewed_at   TIMESTAMP NOT NULL,     -- UTC
            article_id  VARCHAR NOT NULL,
            reader_hash VARCHAR NOT NULL,       -- the same salted identity as reactions
            source      VARCHAR NOT NULL CHECK (source IN ('widget', 'api', 'synthetic', 'import'))
        )
        """
    )
    rebuild_view_counts(cur)


def _011_reaction_counts(cur: duckdb.DuckDBPyConnection) -> None:
    # Reader numbers in current_reactions and the reaction_counts rollup (both explained
    # where defined): the dashboard's counts at 10M events read 11× fewer rows.
    rebuild_current_reactions(cur)
    rebuild_reaction_counts(cur)
    index_current_reactions(cur)


def _012_view_networks(cur: duckdb.DuckDBPyConnection) -> None:
    # Live views carry the salted network of the client, as live taps do, so integrity can
    # see a network's views beside its reactions. Synthetic and older views have none.
    cur.execute("ALTER TABLE view_events ADD COLUMN network_hash VARCHAR")


def _013_integrity_baselines(cur: duckdb.DuckDBPyConnection) -> None:
    # What the last full integrity scan measured as normal, per rule (and per topic and kind
    # for the kind rule): scans of recent events hold new events to it instead of
    # measuring the whole log again.
    cur.execute(
        """
        CREATE TABLE integrity_baselines (
            rule      VARCHAR NOT NULL,
            topic     VARCHAR,              -- the kind rule only
            kind_id   VARCHAR,              -- the kind rule only
            median    DOUBLE NOT NULL,
            threshold DOUBLE NOT NULL
        )
        """
    )


def _014_link_secret(cur: duckdb.DuckDBPyConnection) -> None:
    # The key the Export page signs its download links with (download_links.py).
    cur.execute("INSERT INTO meta VALUES ('link_secret', ?)", [secrets.token_hex(32)])


MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("001_core_tables", _001_core_tables),
    ("002_default_reaction_kinds", _002_default_reaction_kinds),
    ("003_current_reactions", _003_current_reactions),
    ("004_synthetic_labels", _004_synthetic_labels),
    ("005_current_reactions_added_at", _005_current_reactions_added_at),
    ("006_reaction_kind_colors", _006_reaction_kind_colors),
    ("007_current_reactions_through", _007_current_reactions_through),
    ("008_api_tokens", _008_api_tokens),
    ("009_integrity", _009_integrity),
    ("010_views", _010_views),
    ("011_reaction_counts", _011_reaction_counts),
    ("012_view_networks", _012_view_networks),
    ("013_integrity_baselines", _013_integrity_baselines),
    ("014_link_secret", _014_link_secret),
)


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
# bit_count(bitstring_agg(reader_no, 1, max)) — 0.07–0.1 s over 8.5M rows where
# count(DISTINCT reader_hash) took 0.95 s.
READER_NO = "min(event_id) OVER (PARTITION BY reader_hash)"

# The rollups' time grain. Every timezone's offset is a multiple of 15 minutes, so local
# midnights, hours, days and weeks all fall on quarter-hour boundaries, and a rollup by
# quarter hour (UTC) answers any of the dashboard's ranges and buckets exactly.
QUARTER_HOUR_SQL = "time_bucket(INTERVAL 15 MINUTES, {column})"


def quarter_hour(at: datetime) -> datetime:
    """The start of `at`'s quarter hour: QUARTER_HOUR_SQL in Python."""
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


# Standing reactions per article, kind, quarter hour (UTC) of their adding and whether
# integrity excludes them: what every count on the dashboard reads (rollup.py), 11× fewer
# rows than current_reactions at 10M events. A quarter hour for the reasons QUARTER_HOUR_SQL
# gives; `excluded` so that leaving flagged events out is a condition on the rollup, not a
# scan of every standing reaction (30 ms a query at 10M events). Derived from
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
EXCLUDED_EVENT = "event_id IN (SELECT event_id FROM excluded_events)"


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
    """Recompute `reaction_counts` from `current_reactions` (dropped and created anew, as
    `rebuild_current_reactions` explains; 0.3 s at 10M events)."""
    cur.execute("DROP TABLE IF EXISTS reaction_counts")
    cur.execute(REACTION_COUNTS_DDL)
    cur.execute(f"INSERT INTO reaction_counts {reaction_counts_of()}")


def rebuild_current_reactions(cur: duckdb.DuckDBPyConnection) -> None:
    """Recompute `current_reactions` from the event log (the caller owns the transaction,
    and calls `index_current_reactions` after committing).

    A (reader, article, kind) is current when its latest event is an add. Most keys never
    see a remove, so: their adds as they are, plus a group-by over only the keys that do
    (1.5× faster than grouping the whole log).

    The table is dropped and created anew rather than emptied: DuckDB writes a large insert
    into a new table straight to storage, while deleting and re-inserting 8.5M rows went
    through the WAL and took 210 s to commit at 10M events (11 s this way).
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
        -- READER_NO as a join with each reader's least event id: 3 s faster than the window
        -- at 10M events. In event order, which is time order: the join would leave them in
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
        cur.execute(
            "CREATE TEMP TABLE caught_up AS SELECT DISTINCT reader_hash FROM reaction_events "
            "WHERE event_id > ?",
            [after],
        )
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
        cur.execute("DROP TABLE caught_up")
        set_current_reactions_through(cur, through)
    return through - after


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
    """Recompute `view_counts` from the view log (dropped and created anew, as
    `rebuild_current_reactions` explains)."""
    cur.execute("DROP TABLE IF EXISTS view_counts")
    cur.execute(VIEW_COUNTS_DDL)
    cur.execute(f"INSERT INTO view_counts {view_counts_of('view_events')}")


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
    """Taps look readers up by hash: ~3 ms with this index, ~30 ms scanning a million rows.
    Built outside the rebuild's transaction: inside it, the commit took 20 s at 10M events
    instead of the 6 s the index takes on its own."""
    cur.execute(
        "CREATE INDEX IF NOT EXISTS current_reactions_reader ON current_reactions (reader_hash)"
    )


def applied_migrations(cur: duckdb.DuckDBPyConnection) -> list[str]:
    cur.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(name VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)"
    )
    return [row[0] for row in cur.execute("SELECT name FROM schema_migrations").fetchall()]


def apply_migrations(con: duckdb.DuckDBPyConnection, *, up_to: str | None = None) -> list[str]:
    """Apply every migration not yet recorded, in order, each in its own transaction.

    `up_to` stops after the named migration (tests use it to build an "older" database).
    Returns the names applied now.
    """
    cur = con.cursor()
    done = set(applied_migrations(cur))
    known = [name for name, _ in MIGRATIONS]
    unknown = done - set(known)
    if unknown:
        raise DatabaseError(
            f"this database was written by a newer version of Reactions "
            f"(unknown migrations: {', '.join(sorted(unknown))}); upgrade the package"
        )
    applied: list[str] = []
    for name, migration in MIGRATIONS:
        if name not in done:
            with transaction(cur):
                migration(cur)
                cur.execute("INSERT INTO schema_migrations VALUES (?, ?)", [name, utc_now()])
            applied.append(name)
        if name == up_to:
            break
    return applied


def insert_arrow(cur: duckdb.DuckDBPyConnection, table: str, data: pa.Table) -> None:
    """INSERT every row of an Arrow table, columns matched by name. `table` is one of ours."""
    cur.register("_incoming", data)
    try:
        columns = ", ".join(f'"{name}"' for name in data.column_names)
        cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming")
    finally:
        cur.unregister("_incoming")
