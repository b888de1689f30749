"""The schema: ordered, named migrations recorded in `schema_migrations`. `connect()` applies
the missing ones, so a database made by an older version upgrades in place."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import duckdb

from reactions.clock import utc_now
from reactions.errors import DatabaseError
from reactions.store.derived import (
    index_current_reactions,
    rebuild_current_reactions,
    rebuild_reaction_counts,
    rebuild_view_counts,
    set_current_reactions_through,
)
from reactions.store.sql import scalar, transaction

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


# What a stored flag says (integrity_flags, below, plus when it was scanned).
INTEGRITY_FLAG_COLUMNS = (
    "flag_id",
    "rule",
    "article_id",
    "subject",
    "first_at",
    "last_at",
    "events",
    "readers",
    "kind",
    "severity",
    "reason",
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
    # where defined): the dashboard's counts read the rollup, not every standing reaction.
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


def _015_view_ids(cur: duckdb.DuckDBPyConnection) -> None:
    # A replica of PostgreSQL (store/postgres) copies each view with its id there, so a view
    # pulled twice (the pulls overlap, to miss none) is kept once. Embedded views have none.
    cur.execute("ALTER TABLE view_events ADD COLUMN view_id BIGINT")


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
    ("015_view_ids", _015_view_ids),
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
