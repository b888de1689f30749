"""One article's figures: its text, breakdown, reactions and views since publication, and
what its readers switched between. No Streamlit.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from reactions.metrics.filters import Filters
from reactions.metrics.predicates import reaction_predicate, view_predicate
from reactions.metrics.rollup import standing_counts
from reactions.store.derived import is_kept


def article(cur: duckdb.DuckDBPyConnection, article_id: str) -> dict[str, Any] | None:
    rows = cur.execute(
        "SELECT article_id, title, dek, body, url, topic, tags, author, dateline, "
        "published_at, updated_at FROM articles WHERE article_id = ?",
        [article_id],
    ).df()
    if rows.empty:
        return None
    info = {str(k): v for k, v in rows.iloc[0].to_dict().items()}
    info["tags"] = [str(t) for t in (info["tags"] if info["tags"] is not None else [])]
    return info


def article_filter(f: Filters, article_id: str) -> tuple[str, list[object]]:
    """The filter's range and kinds, narrowed to one article (its own topic, author and tags
    are what they are, so those filters do not apply on the detail page)."""
    where = reaction_predicate(f.range_and_kinds())
    return f"{where.sql} AND c.article_id = ?", [*where.params, article_id]


def article_breakdown(cur: duckdb.DuckDBPyConnection, f: Filters, article_id: str) -> pd.DataFrame:
    """kind_id, reactions of one article in the filter's range and kinds (from the rollup,
    which holds a row per quarter hour rather than one per reaction)."""
    source = standing_counts(f.range_and_kinds())
    return cur.execute(
        f"SELECT s.kind_id, sum(s.reactions)::BIGINT AS reactions FROM ({source.sql}) s "
        "WHERE s.article_id = ? GROUP BY ALL HAVING sum(s.reactions) > 0",
        [*source.params, article_id],
    ).df()


def article_timeline(cur: duckdb.DuckDBPyConnection, f: Filters, article_id: str) -> pd.DataFrame:
    """hours_since_publish (whole hours), kind_id, reactions."""
    sql, params = article_filter(f, article_id)
    return cur.execute(
        f"""
        SELECT floor(epoch(c.added_at - a.published_at) / 3600)::BIGINT AS hours_since_publish,
               c.kind_id, count(*) AS reactions
        FROM current_reactions c JOIN articles a USING (article_id)
        WHERE {sql} GROUP BY ALL ORDER BY 1, 2
        """,
        params,
    ).df()


def article_views(cur: duckdb.DuckDBPyConnection, f: Filters, article_id: str) -> int:
    """Views of one article's reaction bar in the filter's range."""
    where = view_predicate(f.range_and_kinds())
    rows = cur.execute(
        f"SELECT sum(v.views) FROM view_counts v WHERE {where.sql} AND v.article_id = ?",
        [*where.params, article_id],
    ).fetchall()
    return int(rows[0][0] or 0)


def article_view_timeline(
    cur: duckdb.DuckDBPyConnection, f: Filters, article_id: str
) -> pd.DataFrame:
    """hours_since_publish (whole hours), views — in the filter's range."""
    where = view_predicate(f.range_and_kinds())
    return cur.execute(
        f"""
        SELECT v.hours_since_publish, sum(v.views)::BIGINT AS views
        FROM view_counts v WHERE {where.sql} AND v.article_id = ? GROUP BY ALL ORDER BY 1
        """,
        [*where.params, article_id],
    ).df()


def article_transitions(
    cur: duckdb.DuckDBPyConnection, f: Filters, article_id: str
) -> pd.DataFrame:
    """What readers of this article left, and for what: from_kind, to_kind (NULL for an
    undo), readers — from the event log, where a switch is a remove and an add by the same
    reader at the same instant. In the filter's date range."""
    lo, hi = f.utc_bounds()
    clean = f"AND {is_kept('event_id')}" if f.exclude_flagged else ""
    # One scan of the log for the article's events (a second for its adds doubled the time),
    # then only the adds at a remove's instant: the log has no index by article.
    return cur.execute(
        f"""
        WITH mine AS MATERIALIZED (
            SELECT reader_hash, occurred_at, kind_id, action FROM reaction_events
            WHERE article_id = ? {clean}
        ),
        removes AS MATERIALIZED (
            SELECT reader_hash, occurred_at, kind_id FROM mine
            WHERE action = 'remove'
              AND (?::TIMESTAMP IS NULL OR occurred_at >= ?)
              AND (?::TIMESTAMP IS NULL OR occurred_at < ?)
        ),
        adds AS (
            SELECT reader_hash, occurred_at, kind_id FROM mine
            SEMI JOIN removes USING (reader_hash, occurred_at) WHERE action = 'add'
        )
        SELECT r.kind_id AS from_kind, a.kind_id AS to_kind, count(*) AS readers
        FROM removes r LEFT JOIN adds a USING (reader_hash, occurred_at)
        GROUP BY ALL ORDER BY readers DESC
        """,
        [article_id, lo, lo, hi, hi],
    ).df()
