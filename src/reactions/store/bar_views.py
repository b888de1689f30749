"""Views: the reaction bar shown to a reader — the denominator of every reaction rate.

A view counts once per reader, article and UTC day (the reader page and widget.js report one
on every render; the rest are repeats). A batch of views is one transaction of two appender
flushes: the new rows of `view_events` (append-only, the truth) and their counts per
article, quarter hour and hour since publication in `view_counts` (the rollup every page
reads, see derived.VIEW_COUNTS_DDL), computed here as SQL's `view_counts_of` would — so the
rollup never trails the log, for about the cost of one statement (an INSERT … SELECT of a
registered frame cost several).

Which reader has viewed which article today is kept in memory by the writer (the only
writer, design rule 2: writer_state.ViewedToday), loaded from the log the first time a day
needs it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from reactions.clock import utc_now
from reactions.errors import InvalidInput, ReactionsError, UnknownArticle
from reactions.store.sql import quarter_hour, transaction
from reactions.store.taps import EVENT_SOURCES, validate_id
from reactions.store.writer_state import WriterState

VIEW_COLUMNS = ("viewed_at", "article_id", "reader_hash", "source", "network_hash")
# What the generator's INSERT … SELECT gives (synthetic views carry no network)
SYNTHETIC_VIEW_COLUMNS = VIEW_COLUMNS[:4]
VIEW_COUNT_COLUMNS = ("article_id", "bucket", "hours_since_publish", "views")


class ViewTables:
    """Where views land: a cursor and an appender per table, made once per Store and writer
    generation (a rebuild replaces `view_counts`). Used only under the write lock."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, generation: int) -> None:
        self.cur = cur
        self.generation = generation
        self.events = cur.appender("view_events", columns=list(VIEW_COLUMNS))
        self.counts = cur.appender("view_counts", columns=list(VIEW_COUNT_COLUMNS))


def hours_since(at: datetime, published: datetime) -> int:
    """Whole hours from publication: SQL's floor(epoch(at - published) / 3600)."""
    return math.floor((at - published).total_seconds() / 3600)


@dataclass(frozen=True)
class View:
    """The reaction bar of one article shown to one reader."""

    article_id: str
    reader_id: str  # the raw client id or fingerprint; only its salted hash is stored
    source: str = "api"
    at: datetime | None = None  # naive UTC; now when omitted
    # Shared per-minute budgets, (key, limit), checked where every server counts them (the
    # PostgreSQL store); the embedded store's API checks its own in process.
    limits: tuple[tuple[str, int], ...] = ()
    network: str | None = None  # raw network key (identity.network_identity); stored hashed

    def check_shape(self) -> None:
        validate_id(self.article_id, "article id")
        validate_id(self.reader_id, "reader id")
        if self.source not in EVENT_SOURCES:
            raise InvalidInput(f"source must be one of {', '.join(EVENT_SOURCES)}")


@dataclass(frozen=True)
class ViewOutcome:
    article_id: str
    counted: bool  # False: this reader's view of this article today was already counted
    # PostgreSQL mode: the article's counts per enabled kind and the reader's kinds, read in
    # the view's own transaction (the bar, with no second round trip). None: ask the store.
    counts: dict[str, int] | None = None
    mine: tuple[str, ...] = ()


def write_views(
    tables: ViewTables,
    state: WriterState,
    views: Sequence[View],
    *,
    hash_reader: Callable[[str], str],
    all_or_nothing: bool = False,
) -> list[ViewOutcome | ReactionsError]:
    """Check, deduplicate and write views in one transaction; per view its outcome or its
    error (with `all_or_nothing`, the first error is raised and nothing is written). The
    caller holds `state.lock`."""
    cur = tables.cur
    state.load(cur)
    errors = [_error_for(view, state) for view in views]
    first_error = next((e for e in errors if e is not None), None)
    if all_or_nothing and first_error is not None:
        raise first_error
    results: list[ViewOutcome | ReactionsError] = []
    rows: list[tuple[datetime, str, str, str, str | None]] = []
    fresh: set[tuple[date, int]] = set()  # counted in this batch
    for view, problem in zip(views, errors, strict=True):
        if problem is not None:
            results.append(problem)
            continue
        at = view.at or utc_now()
        reader_hash = hash_reader(view.reader_id)
        key = hash((reader_hash, view.article_id))
        counted = key not in state.viewed.on(cur, at.date()) and (at.date(), key) not in fresh
        if counted:
            fresh.add((at.date(), key))
            network = hash_reader(f"net:{view.network}") if view.network else None
            rows.append((at, view.article_id, reader_hash, view.source, network))
        results.append(ViewOutcome(view.article_id, counted))
    if rows:
        _append(tables, state, rows)
    # Only now, after the commit: a failed write must leave these views uncounted.
    state.viewed.keys.update(key for day, key in fresh if day == state.viewed.day)
    return results


def _error_for(view: View, state: WriterState) -> ReactionsError | None:
    assert state.taps.articles is not None
    try:
        view.check_shape()
    except ReactionsError as exc:
        return exc
    if view.article_id not in state.taps.articles:
        return UnknownArticle(f"no article with id {view.article_id[:80]!r}")
    return None


def _append(
    tables: ViewTables,
    state: WriterState,
    rows: list[tuple[datetime, str, str, str, str | None]],
) -> None:
    assert state.taps.articles is not None
    cells = Counter(
        (article, quarter_hour(at), hours_since(at, state.taps.articles[article]))
        for at, article, *_ in rows
    )
    try:
        with transaction(tables.cur):
            tables.events.append_rows(rows)
            tables.events.flush()
            tables.counts.append_rows([(*cell, n) for cell, n in cells.items()])
            tables.counts.flush()
    except BaseException:
        tables.events.clear()  # rows a failed flush left buffered must not land later
        tables.counts.clear()
        raise
    state.grew(tables.cur, "view_counts", len(cells))
