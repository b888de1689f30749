"""The Overview's KPIs for a period and the one before it: reactions, reacting readers,
articles reacted to and viewed, net sentiment, views and the reaction rate. No Streamlit.

Everything counts *standing* reactions (`current_reactions`: added and not undone or switched
away) by the time they were added, so a figure under any filter can be recomputed from the
raw event log — the tests do exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import duckdb

from reactions.metrics.filters import Filters
from reactions.metrics.predicates import Predicate, reaction_predicate, view_predicate
from reactions.metrics.rollup import Bounds, standing_counts
from reactions.metrics.stats import per_100_views
from reactions.store.derived import is_excluded, is_kept
from reactions.store.sql import scalar


def effective(
    cur: duckdb.DuckDBPyConnection, f: Filters, *, excluding: bool | None = None
) -> Filters:
    """`f`, minus the flagged-events clause when nothing is excluded: the anti-join costs
    every query a probe per row and changes nothing then.
    `excluding` is `anything_excluded`, when the caller knows it already."""
    if f.exclude_flagged and not (anything_excluded(cur) if excluding is None else excluding):
        return replace(f, exclude_flagged=False)
    return f


def anything_excluded(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether any event is flagged and not dismissed."""
    return bool(cur.execute("SELECT 1 FROM excluded_events LIMIT 1").fetchall())


@dataclass(frozen=True)
class Kpis:
    reactions: int
    readers: int
    articles: int
    net_sentiment: float | None  # mean kind sentiment, −1 … +1
    views: int = 0  # of the reaction bar, on the filter's articles in its range
    articles_viewed: int = 0  # articles whose bar was shown in the range

    @property
    def rate(self) -> float | None:
        """Reactions per 100 views; None without views."""
        return per_100_views(self.reactions, self.views)


def kpis(cur: duckdb.DuckDBPyConnection, f: Filters) -> tuple[Kpis, Kpis | None]:
    """The period's KPIs and, when the range is bounded, the previous period's: one pass over
    the rollup for the counts, one over the rows for the readers, split by period."""
    previous = f.previous()
    lo, hi = f.utc_bounds()
    start = previous.utc_bounds()[0] if previous else lo
    source = standing_counts(f, (start, hi))
    is_current = "s.bucket >= ?" if previous else "TRUE"  # lo is a midnight: a quarter hour
    counts = cur.execute(
        f"""
        WITH per_article AS (
            SELECT {is_current} AS is_current, s.article_id, sum(s.reactions) AS n,
                   sum(s.reactions * k.sentiment) AS feeling
            FROM ({source.sql}) s JOIN reaction_kinds k USING (kind_id) GROUP BY ALL
        )
        SELECT is_current, sum(n), count(*) FILTER (WHERE n > 0),
               sum(feeling) / nullif(sum(n), 0)
        FROM per_article GROUP BY 1
        """,
        ([lo] if previous else []) + source.params,
    ).fetchall()
    by_period = {bool(r[0]): r[1:] for r in counts}
    readers = _readers_by_period(cur, f, lo if previous else None, (start, hi))
    views = _views_by_period(cur, f, lo if previous else None, (start, hi))

    def period(current: bool) -> Kpis:
        n, articles, sentiment = by_period.get(current, (0, 0, None))
        shown, viewed = views.get(current, (0, 0))
        return Kpis(
            int(n or 0),
            readers.get(current, (0,))[0],
            int(articles or 0),
            _float(sentiment),
            shown,
            viewed,
        )

    return period(True), (period(False) if previous else None)


def _readers_by_period(
    cur: duckdb.DuckDBPyConnection, f: Filters, current_from: datetime | None, bounds: Bounds
) -> dict[bool, tuple[int, ...]]:
    """Distinct reacting readers: the set bits of their numbers (derived.READER_NO), exact,
    and without the hash table count(DISTINCT reader_hash) builds."""
    if current_from is None and bounds == (None, None) and _keeps_every_row(f):
        return {True: (_every_reader(cur, exclude_flagged=f.exclude_flagged),)}
    # Numbers are event ids, from 1. A bitstring whose length is a multiple of 8 aggregates
    # whole bytes (measurably faster), so the top is rounded up to one.
    highest = scalar(cur, "SELECT coalesce(max(reader_no), 1) FROM current_reactions")
    return _by_period(
        cur,
        "bit_count(bitstring_agg(c.reader_no, 1, ?))",
        [-(-highest // 8) * 8],
        "current_reactions c",
        reaction_predicate(f, start=bounds[0], end=bounds[1]),
        "c.added_at",
        current_from,
    )


def _keeps_every_row(f: Filters) -> bool:
    """Whether only flags can leave out a standing reaction: no kinds, no article filters."""
    return reaction_predicate(replace(f, exclude_flagged=False), use_range=False).sql == "TRUE"


def _every_reader(cur: duckdb.DuckDBPyConnection, *, exclude_flagged: bool) -> int:
    """Every reader with a standing reaction, counted by the one row whose event is the
    reader's number (no grouping at all). Leaving flagged events out, a reader whose
    numbered row is flagged still counts if another of its rows is not: those few readers
    are counted apart."""
    if not exclude_flagged:
        return int(scalar(cur, "SELECT count(*) FROM current_reactions WHERE event_id = reader_no"))
    return int(
        scalar(
            cur,
            f"""
            SELECT (SELECT count(*) FROM current_reactions
                    WHERE event_id = reader_no AND {is_kept("event_id")})
                 + (SELECT count(DISTINCT reader_no) FROM current_reactions
                    WHERE {is_excluded("reader_no")} AND {is_kept("event_id")})
            """,
        )
    )


def _views_by_period(
    cur: duckdb.DuckDBPyConnection, f: Filters, current_from: datetime | None, bounds: Bounds
) -> dict[bool, tuple[int, ...]]:
    """(views, articles viewed) by period."""
    return _by_period(
        cur,
        "sum(v.views), count(DISTINCT v.article_id)",
        [],
        "view_counts v",
        view_predicate(f, start=bounds[0], end=bounds[1]),
        "v.bucket",
        current_from,
    )


def _by_period(
    cur: duckdb.DuckDBPyConnection,
    value: str,
    value_params: list[object],
    table: str,
    where: Predicate,
    time_column: str,
    current_from: datetime | None,
) -> dict[bool, tuple[int, ...]]:
    """`value` (one or more aggregates) over `table` rows in `where`, split at `current_from`
    (True: the current period; everything is current without one). SQL pieces are the
    callers' constants."""
    is_current = f"{time_column} >= ?" if current_from is not None else "TRUE"
    rows = cur.execute(
        f"SELECT {is_current}, {value} FROM {table} WHERE {where.sql} GROUP BY 1",
        ([current_from] if current_from is not None else []) + value_params + where.params,
    ).fetchall()
    return {bool(row[0]): tuple(int(n) for n in row[1:]) for row in rows}


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
