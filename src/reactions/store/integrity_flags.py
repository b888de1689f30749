"""Writing integrity's results: flags and their events (derived from the log by a scan),
editors' decisions (append-only), and the bars scans of recent events are held to. Every
write goes through `Store.write`, so it takes the one write lock and keeps the reaction
rollup's `excluded` column true.

What integrity detects is in `integrity`; when scans run is in `integrity_scans`.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

from reactions.clock import utc_now
from reactions.errors import InvalidInput
from reactions.store.derived import reaction_counts_of, rebuild_reaction_counts
from reactions.store.schema import INTEGRITY_FLAG_COLUMNS
from reactions.store.sql import insert_arrow
from reactions.store.store import Store

SCANNED_THROUGH = "integrity_scanned_through"  # meta: the newest event a scan has read


def replace_flags(
    store: Store,
    flags: pd.DataFrame,
    flagged: pd.DataFrame,
    baselines: pd.DataFrame | None = None,
    *,
    through: int | None = None,
) -> None:
    """A full scan's result replaces the previous one (flags are derived); decisions stay.
    With `baselines` and `through`, scans of recent events start from here."""
    if store.record is not None:  # PostgreSQL; each replica re-derives its rollup
        store.record.replace_flags(flags, flagged, baselines, through)
        store.sync_now()
        return
    with store.local_writing(flags_only=True) as cur:
        cur.execute("DELETE FROM flagged_events")
        cur.execute("DELETE FROM integrity_flags")
        _insert_flags(cur, flags, flagged)
        if baselines is not None:
            cur.execute("DELETE FROM integrity_baselines")
            _insert(cur, "integrity_baselines", baselines)
        if through is not None:
            _set_scanned_through(cur, through)
        rebuild_reaction_counts(cur)  # its `excluded` column follows the flags


def add_flags(store: Store, flags: pd.DataFrame, flagged: pd.DataFrame, *, through: int) -> None:
    """A scan of recent events: `flags` are new or grown (a grown flag's row replaces its
    old one), `flagged` the events newly flagged. The rollup moves exactly those events'
    standing reactions to `excluded` (a new or grown flag is undecided, so excluded): their
    cells out as they were, in as they are now — the same net-change rows a settle writes."""
    if store.record is not None:  # PostgreSQL; each replica re-derives its rollup
        store.record.add_flags(flags[list(INTEGRITY_FLAG_COLUMNS)], flagged, through)
        store.sync_now()
        return
    with store.local_writing(flags_only=True) as cur:
        cur.register("_newly_flagged", flagged[["event_id", "flag_id"]])
        try:
            newly = "event_id IN (SELECT event_id FROM _newly_flagged)"
            cur.execute(f"INSERT INTO reaction_counts {reaction_counts_of(newly, -1)}")
            cur.execute("INSERT INTO flagged_events SELECT event_id, flag_id FROM _newly_flagged")
            cur.execute(f"INSERT INTO reaction_counts {reaction_counts_of(newly)}")
        finally:
            cur.unregister("_newly_flagged")
        cur.execute(
            "DELETE FROM integrity_flags WHERE flag_id IN (SELECT unnest(?::VARCHAR[]))",
            [flags["flag_id"].tolist()],
        )
        _insert_flags(cur, flags, None)
        _set_scanned_through(cur, through)


def decide(store: Store, flag_id: str, decision: str, who: str, why: str) -> None:
    """Record an editor's decision on a flag: 'confirm' keeps its events out of the cleaned
    figures, 'dismiss' counts them again. Decisions are kept, never edited."""
    if decision not in ("confirm", "dismiss"):
        raise InvalidInput("a decision is 'confirm' or 'dismiss'")
    why = " ".join(why.split())
    if not why or len(why) > 500:
        raise InvalidInput("say why, in at most 500 characters")

    with store.writing(flags_only=True) as cur:
        if not cur.execute("SELECT 1 FROM integrity_flags WHERE flag_id = ?", [flag_id]).fetchall():
            raise InvalidInput(f"no flag {flag_id[:40]!r}; scan first")
        cur.execute(
            "INSERT INTO integrity_decisions VALUES (?, ?, ?, ?, ?)",
            [utc_now(), flag_id, decision, who[:200] or "unknown", why],
        )
    if not store.replicated:  # a replica re-derives it when it syncs the decision
        with store.local_writing(flags_only=True) as cur:
            rebuild_reaction_counts(cur)  # a decision moves the flag's reactions in or out


def scanned_through(cur: duckdb.DuckDBPyConnection) -> int | None:
    """The newest event id the last scan read; None before any scan that recorded it."""
    rows = cur.execute("SELECT value FROM meta WHERE key = ?", [SCANNED_THROUGH]).fetchall()
    return int(rows[0][0]) if rows else None


def _set_scanned_through(cur: duckdb.DuckDBPyConnection, event_id: int) -> None:
    cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [SCANNED_THROUGH, str(event_id)])


def _insert_flags(
    cur: duckdb.DuckDBPyConnection, flags: pd.DataFrame, flagged: pd.DataFrame | None
) -> None:
    if flags.empty:
        return
    _insert(
        cur, "integrity_flags", flags[list(INTEGRITY_FLAG_COLUMNS)].assign(scanned_at=utc_now())
    )
    if flagged is not None:
        _insert(cur, "flagged_events", flagged[["event_id", "flag_id"]])


def _insert(cur: duckdb.DuckDBPyConnection, table: str, rows: pd.DataFrame) -> None:
    if not rows.empty:
        insert_arrow(cur, table, pa.Table.from_pandas(rows, preserve_index=False))
