"""Figures over time in the editor's timezone: the reaction mix per bucket, views per bucket,
the reaction rate per bucket, and an article's rate by hour since publication. No Streamlit.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from reactions.metrics.filters import INTERVALS, Filters
from reactions.metrics.predicates import view_predicate
from reactions.metrics.rollup import standing_counts
from reactions.metrics.stats import per_100_views_of


def local_bucket(f: Filters, column: str) -> str:
    """SQL for the start of the interval bucket holding `column`, in the editor's timezone.
    The interval and the zone come from allowlists (INTERVALS, zoneinfo), never raw input."""
    assert f.interval in INTERVALS
    local = column if f.tz == "UTC" else f"timezone('{f.zone.key}', timezone('UTC', {column}))"
    return f"date_trunc('{f.interval}', {local})"


def mix_over_time(cur: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """bucket (local time), kind_id, reactions — one row per non-empty bucket and kind."""
    source = standing_counts(f)
    return cur.execute(
        f"""
        SELECT {local_bucket(f, "s.bucket")} AS bucket, s.kind_id,
               sum(s.reactions)::BIGINT AS reactions
        FROM ({source.sql}) s
        GROUP BY ALL HAVING sum(s.reactions) > 0 ORDER BY bucket, s.kind_id
        """,
        source.params,
    ).df()


def views_over_time(cur: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """bucket (local time), views — one row per bucket with views. Exact from the quarter-hour
    rollup: every zone's hours, days and weeks start on a quarter hour."""
    where = view_predicate(f)
    return cur.execute(
        f"""
        SELECT {local_bucket(f, "v.bucket")} AS bucket, sum(v.views)::BIGINT AS views
        FROM view_counts v WHERE {where.sql}
        GROUP BY ALL ORDER BY bucket
        """,
        where.params,
    ).df()


def rate_over_time(
    mix: pd.DataFrame, views: pd.DataFrame, grid: pd.DatetimeIndex | None = None
) -> pd.DataFrame:
    """bucket, reactions, views, reactions_per_100_views (empty without views): from
    `mix_over_time` and `views_over_time` under the same filter, over every bucket of `grid`
    when given."""
    return _reactions_and_views(mix, views, "bucket", grid).reset_index()


def _reactions_and_views(
    reactions: pd.DataFrame,
    views: pd.DataFrame,
    key: str,
    keys: range | pd.DatetimeIndex | None = None,
) -> pd.DataFrame:
    """Indexed by `key` (every value of `keys` when given, else those present): reactions
    (summed over kinds), views, and reactions_per_100_views (empty without views)."""
    out = pd.DataFrame(
        {
            "reactions": reactions.groupby(key)["reactions"].sum(),
            "views": views.set_index(key)["views"],
        }
    )
    out = (out.reindex(keys) if keys is not None else out.sort_index()).fillna(0).astype("int64")
    out["reactions_per_100_views"] = per_100_views_of(out["reactions"], out["views"])
    return out.rename_axis(key)


RATE_BY_HOUR_COLUMNS = (
    "hours_since_publish",
    "reactions",
    "views",
    "reactions_per_100_views",
    "since_publication",
)


def rate_by_hour(reactions: pd.DataFrame, views: pd.DataFrame) -> pd.DataFrame:
    """One row per hour since publication from the first to the last with reactions or views:
    reactions, views, that hour's reactions_per_100_views (empty without views) and the rate
    since_publication (cumulative). From `article_timeline` and `article_view_timeline`."""
    if views.empty and reactions.empty:
        return pd.DataFrame(columns=list(RATE_BY_HOUR_COLUMNS))
    both = pd.concat([reactions["hours_since_publish"], views["hours_since_publish"]])
    hours = range(int(both.min()), int(both.max()) + 1)
    out = _reactions_and_views(reactions, views, "hours_since_publish", hours)
    out["since_publication"] = per_100_views_of(out["reactions"].cumsum(), out["views"].cumsum())
    return out.reset_index()
