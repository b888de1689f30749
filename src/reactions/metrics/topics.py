"""Figures per topic: reactions per kind, views, the trend, and the previous period. No
Streamlit.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from reactions.metrics.filters import Filters
from reactions.metrics.predicates import view_predicate
from reactions.metrics.rollup import standing_counts
from reactions.metrics.time_series import local_bucket


def topic_counts(cur: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """topic, kind_id, reactions in the filter."""
    source = standing_counts(f)
    return cur.execute(
        f"""
        SELECT a.topic, s.kind_id, sum(s.reactions)::BIGINT AS reactions
        FROM ({source.sql}) s JOIN articles a USING (article_id)
        GROUP BY ALL HAVING sum(s.reactions) > 0
        """,
        source.params,
    ).df()


def topic_views(cur: duckdb.DuckDBPyConnection, f: Filters) -> pd.Series:
    """Views per topic in the filter."""
    where = view_predicate(f)
    frame = cur.execute(
        f"""
        SELECT a.topic, sum(v.views) AS views
        FROM view_counts v JOIN articles a USING (article_id)
        WHERE {where.sql} GROUP BY ALL
        """,
        where.params,
    ).df()
    return frame.set_index("topic")["views"].astype("int64")


def topic_trend(cur: duckdb.DuckDBPyConnection, f: Filters) -> pd.DataFrame:
    """topic, bucket (local time), reactions."""
    source = standing_counts(f)
    return cur.execute(
        f"""
        SELECT a.topic, {local_bucket(f, "s.bucket")} AS bucket,
               sum(s.reactions)::BIGINT AS reactions
        FROM ({source.sql}) s JOIN articles a USING (article_id)
        GROUP BY ALL HAVING sum(s.reactions) > 0 ORDER BY 1, 2
        """,
        source.params,
    ).df()


def previous_topic_totals(cur: duckdb.DuckDBPyConnection, f: Filters) -> pd.Series:
    """Reactions per topic in the previous period (empty for all time)."""
    previous = f.previous()
    if previous is None:
        return pd.Series(dtype="int64")
    counts = topic_counts(cur, previous)
    return counts.groupby("topic")["reactions"].sum()
