"""The read path: (cursor, arguments) -> pandas DataFrame. SQL inline, values always bound.

Counts come from the event log (design rule 3): an article's count of a kind is its adds
minus its removes, which equals the number of readers currently holding that kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from reactions.metrics.filters import Known
from reactions.store.sql import scalar

# +1 for an add, -1 for a remove: summing it over a slice of the log gives the net change.
SIGNED = "CASE action WHEN 'add' THEN 1 WHEN 'remove' THEN -1 ELSE 0 END"


def reaction_kinds(cur: duckdb.DuckDBPyConnection, *, enabled_only: bool = True) -> pd.DataFrame:
    """The configured kinds in display order: kind_id, label, emoji, sentiment, position,
    enabled, color."""
    where = "WHERE enabled" if enabled_only else ""
    return cur.execute(
        f"SELECT kind_id, label, emoji, sentiment, position, enabled, color "
        f"FROM reaction_kinds {where} ORDER BY position"
    ).df()


def bar_state(article_id: str, counts: Mapping[str, int], mine: Iterable[str]) -> dict[str, Any]:
    """The reaction bar's JSON shape (DESIGN.md): `counts` holds every enabled kind in display
    order; shares are true fractions of the article's current reactions."""
    total = sum(counts.values())
    held = set(mine)
    yours = [kind for kind in counts if kind in held]
    return {
        "article_id": article_id,
        "counts": dict(counts),
        "shares": {k: (n / total if total else 0.0) for k, n in counts.items()},
        "total": total,
        "your_reaction": yours[0] if yours else None,
    }


@dataclass(frozen=True)
class DatabaseSummary:
    articles: int
    events: int
    current_reactions: int
    readers: int
    first_event: pd.Timestamp | None
    last_event: pd.Timestamp | None
    by_kind: pd.DataFrame  # kind_id, emoji, label, current (count), share
    views: int = 0  # of the reaction bar, all time (from the rollup)


def database_summary(cur: duckdb.DuckDBPyConnection) -> DatabaseSummary:
    by_kind = cur.execute(
        f"""
        SELECT k.kind_id, k.emoji, k.label, coalesce(sum({SIGNED}), 0)::BIGINT AS current
        FROM reaction_kinds k LEFT JOIN reaction_events e USING (kind_id)
        GROUP BY k.kind_id, k.emoji, k.label, k.position ORDER BY k.position
        """
    ).df()
    total = int(by_kind["current"].sum())
    by_kind["share"] = by_kind["current"] / total if total else 0.0
    first, last, events, readers = cur.execute(
        "SELECT min(occurred_at), max(occurred_at), count(*), count(DISTINCT reader_hash) "
        "FROM reaction_events"
    ).fetchall()[0]
    return DatabaseSummary(
        articles=int(scalar(cur, "SELECT count(*) FROM articles")),
        events=int(events),
        current_reactions=total,
        readers=int(readers),
        first_event=pd.Timestamp(first) if first is not None else None,
        last_event=pd.Timestamp(last) if last is not None else None,
        by_kind=by_kind,
        views=int(scalar(cur, "SELECT coalesce(sum(views), 0) FROM view_counts")),
    )


def known_values(cur: duckdb.DuckDBPyConnection) -> Known:
    topics, authors, tags, kinds = cur.execute(
        """
        SELECT (SELECT coalesce(list(DISTINCT topic), []) FROM articles),
               (SELECT coalesce(list(DISTINCT author), []) FROM articles WHERE author <> ''),
               (SELECT coalesce(list(DISTINCT t), []) FROM (SELECT unnest(tags) AS t FROM articles)),
               (SELECT coalesce(list(kind_id), []) FROM reaction_kinds)
        """
    ).fetchall()[0]
    return Known(frozenset(topics), frozenset(authors), frozenset(tags), frozenset(kinds))
